"""Pane keys (Files j/k/g/G, enter drills in, zoom and its hint, read-only flashes, palette
keys), the bulk-delete confirmation, downloads (save as, keep both), previews (end,
follow) and the identifier dialog's message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.command import CommandPalette
from textual.widgets import Input, Static

from dstui.api.fake_pool import FakePool
from dstui.tui.palette import MainScreenCommands
from dstui.tui.screens.file_dialogs import ClashModal, PreviewModal, SaveAsModal
from dstui.tui.screens.modals import ConfirmModal
from dstui.tui.widgets.files_pane import shown_type
from dstui.tui.widgets.footer import KeysFooter
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, settle

SIZE = (120, 36)


def last_message(app: Any) -> str:
    return list(app._notifications)[-1].message


async def open_files(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)


async def test_files_move_with_j_k_g_G_and_home(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot)
        table = main_screen(app).files.table
        assert table.cursor_row == 0
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("j", "home")
        assert table.cursor_row == 0


async def test_enter_on_a_session_row_opens_its_files(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)
        screen = main_screen(app)
        assert app.focused is screen.files.table
        assert ("list_files", "agent-chat-00001") in pool.calls


async def test_z_zooms_right_after_m_and_says_how_to_leave(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2", "m")
        await settle(pilot)
        await pilot.press("z")
        await settle(pilot)
        screen = main_screen(app)
        assert screen.maximized is screen.metadata
        assert "z or esc restores" in str(screen.metadata.border_subtitle)
        footer = screen.query_one(KeysFooter)
        assert footer.display and "Unzoom" in str(footer.render())
        await pilot.press("escape")
        await settle(pilot)
        assert screen.maximized is None and not screen.metadata.border_subtitle


async def test_read_only_keys_say_why_they_do_nothing(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert last_message(app) == "read-only: new sessions disabled"
        await pilot.press("ctrl+d")
        assert last_message(app) == "read-only: session delete disabled"
        await open_files(pilot)
        await pilot.press("u")
        assert last_message(app) == "read-only: upload disabled"
        await pilot.press("ctrl+d")
        assert last_message(app) == "read-only: file delete disabled"
        assert not any(name.startswith(("upload", "delete")) for name, _ in pool.calls)


async def test_interrupt_says_it_needs_the_embedded_emulator(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)  # a pool given by endpoint: the service has no interrupt call
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        assert last_message(app).startswith("interrupt: only with the embedded emulator")
        assert not any(name == "interrupt_kernel" for name, _ in pool.calls)


async def test_the_palette_shows_each_commands_keys(make_app: AppFactory) -> None:
    app = make_app(keymap={"delete-session": "ctrl+x"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        helps = {title: text for title, _cb, text in MainScreenCommands(app.screen)._available()}
        assert helps["Refresh sessions"].startswith("r (Sessions) · ")
        assert helps["Delete selected or marked sessions ↻"].startswith("^x (Sessions)")
        assert helps["Zoom focused pane"].startswith("z · ")
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)


async def test_bulk_delete_names_the_sessions_and_explains_a_wrong_count(
    make_app: AppFactory,
) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*["space"] * 7, "ctrl+d")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert (
            "etl-nightly-00000, agent-chat-00001, notebook-00002, ci-probe-00003, "
            "report-gen-00004 and 2 more" in modal.message
        )
        await pilot.press("2", "enter")
        await settle(pilot)
        error = str(modal.query_one("#confirm-error", Static).render())
        assert "'2' is not 7" in error and "the number of marked sessions" in error
        assert app.screen is modal
        assert not any(name == "delete_session" for name, _ in pool.calls)


async def test_identifier_dialog_names_a_refused_space_and_the_allowed_characters(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("o", *"my probe", "enter")
        await settle(pilot)
        text = str(app.screen.query_one("#identifier-error", Static).render())
        assert "Not allowed in an identifier: space." in text
        assert "letters, digits and" in text


async def test_a_download_clash_offers_keep_both(make_app: AppFactory, workdir: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot)
        files = main_screen(app).files
        files.table.move_cursor(row=files.table.get_row_index("data.csv"))
        existing = workdir / "downloads" / "data.csv"
        existing.parent.mkdir(parents=True)
        existing.write_text("mine\n")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ClashModal)
        await pilot.click("#keep-both")
        await settle(pilot)
        assert existing.read_text() == "mine\n"
        assert (workdir / "downloads" / "data (1).csv").read_text().startswith("region,")


async def test_save_as_downloads_under_another_name(make_app: AppFactory, workdir: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot)
        files = main_screen(app).files
        files.table.move_cursor(row=files.table.get_row_index("data.csv"))
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, SaveAsModal)
        field = app.screen.query_one("#save-as-path", Input)
        field.value = "renamed.csv"
        await pilot.press("enter")
        await settle(pilot)
        assert (workdir / "downloads" / "renamed.csv").is_file()


async def test_a_text_preview_offers_its_end(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot)
        files = main_screen(app).files
        files.table.move_cursor(row=files.table.get_row_index("data.csv"))
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PreviewModal)
        reads = [name for name, _ in pool.calls].count("read_file")
        await pilot.press("t")
        await settle(pilot)
        body = str(app.screen.query_one("#text-body", Static).render())
        assert "✂ the last" in body
        assert [name for name, _ in pool.calls].count("read_file") == reads + 1


async def test_files_type_column_uses_the_width_there_is(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        await open_files(pilot)
        table = main_screen(app).files.table
        type_column = table.columns[next(k for k in table.columns if k.value == "type")]
        longest = max(len(shown_type(f)) for f in main_screen(app).files.entries.values())
        assert type_column.width >= min(longest, 32) and longest == len("application/octet-stream")


async def test_a_text_preview_can_follow_the_file(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot)
        files = main_screen(app).files
        files.table.move_cursor(row=files.table.get_row_index("data.csv"))
        await pilot.press("p")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, PreviewModal)
        await pilot.press("f")
        await settle(pilot)
        assert modal.following and modal._timer is not None
        assert "f stops following" in str(modal.query_one("#preview-dialog").border_subtitle)
        await pilot.press("f")
        assert not modal.following and modal._timer is None
