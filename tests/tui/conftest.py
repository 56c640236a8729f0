"""TUI test helpers: a deterministic app factory and a working directory with fixed paths.

Paths shown on screen (downloads, saved images, the upload browser) are relative to a
temporary working directory so snapshots do not depend on where pytest puts tmp_path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dstui.api.fake_pool import FakePool, frozen_clock
from dstui.tui.app import DstuiApp
from dstui.tui.settings import AppSettings

FIXED_NEW_IDENTIFIER = "dstui-4f1c2a7e-0b9d-4c55-9a51-2f3e8d6b7c10"

AppFactory = Callable[..., DstuiApp]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "upload-src"
    (source / "notes").mkdir(parents=True)
    (source / "hello.txt").write_text("hello from the laptop\n", encoding="utf-8")
    (source / "notes" / "todo.md").write_text("- ship it\n", encoding="utf-8")
    monkeypatch.setattr(
        "dstui.tui.screens.session_actions.new_identifier",
        lambda prefix="dstui": FIXED_NEW_IDENTIFIER,
    )
    yield tmp_path


def build_app(
    pool: Any = None,
    *,
    read_only: bool = False,
    theme: str | None = None,
    keymap: dict[str, str] | None = None,
    extra_theme_dirs: tuple[Path, ...] = (),
    test_mode: bool = True,
    clock: Callable[[], datetime] = frozen_clock,
) -> DstuiApp:
    settings = AppSettings(
        pool_label="demo pool — fake data",
        identity="auth token",
        read_only=read_only,
        theme=theme,
        download_dir=Path("downloads"),
        data_dir=Path("data"),
        keymap=keymap or {},
        upload_start_dir=Path("upload-src"),
        clock=clock,
        test_mode=test_mode,
        extra_theme_dirs=extra_theme_dirs,
    )
    return DstuiApp(pool if pool is not None else FakePool(), settings)


@pytest.fixture
def make_app(workdir: Path) -> AppFactory:
    return build_app
