"""Keys that behave the same everywhere (esc leaves fields, bursts, pane keys) and the
message log that keeps every error after its toast has gone."""

from __future__ import annotations

from textual import events
from textual.widgets import Input, OptionList, Static

from dstui.api.errors import PermissionDeniedError
from dstui.api.fake_pool import FakePool
from dstui.tui.screens.modals import MessagesModal
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, settle

SIZE = (120, 36)


def denied() -> PermissionDeniedError:
    return PermissionDeniedError(
        "list sessions failed: HTTP 403 PermissionDenied",
        status=403,
        code="PermissionDenied",
        request_id="req-1234",
        operation_id="op-5678",
    )


async def test_the_message_log_keeps_the_full_error_after_its_toast(
    make_app: AppFactory,
) -> None:
    app = make_app(FakePool(failures={"list_sessions_page": denied()}))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.clear_notifications()  # the toast is gone
        await pilot.press("e")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, MessagesModal)
        entry = modal.entries[0]
        assert entry.request_id == "req-1234" and entry.operation_id == "op-5678"
        assert "Session Executor" in entry.hint
        await pilot.press("c")
        copied = app.clipboard
        assert "request id: req-1234" in copied and "operation id: op-5678" in copied
        assert "hint: Your identity needs" in copied
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is main_screen(app)


async def test_an_empty_pane_after_a_failed_listing_points_at_the_messages(
    make_app: AppFactory,
) -> None:
    app = make_app(FakePool(failures={"list_sessions_page": denied()}))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        summary = screen.query_one("#sessions-summary", Static)
        assert "listing failed: see messages (e)" in str(summary.render())
        assert screen.sessions.table.empty_text == "listing failed: see messages (e)"


async def test_the_pool_metadata_after_a_failure_points_at_the_messages(
    make_app: AppFactory,
) -> None:
    app = make_app(FakePool(failures={"get_pool_metadata": denied()}))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2", "m")
        await settle(pilot)
        summary = main_screen(app).query_one("#pool-summary", Static)
        assert "pool metadata failed: see messages (e)" in str(summary.render())


async def test_every_toast_is_kept_in_the_log(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")  # copy the identifier: an information toast
        assert [entry.text for entry in app.messages][-1] == "Copied etl-nightly-00000"


async def test_esc_leaves_the_timeout_field_and_1_then_goes_to_sessions(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        timeout = screen.query_one("#timeout", Input)
        timeout.focus()
        await pilot.pause()
        await pilot.press("escape", "1")
        await settle(pilot)
        assert timeout.value == "60"
        assert app.focused is screen.sessions.table


async def test_esc_leaves_the_package_search_and_pane_keys_work(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2", "m")
        await settle(pilot)
        screen = main_screen(app)
        search = screen.query_one("#package-search", Input)
        search.focus()
        await pilot.pause()
        await pilot.press("escape", "2", "z")
        await settle(pilot)
        assert search.value == ""
        assert screen.maximized is screen.metadata


async def test_3_always_lands_in_the_editor(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.query_one("#timeout", Input).focus()
        await pilot.pause()
        await pilot.press("escape", "1", "3")
        await settle(pilot)
        assert app.focused is screen.code.editor


async def test_esc_and_a_key_in_one_burst_are_two_keys(make_app: AppFactory) -> None:
    """tmux/paste/ssh deliver `esc 1` as ESC 1, which a terminal also sends for alt+1."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("3")
        await settle(pilot)
        before = screen.code.editor.text
        app.post_message(events.Key("alt+1", "1"))
        await settle(pilot)
        assert screen.code.editor.text == before
        assert app.focused is screen.sessions.table


async def test_a_pane_key_and_typing_in_one_burst_type_into_that_pane(
    make_app: AppFactory,
) -> None:
    """`3x` in one read: x went to the table that had the focus when it was forwarded."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        for key in ("3", "x"):
            app.post_message(events.Key(key, key))
        await settle(pilot)
        assert screen.code.editor.text == "x"
        for key in ("3", "1"):  # in a field, digits are typed, not pane keys
            app.post_message(events.Key(key, key))
        await settle(pilot)
        assert screen.code.editor.text == "x31"
        assert app.focused is screen.code.editor


async def test_keys_in_one_burst_are_handled_in_order_narrow(make_app: AppFactory) -> None:
    """`esc 1 j esc 3 x` at once, one pane at a time: j ran after `3` had moved the focus
    (lost), and x landed in the draft of the session before."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("3", "y")
        for key in ("escape", "1", "j", "escape", "3", "x"):
            app.post_message(events.Key(key, "\x1b" if key == "escape" else key))
        await settle(pilot)
        assert screen.selected == "agent-chat-00001"
        assert screen.code.editor.text == "x"
        assert screen.runs.drafts.store.load("etl-nightly-00000") == "y"


def parsed_keys(data: str) -> list[tuple[str, str | None]]:
    import time

    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    keys = list(parser.feed(data))
    time.sleep(0.15)
    keys += list(parser.tick())
    return [(key.key, key.character) for key in keys if isinstance(key, events.Key)]


def test_the_parser_reads_esc_digit_as_two_keys_not_an_option_character(
    make_app: AppFactory,
) -> None:
    make_app()  # the app drops Textual's ESC+digit → `¡` table
    assert parsed_keys("\x1b1") == [("escape", "\x1b"), ("1", "1")]


def test_several_esc_pairs_in_one_burst_type_no_circumflex(make_app: AppFactory) -> None:
    """tmux `send-keys Escape 1 j Escape 3 x`: Textual read on past `ESC 1` and re-issued
    the first ESC as a typed `^` once the next ESC came."""
    make_app()
    assert parsed_keys("\x1b1j\x1b3x\x1b[A") == [
        ("escape", "\x1b"),
        ("1", "1"),
        ("j", "j"),
        ("escape", "\x1b"),
        ("3", "3"),
        ("x", "x"),
        ("up", None),
    ]


async def test_messages_modal_lists_newest_first(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.notify("first")
        app.notify("second")
        await pilot.press("e")
        await settle(pilot)
        options = app.screen.query_one("#messages-list", OptionList)
        assert "second" in str(options.get_option_at_index(0).prompt)


def test_only_alt_with_a_printable_key_is_split() -> None:
    from dstui.tui.key_bursts import split_escape_prefix

    def split(key: str, character: str | None) -> list[str] | None:
        pair = split_escape_prefix(events.Key(key, character))
        return None if pair is None else [k.key for k in pair]

    assert split("alt+1", "1") == ["escape", "1"]
    assert split("alt+shift+g", "G") == ["escape", "G"]
    assert split("alt+question_mark", "?") == ["escape", "question_mark"]
    assert split("alt+backspace", None) is None  # the editor's delete-word stays
    assert split("j", "j") is None
