"""Watch files (w in Files ↻): new and changed files marked; stops on w, on leaving the pane,
and at the session's expiry (Pilot tests on the fake pool, the listing driven by hand)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from dstui.api.fake_pool import DEMO_NOW, FakePool
from dstui.config import ConfigError, load_config
from dstui.tui.app import DstuiApp
from dstui.tui.file_watch import CHANGED, NEW, FileWatch, describe_changes
from dstui.tui.screens.main import MainScreen
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, settle

SIZE = (120, 36)


def note(screen: MainScreen) -> str:
    return str(screen.files.query_one("#files-note").render())


def messages(pilot: Pilot[Any]) -> list[str]:
    return [n.message for n in pilot.app._notifications]


async def watching(pilot: Pilot[Any]) -> MainScreen:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    screen = main_screen(pilot.app)
    assert screen.files.identifier == screen.selected
    await pilot.press("w")
    await settle(pilot)
    assert screen.files_watch.watch is not None
    return screen


async def test_new_and_changed_files_are_marked(make_app: AppFactory, workdir: Path) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await watching(pilot)
        assert "watching every 5 s" in note(screen)
        assert note(screen).endswith(f" · {screen.stamp()}")  # when the last listing was
        identifier = screen.selected
        assert identifier is not None
        fresh = workdir / "fresh.txt"
        fresh.write_text("new\n", encoding="utf-8")
        await pool.upload_file(identifier, fresh)
        bigger = workdir / "data.csv"
        bigger.write_text("region,sales\n" * 20, encoding="utf-8")
        await pool.upload_file(identifier, bigger)
        screen.files_watch.tick()
        await settle(pilot)
        table = screen.files.table
        assert str(table.get_cell("fresh.txt", "name")) == "+ fresh.txt"
        assert str(table.get_cell("data.csv", "name")) == "~ data.csv"
        assert str(table.get_cell("report.md", "name")) == "report.md"
        assert "1 new, 1 changed" in note(screen)
        screen.files_watch.tick()  # nothing happened since: nothing marked
        await settle(pilot)
        assert str(table.get_cell("fresh.txt", "name")) == "fresh.txt"
        assert "no change" in note(screen)
        await pilot.press("w")
        assert screen.files_watch.watch is None
        assert any("w pressed again (after 2 listings)" in m for m in messages(pilot))


async def test_leaving_the_pane_stops_before_any_further_request(
    make_app: AppFactory, workdir: Path
) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await watching(pilot)
        calls = len(pool.calls)
        await pilot.press("1")
        await settle(pilot)
        assert screen.files_watch.watch is None  # at once, not at the next tick
        screen.files_watch.tick()
        await settle(pilot)
        assert len(pool.calls) == calls  # nothing sent
        assert any("Stopped watching files: left the Files pane" in m for m in messages(pilot))


async def test_the_sessions_expiry_stops_the_watch(make_app: AppFactory, workdir: Path) -> None:
    now = [DEMO_NOW]

    def clock() -> datetime:
        return now[0]

    app = make_app(FakePool(), clock=clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await watching(pilot)
        now[0] = DEMO_NOW + timedelta(days=1)
        screen.files_watch.tick()
        await settle(pilot)
        assert screen.files_watch.watch is None
        assert any("the session expired at" in m for m in messages(pilot))


def test_changes_between_listings() -> None:
    from dstui.api.models import RemoteFile

    def f(name: str, size: int) -> RemoteFile:
        return RemoteFile(name, False, size, DEMO_NOW, None)

    watch = FileWatch("s", "")
    watch.baseline([f("a", 1), f("b", 2), f("gone", 3)])
    marks = watch.changes([f("a", 1), f("b", 5), f("c", 1)])
    assert marks == {"b": CHANGED, "c": NEW} and watch.removed == 1
    assert describe_changes(marks, watch.removed) == "1 new, 1 changed, 1 removed"
    assert watch.changes([f("a", 1), f("b", 5), f("c", 1)]) == {}


async def test_the_interval_comes_from_the_config(make_app: AppFactory, workdir: Path) -> None:
    settings = replace(make_app().settings, watch_interval_s=2.5)
    app = DstuiApp(FakePool(), settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await watching(pilot)
        assert "watching every 2.5 s" in note(screen)
        assert any("every 2.5 s ↻" in m for m in messages(pilot))


@pytest.mark.parametrize(
    ("written", "read"), [("", 5.0), ("watch_interval_s = 30", 30.0), ("watch_interval_s = 1", 1.0)]
)
def test_the_config_reads_watch_interval_s(workdir: Path, written: str, read: float) -> None:
    path = workdir / "config.toml"
    path.write_text(f"[tui]\n{written}\n", encoding="utf-8")
    assert load_config(path).tui.watch_interval_s == read


@pytest.mark.parametrize("written", ["0.2", "0", "601", "true"])
def test_a_watch_interval_out_of_bounds_is_named(workdir: Path, written: str) -> None:
    path = workdir / "config.toml"
    path.write_text(f"[tui]\nwatch_interval_s = {written}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert "tui.watch_interval_s" in message and "from 1 to 600" in message
    assert str(path) in message
