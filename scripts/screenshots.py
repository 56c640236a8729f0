"""Regenerate screenshots/*.svg (120×36) from the deterministic demo pool: `make screenshots`
(or `python scripts/screenshots.py NAME...` for some of them).

Runs headless, in a throw-away working directory so the paths shown are short and stable.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DirectoryTree

from dstui.api.fake_pool import FakePool, frozen_clock
from dstui.tui.app import DstuiApp
from dstui.tui.pool_directory import demo_directory
from dstui.tui.settings import AppSettings

SIZE = (120, 36)
OUT = Path(__file__).resolve().parents[1] / "screenshots"

Steps = Callable[[Pilot[Any]], Awaitable[None]]


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(2):
        pending = [w for w in pilot.app.workers if not isinstance(w.node, DirectoryTree)]
        if pending:
            await pilot.app.workers.wait_for_complete(pending)
        await pilot.pause()


def press(*keys: str) -> Steps:
    async def steps(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return steps


def run(code: str, *, asynchronous: bool = False) -> Steps:
    async def steps(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        app = pilot.app
        assert isinstance(app, DstuiApp)
        app.main_screen.code.editor.text = code
        if asynchronous:
            await pilot.press("f6")
        await pilot.press("ctrl+r")
        await settle(pilot)

    return steps


SHOTS: dict[str, tuple[Steps, dict[str, Any]]] = {
    "sessions": (settle, {}),
    "run": (run("import sys\nprint('hello from', 'demo')\n{'rows': 3, 'ok': True}"), {}),
    "run-error": (run("1/0"), {}),
    "files": (press("4"), {}),
    "upload": (press("4", "u"), {}),
    "delete-confirm": (press("space", "space", "ctrl+d"), {}),
    "pool-metadata": (press("2", "m"), {}),
    "help": (press("question_mark"), {}),
    "light-theme": (press("4"), {"theme": "dstui-light"}),
    # The demo's five pools behind a fake ARM (P, then A for every pool's sessions).
    "pool-picker": (press("P"), {"pools": True}),
    "across-pools": (press("P", "A"), {"pools": True}),
}


async def shoot(name: str, steps: Steps, theme: str | None, pools: bool = False) -> None:
    settings = AppSettings(
        pool_label="demo pool — fake data",
        identity="auth token",
        theme=theme,
        download_dir=Path("downloads"),
        data_dir=Path("data"),
        upload_start_dir=Path("upload-src"),
        clock=frozen_clock,
        test_mode=True,
        arm=pools,
    )
    app = DstuiApp(FakePool(), settings, demo_directory(frozen_clock) if pools else None)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await steps(pilot)
        app.save_screenshot(filename=f"{name}.svg", path=str(OUT))


async def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dstui-shots-") as work:
        os.chdir(work)
        (Path("upload-src") / "notes").mkdir(parents=True)
        Path("upload-src/hello.txt").write_text("hello from the laptop\n", encoding="utf-8")
        wanted = sys.argv[1:] or list(SHOTS)  # `screenshots.py pool-picker` redoes one
        for name, (steps, options) in SHOTS.items():
            if name not in wanted:
                continue
            await shoot(name, steps, options.get("theme"), bool(options.get("pools")))
            print(f"screenshots/{name}.svg")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
