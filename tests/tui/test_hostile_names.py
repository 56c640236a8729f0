"""Names from a listing with terminal escapes, line breaks or bidi overrides are shown escaped
in the sessions and files tables and in messages (issue 10), through one shared helper."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dstui.api.fake_pool import FakePool
from dstui.api.models import RemoteFile, SessionPage
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, settle

EVIL_ID = "evil\x1b[31m\u202eid"
EVIL_FILE = "\x1b]0;owned\x07two\nlines.txt"


class HostileNames(FakePool):
    def __init__(self) -> None:
        super().__init__(session_count=1)

    async def list_sessions_page(
        self, next_link: str | None = None, *, skip: int = 0, management: bool = False
    ) -> SessionPage:
        page = await super().list_sessions_page(next_link, skip=skip, management=management)
        renamed = tuple(replace(s, identifier=EVIL_ID) for s in page.sessions)
        return SessionPage(renamed, None, None)

    async def list_files(
        self, identifier: str, *, path: str = "", recursive: bool = False
    ) -> list[RemoteFile]:
        return [RemoteFile.from_json({"name": EVIL_FILE, "type": "File", "sizeInBytes": 1})]


async def test_control_characters_in_listed_names_are_shown_escaped(make_app: AppFactory) -> None:
    app = make_app(HostileNames())
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("4")
        await settle(pilot)
        assert screen.files.entries  # listed
        app.notify(f"Saved {EVIL_FILE}")
        await settle(pilot)
        shot = app.export_screenshot()
    for raw in ("\x1b", "\u202e", "\x07"):
        assert raw not in shot
    assert "evil\\x1b[31m\\u202eid" in shot
    assert "\\x1b]0;owned\\x07two\\nlines.txt" in shot
    assert any("Saved \\x1b]0;owned" in entry.text for entry in app.messages)


async def test_a_download_of_a_hostile_name_is_saved_under_a_safe_local_name(
    make_app: AppFactory, workdir: Path
) -> None:
    pool = FakePool(session_count=1)
    app = make_app(pool)
    source = workdir / "payload.txt"
    source.write_text("y\n")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.selected is not None
        await pool.upload_file(screen.selected, source, remote_name=EVIL_FILE)
        await pilot.press("4", "r")
        await settle(pilot)
        files = screen.files
        files.table.move_cursor(row=files.table.get_row_index(EVIL_FILE))
        await pilot.press("d")
        await settle(pilot)
    saved = [p.name for p in (workdir / "downloads").iterdir()]
    assert saved == ["_]0;owned_two_lines.txt"]
