"""Pilot tests of the app's behaviour against the deterministic demo pool."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.app import App
from textual.widgets import Button, Input

from dstui.api.errors import PermissionDeniedError, ServerError, TransportError
from dstui.api.fake_pool import DEMO_NOW, FakePool
from dstui.recording.run_history import RunHistory
from dstui.tui.palette import MainScreenCommands
from dstui.tui.screens.file_dialogs import ClashModal, UploadModal
from dstui.tui.screens.modals import ConfirmModal
from dstui.tui.widgets.chrome import TopBar
from tests.tui.conftest import FIXED_NEW_IDENTIFIER, AppFactory, build_app
from tests.tui.pilot_helpers import main_screen, run_snippet, settle

SIZE = (120, 36)


def session_calls(pool: FakePool) -> list[tuple[str, str | None]]:
    return [call for call in pool.calls if call[1] is not None]


async def test_editor_highlights_python(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = main_screen(app).code.editor
        assert editor.language == "python"
        assert editor.theme == "css"
        assert editor._highlight_query is not None


async def test_run_keys_work_while_typing_in_the_editor(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        code = main_screen(app).code
        assert app.focused is code.editor
        code.editor.text = "print(1)"
        await pilot.press("f6")  # the editor's own f6 would select the line instead
        assert code.asynchronous
        await pilot.press("f5")
        await settle(pilot)
        assert ("start_execution", "etl-nightly-00000") in pool.calls
        assert code.editor.text == "print(1)"
        assert app.focused is code.editor


async def test_selecting_rows_sends_nothing_that_names_a_session(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(8):
            await pilot.press("down")
        await pilot.press("2", "1", "3", "escape")
        await settle(pilot)
        assert main_screen(app).selected == "notebook-00008"
        assert session_calls(pool) == []
        assert {name for name, _ in pool.calls} == {"list_sessions_page"}


async def test_files_are_listed_only_when_the_pane_is_opened(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert session_calls(pool) == []
        await pilot.press("4")
        await settle(pilot)
        assert session_calls(pool) == [("list_files", "etl-nightly-00000")]
        names = set(main_screen(app).files.entries)
        assert {"data.csv", "outputs", "model.bin", "weird name [v2] (1).txt"} <= names


async def test_file_keys_say_why_they_did_nothing(make_app: AppFactory) -> None:
    def last_message(app: App[int]) -> str:
        return list(app._notifications)[-1].message

    empty = make_app(FakePool(session_count=0))
    async with empty.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4", "d")
        assert last_message(empty) == "Select a session first (or press n for a new one)."
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        files = main_screen(app).files
        files.table.move_cursor(row=files.table.get_row_index("outputs"))
        await pilot.press("d")
        assert last_message(app) == "That is a directory: enter opens it."
        await pilot.press("enter")
        await settle(pilot)
        files.table.move_cursor(row=0)  # the parent entry
        await pilot.press("p")
        assert last_message(app) == "That is a directory: enter opens it."
        assert not any(name in ("read_file", "download_file") for name, _ in pool.calls)


async def test_pages_load_as_the_cursor_nears_the_end(make_app: AppFactory) -> None:
    pool = FakePool(session_count=700)
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.sessions.table.row_count == 300
        assert screen.next_link is not None
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert screen.sessions.table.row_count == 600
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert screen.sessions.table.row_count == 700
        assert screen.next_link is None
        pages = len(pool.calls)
        await pilot.press("ctrl+end", "ctrl+l")
        await settle(pilot)
        assert len(pool.calls) == pages
        assert "700 loaded · all" in str(screen.query_one("#sessions-summary").render())


async def test_an_empty_pool_says_so_and_how_to_start_a_session(make_app: AppFactory) -> None:
    for read_only, expected in (
        (False, "the pool has no sessions · n starts one"),
        (True, "the pool has no sessions"),
    ):
        app = make_app(FakePool(session_count=0), read_only=read_only)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            summary = str(main_screen(app).query_one("#sessions-summary").render())
            assert summary.strip() == expected
            if not read_only:
                await pilot.press("n", "enter")
                await settle(pilot)
                summary = str(main_screen(app).query_one("#sessions-summary").render())
                assert summary.strip() == "0 loaded · all · 1 new"


async def test_refresh_keeps_the_cursor_on_the_same_session(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "down")
        screen = main_screen(app)
        before = screen.sessions.highlighted_identifier()
        await pilot.press("r")
        await settle(pilot)
        assert screen.sessions.highlighted_identifier() == before == "lab-00005"


async def test_refresh_shows_the_selected_sessions_new_metadata(make_app: AppFactory) -> None:
    # One row: the cursor stays put through the refresh, so no highlight event redraws it.
    app = make_app(FakePool(session_count=1))
    async with app.run_test(size=SIZE) as pilot:
        await run_snippet(pilot, "print(1)")  # touches etl-nightly-00000 on the pool
        metadata = main_screen(app).metadata
        assert metadata.session is not None
        assert metadata.session.identifier == "etl-nightly-00000"
        # Estimated from the run's answer (the list said DEMO_NOW - 5 s) until a listing.
        assert metadata.session.last_accessed_at == DEMO_NOW
        assert "etl-nightly-00000" in metadata.estimates
        await pilot.press("1", "r")
        await settle(pilot)
        assert metadata.session.identifier == "etl-nightly-00000"
        assert metadata.session.last_accessed_at == DEMO_NOW
        assert "etl-nightly-00000" not in metadata.estimates


async def test_filter_then_escape_restores_all_rows(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"lab", "enter")
        await pilot.pause(0.3)
        table = main_screen(app).sessions.table
        identifiers = table.row_keys()
        assert identifiers and all("lab" in i for i in identifiers)
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 40


async def test_read_only_removes_changing_actions(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        keys = set(screen.active_bindings)
        assert "ctrl+r" not in keys and "ctrl+d" not in keys and "n" not in keys
        await pilot.press("ctrl+r", "f5", "ctrl+d", "n")
        await settle(pilot)
        assert app.screen is screen
        assert session_calls(pool) == []
        titles = [title for title, _, _ in MainScreenCommands(screen)._available()]
        assert "Run code ↻" not in titles and "Upload file ↻" not in titles
        assert "Refresh sessions" in titles


async def test_read_only_never_creates_a_session_by_listing_its_files(
    make_app: AppFactory,
) -> None:
    pool = FakePool()
    app = make_app(pool, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o", *"not-there-yet", "enter")
        await settle(pilot)
        screen = main_screen(app)
        assert screen.selected == "not-there-yet"
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert ("list_files", "not-there-yet") not in pool.calls
        assert pool._lookup("not-there-yet") is None
        note = str(screen.files.query_one("#files-note").render())
        assert note.startswith("read-only: not listing files")
        # A session the pool has is listed as usual: reading does not create anything.
        await pilot.press("1", "down")  # the opened identifier sits above the listed rows
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert ("list_files", "etl-nightly-00000") in pool.calls


async def test_keymap_from_config_remaps_a_binding(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool, keymap={"refresh-sessions": "f9"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = len(pool.calls)
        await pilot.press("r")
        await settle(pilot)
        assert len(pool.calls) == before
        await pilot.press("f9")
        await settle(pilot)
        assert len(pool.calls) == before + 1


async def test_runs_are_kept_across_restarts_and_can_be_recalled(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main_screen(app).code.editor.text = "print('first')"
        await pilot.press("ctrl+r")
        await settle(pilot)
    runs = RunHistory(Path("data") / "history").runs("etl-nightly-00000")
    assert [(r.code, r.status, r.stdout) for r in runs] == [
        ("print('first')", "Succeeded", "first\n")
    ]

    second = make_app(FakePool())
    async with second.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(second)
        screen.code.editor.text = ""
        await pilot.press("3", "escape", "f3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.code.editor.text == "print('first')"
        assert "first" in str(screen.query_one("#output").render())


async def test_marked_delete_needs_the_count_typed(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "ctrl+d")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        await pilot.press("3")
        assert modal.query_one("#confirm", Button).disabled
        await pilot.press("backspace", "2")
        assert not modal.query_one("#confirm", Button).disabled
        await pilot.press("enter")
        await settle(pilot)
        assert session_calls(pool) == [  # in list order, as the confirmation names them
            ("delete_session", "etl-nightly-00000"),
            ("delete_session", "agent-chat-00001"),
        ]
        assert main_screen(app).sessions.table.row_count == 38


async def test_delete_defaults_to_cancel(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("enter")
        await settle(pilot)
        assert session_calls(pool) == []
        assert main_screen(app).sessions.table.row_count == 40


async def test_new_session_is_created_by_its_first_request(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", "enter")
        await settle(pilot)
        screen = main_screen(app)
        assert screen.selected == FIXED_NEW_IDENTIFIER
        row = screen.sessions.session(FIXED_NEW_IDENTIFIER)
        assert row is not None and row.local
        assert session_calls(pool) == []
        screen.code.editor.text = "print(1)"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert ("start_execution", FIXED_NEW_IDENTIFIER) in pool.calls
        # The run created it: its real metadata is fetched without a refresh of the list.
        assert session_calls(pool)[-1] == ("get_session", FIXED_NEW_IDENTIFIER)
        row = screen.sessions.session(FIXED_NEW_IDENTIFIER)
        assert row is not None and not row.local and row.session.created_at is not None
        assert "GET /session" in screen.metadata.source
        assert screen.sessions.summary_for_header().startswith("41 sessions loaded")


async def test_one_binding_id_remaps_the_key_in_every_pane(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool, keymap={"fetch-session": "f8"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for pane in ("1", "2"):
            await pilot.press(pane)
            await settle(pilot)
            before = len(session_calls(pool))
            await pilot.press("i")
            await settle(pilot)
            assert len(session_calls(pool)) == before
            await pilot.press("f8")
            await settle(pilot)
            assert session_calls(pool)[-1][0] == "get_session"


async def test_upload_refuses_files_over_the_limit(make_app: AppFactory, workdir: Path) -> None:
    big = workdir / "big.bin"
    big.write_bytes(b"x" * 2048)
    app = make_app()
    results: list[Path | None] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(UploadModal(workdir, 1024, "/mnt/data"), results.append)
        await pilot.pause()
        modal = app.screen
        modal.query_one("#upload-path", Input).value = str(big)
        await pilot.press("enter")
        await pilot.pause()
        assert results == []
        assert "at most 1.0 KiB" in str(modal.query_one("#upload-error").render())


async def test_a_failed_upload_relists_the_files_and_is_offered_again(
    make_app: AppFactory, workdir: Path
) -> None:
    lost = TransportError("upload file: the answer broke off mid-way", hint="may have landed")
    pool = FakePool(failures={"upload_file": lost})
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        listings = session_calls(pool).count(("list_files", "etl-nightly-00000"))
        await pilot.press("u", *"hello.txt", "enter")
        await settle(pilot)
        assert "Uploading hello.txt failed" in main_screen(app).status.error
        calls = session_calls(pool)
        assert calls.count(("list_files", "etl-nightly-00000")) == listings + 1
        assert calls[-1] == ("list_files", "etl-nightly-00000")
        # Nothing to type twice: the next dialog offers the same file.
        pool.failures.clear()
        await pilot.press("u")
        await pilot.pause()
        field = app.screen.query_one("#upload-path", Input)
        assert field.value == str(workdir / "upload-src" / "hello.txt")
        await pilot.press("enter")
        await settle(pilot)
        assert "hello.txt" in main_screen(app).files.entries
        await pilot.press("u")
        await pilot.pause()
        assert app.screen.query_one("#upload-path", Input).value == ""


async def test_download_never_replaces_a_file_without_asking(
    make_app: AppFactory, workdir: Path
) -> None:
    target = workdir / "downloads" / "analysis.py"
    target.parent.mkdir()
    target.write_text("mine\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("down", "down", "d")
        await settle(pilot)
        assert isinstance(app.screen, ClashModal)
        await pilot.press("escape")
        await settle(pilot)
        assert target.read_text() == "mine\n"
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#overwrite")
        await settle(pilot)
        assert target.read_text().startswith("import pandas")
        assert not list(target.parent.glob("*.part"))


async def test_errors_are_shown_literally_and_the_app_stays_up(make_app: AppFactory) -> None:
    error = PermissionDeniedError("list failed: HTTP 403 [bold red]nope[/]", status=403)
    app = make_app(FakePool(failures={"list_sessions_page": error}))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("[bold red]nope[/]" in m and "Session Executor" in m for m in messages)
        assert all(not n.markup for n in app._notifications if "nope" in n.message)
        assert "[bold red]nope[/]" in main_screen(app).status.error
        assert app.is_running


async def test_status_error_is_stamped_and_cleared_only_by_the_same_kind_of_success(
    make_app: AppFactory,
) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        status = main_screen(app).status
        pool.failures["start_execution"] = ServerError("execute code failed: HTTP 503", status=503)
        await run_snippet(pilot, "print(1)")
        assert status.error.startswith("10:00:00 Run failed: execute code failed: HTTP 503")
        pool.failures = {"list_sessions_page": TransportError("cannot connect to the pool")}
        await pilot.press("r")
        await settle(pilot)
        assert status.error.startswith("10:00:00 Listing sessions failed: cannot connect")
        pool.failures.clear()
        await run_snippet(pilot, "print(1)")  # a run's success says nothing about the list
        assert "Listing sessions failed" in status.error
        await pilot.press("r")
        await settle(pilot)
        assert status.error == ""


async def test_unexpected_worker_exception_is_reported_not_fatal(make_app: AppFactory) -> None:
    app = make_app(FakePool(failures={"list_files": RuntimeError("kaboom")}))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert any("RuntimeError: kaboom" in n.message for n in app._notifications)
        assert app.is_running


async def test_countdown_follows_the_injected_clock(workdir: Path) -> None:
    now = [DEMO_NOW]
    app = build_app(clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        table = screen.sessions.table
        assert table.get_cell("etl-nightly-00000", "expires") == "4m55s"
        now[0] = DEMO_NOW + timedelta(seconds=60)
        screen.tick()
        assert table.get_cell("etl-nightly-00000", "expires") == "3m55s"
        now[0] = DEMO_NOW + timedelta(seconds=400)
        screen.tick()
        assert table.get_cell("etl-nightly-00000", "expires") == "expired"


async def test_async_run_can_be_cancelled(make_app: AppFactory) -> None:
    pool = FakePool(latency=0.3)
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.code.editor.text = "print(1)"
        await pilot.press("f6", "ctrl+r")
        await pilot.pause(0.1)
        await pilot.press("f4")
        await settle(pilot)
        shown = str(screen.query_one("#output").render())
        assert "Stopped waiting" in shown and "no cancel call" in shown
        assert app.is_running


async def test_timeout_outside_1_to_220_is_refused(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.query_one("#timeout", Input).value = "500"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert session_calls(pool) == []
        assert any("1–220" in n.message for n in app._notifications)


async def test_small_terminal_shows_one_pane_at_a_time(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.has_class("-narrow")
        assert screen.sessions.display and screen.sessions.region.width > 0
        await pilot.press("3")
        await settle(pilot)
        assert screen.code.region.width > 0
        assert screen.sessions.region.width == 0
        assert app.focused is screen.code.editor
        await pilot.press("escape", "tab")
        await settle(pilot)
        assert screen.active_pane == 4


async def test_auto_refresh_pauses_while_a_modal_is_open(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        before = len(pool.calls)
        await pilot.press("ctrl+d")
        await settle(pilot)
        screen.periodic_refresh()
        await settle(pilot)
        assert len(pool.calls) == before
        await pilot.press("escape")
        await settle(pilot)
        screen.periodic_refresh()
        await settle(pilot)
        assert len(pool.calls) == before + 1


async def test_quit_key_is_typed_into_the_editor_not_obeyed(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.code.editor.text = ""
        await pilot.press("3", "q")
        await pilot.pause()
        assert app.is_running
        assert screen.code.editor.text == "q"
        await pilot.press("escape", "1", "q")
        await pilot.pause()
        assert not app.is_running


async def test_header_names_the_signed_in_identity_once_known(make_app: AppFactory) -> None:
    app = make_app(FakePool(identity="ada@contoso.com"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        header = app.screen.query_one(TopBar)
        assert header.identity == "ada@contoso.com · auth token"
        assert "ada@contoso.com" in header.render().plain
    anonymous = make_app(FakePool())
    async with anonymous.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert anonymous.screen.query_one(TopBar).identity == "auth token"
