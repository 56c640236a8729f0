"""Export a session from the TUI: progress, the clash question, a bad name (Pilot, FakePool)."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, Static

from dstui.api.fake_pool import FakePool, demo_identifier
from dstui.api.session_export import ExportResult
from dstui.tui.screens.export import ExportModal, result_text

SESSION = demo_identifier(1)


class ExportHostApp(App[None]):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.results: list[ExportResult | None] = []

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.push_screen(ExportModal(FakePool(), SESSION, self.folder), self.results.append)


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_exports_the_whole_tree_atomically(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"  # the test's HOME is in tmp_path too
    tmp_path.mkdir()
    app = ExportHostApp(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        result = app.results[0]
        assert result is not None and result.path == tmp_path / f"{SESSION}.tar.gz"
        with tarfile.open(result.path) as archive:
            names = archive.getnames()
        assert result.files >= 1 and len(names) == result.files + result.directories
        assert sorted(p.name for p in tmp_path.iterdir()) == [f"{SESSION}.tar.gz"]  # no leftovers
        assert str(result.path) in result_text(result)


async def test_an_existing_archive_is_replaced_only_when_asked_twice(tmp_path: Path) -> None:
    target = tmp_path / f"{SESSION}.tar.gz"
    target.write_bytes(b"old")
    app = ExportHostApp(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        status = str(app.screen.query_one("#export-status", Static).render())
        assert "exists: press enter again to replace it" in status
        assert target.read_bytes() == b"old" and app.results == []
        await pilot.press("enter")
        await settle(pilot)
        assert app.results and tarfile.is_tarfile(target)


async def test_an_unknown_suffix_is_named(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    app = ExportHostApp(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.screen.query_one("#export-path", Input).value = str(tmp_path / "out.rar")
        await pilot.press("enter")
        await settle(pilot)
        status = str(app.screen.query_one("#export-status", Static).render())
        assert ".rar" in status or "suffix" in status or "zip" in status, status
        assert app.results == [] and list(tmp_path.iterdir()) == []
