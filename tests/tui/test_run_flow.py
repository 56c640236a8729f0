"""The run flow in an operator's hands: the right target, an honest cancel, a true expiry, and
a draft that is never lost (issue 14 items 1–6 and 9; issue 9's empty editor)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual import events

from dstui.api.errors import SessionNotFoundError
from dstui.api.fake_pool import DEMO_NOW, FakePool, demo_identifier
from dstui.tui.screens.main import MainScreen
from dstui.tui.screens.modals import ConfirmModal, TextModal
from dstui.tui.widgets.code_pane import PLACEHOLDER, next_line_indent
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, run_snippet, settle

SIZE = (120, 36)
FIRST = demo_identifier(0)  # etl-nightly-00000
SECOND = demo_identifier(1)
EXPIRED = demo_identifier(16)  # the demo pool's first session past its cooldown


def output_text(screen: MainScreen) -> str:
    return str(screen.query_one("#output").render())


def target_text(screen: MainScreen) -> str:
    return screen.code.target_text


def runs_started(pool: FakePool) -> list[str | None]:
    return [identifier for method, identifier in pool.calls if method == "start_execution"]


# -- 1. the result names its session; output belongs to it; the target is explicit ----------


async def test_each_result_names_its_session_pool_number_and_start(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await run_snippet(pilot, "print(1)")
        screen = main_screen(app)
        first = output_text(screen)
        assert "#1 in etl-nightly-00000 · started 10:00:00" in first
        assert "pool demo-pool" in first
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "#2 in etl-nightly-00000" in output_text(screen)  # not the same block again


async def test_output_stays_with_its_session_and_the_target_is_held_during_a_run(
    make_app: AppFactory,
) -> None:
    pool = FakePool(latency=1.0)
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.code.editor.text = "print('from the first')"
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)  # the running line comes after 0.2 s
        assert "running #1 in etl-nightly-00000" in output_text(screen)
        await pilot.press("down")  # the cursor moves on while the run is in flight
        await pilot.pause()
        assert screen.selected == SECOND
        assert "▶ running in etl-nightly-00000" in target_text(screen)
        assert "No run in this session yet." in output_text(screen)
        await pilot.press("ctrl+r")  # refused: it would silently target another session
        await settle(pilot)
        assert runs_started(pool) == [FIRST]
        assert "No run in this session yet." in output_text(screen)  # the result went to its row
        assert "in flight" not in output_text(screen)  # the note left with the run
        assert f"run in {SECOND}" in target_text(screen)
        await pilot.press("up")
        await settle(pilot)
        assert "from the first" in output_text(screen)
        assert "Succeeded #1 in etl-nightly-00000" in output_text(screen)
        messages = [n.message for n in app._notifications]
        assert any("Run #1 in etl-nightly-00000: Succeeded" in m for m in messages)


# -- 2. no silent re-creation ------------------------------------------------------------


async def test_running_in_an_expired_session_asks_first(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.sessions.move_to(EXPIRED)
        await settle(pilot)
        screen.code.editor.text = "print(1)"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "expired at 09:59:30 UTC" in app.screen.message
        assert "creates a new, empty session with the same identifier" in app.screen.message
        await pilot.press("escape")
        await settle(pilot)
        assert runs_started(pool) == []
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert runs_started(pool) == [EXPIRED]


async def test_opening_files_of_a_deleted_session_asks_first(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("ctrl+d", "y")
        await settle(pilot)
        assert screen.sessions.session(FIRST) is None
        screen.sessions.add_local(FIRST)  # named again, as `o` or `n` would
        screen.select(FIRST)
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert f"{FIRST} was deleted at 10:00:00 UTC" in app.screen.message
        await pilot.press("escape")
        await settle(pilot)
        assert ("list_files", FIRST) not in pool.calls


async def test_fetching_an_expired_session_says_it_is_gone(make_app: AppFactory) -> None:
    pool = FakePool()
    pool.failures["get_session"] = SessionNotFoundError("gone", status=404)
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.sessions.move_to(EXPIRED)
        await pilot.press("i")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any(f"{EXPIRED} expired at" in m and "creates nothing" in m for m in messages)


# -- 3. the expiry after an action ---------------------------------------------------------


async def test_a_run_moves_last_access_and_expiry_marked_estimated(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        details = str(screen.query_one("#session-details").render())
        assert "cooldown    5m00s" in details and "estimated" not in details
        await run_snippet(pilot, "print(1)")
        row = screen.sessions.session(FIRST)
        assert row is not None
        assert row.session.last_accessed_at == DEMO_NOW
        assert row.session.expires_at == DEMO_NOW + timedelta(seconds=300)
        details = str(screen.query_one("#session-details").render())
        assert "estimated" in details and "the next listing (r) confirms" in details
        await pilot.press("1", "r")
        await settle(pilot)
        assert "estimated" not in str(screen.query_one("#session-details").render())


# -- 4. cancel says what it does; the next run says why it waits; fetch later ---------------


async def test_stopped_run_is_explained_the_next_waits_and_f2_fetches_it(
    make_app: AppFactory,
) -> None:
    pool = FakePool(latency=0.3)
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.code.editor.text = "print(7)"
        await pilot.press("f6", "ctrl+r")
        await pilot.pause(0.45)  # the start was answered; it is being polled
        await pilot.press("f4")
        await settle(pilot)
        shown = output_text(screen)
        assert "Stopped waiting #1" in shown and "the service has no cancel call" in shown
        assert "f2 fetches its result" in shown
        await pilot.press("ctrl+r")
        await pilot.pause(0.45)
        assert "waiting for the previous run in this session (#1, started 10:00:00)" in (
            output_text(screen)
        )
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("f2")
        await pilot.pause(0.25)
        assert "running #2" in output_text(screen) and "fetching its result" in (
            output_text(screen)
        )
        await settle(pilot)
        shown = output_text(screen)
        assert "Succeeded #2" in shown and "Fetched after the wait was stopped." in shown
        assert "7" in shown


async def test_a_stopped_run_stays_fetchable_after_a_later_run(make_app: AppFactory) -> None:
    pool = FakePool(latency=0.3)
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.code.editor.text = "print(7)"
        await pilot.press("f6", "ctrl+r")
        await pilot.pause(0.45)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("ctrl+r")  # #2 runs to its end: the session is free again
        await settle(pilot)
        assert "Succeeded #2" in output_text(screen)
        await pilot.press("ctrl+r")
        await pilot.pause(0.45)
        assert "waiting for the previous run" not in output_text(screen)
        await settle(pilot)
        await pilot.press("f2")  # #1's result is still there to ask for
        await settle(pilot)
        shown = output_text(screen)
        assert "Succeeded #1" in shown and "Fetched after the wait was stopped." in shown


# -- 5. quitting with work in flight ------------------------------------------------------


async def test_quit_asks_only_while_a_run_is_in_flight(make_app: AppFactory) -> None:
    pool = FakePool(latency=2.0)
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.code.editor.text = "print(1)"
        await pilot.press("ctrl+r")
        await pilot.pause(0.05)
        await pilot.press("1", "q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "run #1 in etl-nightly-00000" in app.screen.message
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running
        await pilot.press("q", "y")
        await pilot.pause()
        assert not app.is_running


async def test_quit_with_nothing_in_flight_does_not_ask(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


# -- 6. drafts -------------------------------------------------------------------------


async def test_the_draft_is_kept_per_session_and_across_restarts(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("3", *"x = 1")
        await pilot.press("escape", "1", "down")
        await settle(pilot)
        assert screen.selected == SECOND and screen.code.editor.text == ""
        await pilot.press("up")
        await settle(pilot)
        assert screen.code.editor.text == "x = 1"
        await pilot.press("q")
        await pilot.pause()
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert main_screen(again).code.editor.text == "x = 1"


async def test_loading_an_old_run_keeps_the_draft_one_undo_away(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await run_snippet(pilot, "print('old run')")
        screen = main_screen(app)
        await pilot.press("3", "ctrl+end")
        screen.code.editor.text = ""
        await pilot.press(*"draft = 2")
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.code.editor.text == "print('old run')"
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert screen.code.editor.text == "draft = 2"


# -- 9. the editor -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("for i in range(3):", "    "),
        ("    x = 1", "    "),
        ("    if x:  # a comment", "        "),
        ("        return x", "    "),
        ("print(1)", ""),
    ],
)
def test_next_line_indent(line: str, expected: str) -> None:
    assert next_line_indent(line, 4) == expected


async def test_auto_indent_makes_a_block_that_runs(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", *"for i in range(3):", "enter", *"print(i)")
        assert main_screen(app).code.editor.text == "for i in range(3):\n    print(i)"


async def test_backspace_leaves_the_block_a_whole_level_at_once(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("3", *"for i in range(3):", "enter", *"print(i)", "enter")
        await pilot.press("backspace", *"print('end')")
        await pilot.pause()
        assert screen.code.editor.text == "for i in range(3):\n    print(i)\nprint('end')"
        await pilot.press("backspace", "backspace")  # outside the indentation: one character
        await pilot.pause()
        assert screen.code.editor.text.endswith("\nprint('end")


async def test_help_from_the_editor_lists_every_editor_key(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, TextModal)
        body = str(app.screen.body)
        for key in ("f7", "select all", "ctrl+a / home", "ctrl+z/ctrl+y", "enter"):
            assert key in body


# -- smaller: the empty editor, the first keys, a burst of keys ---------------------------


async def test_the_editor_starts_empty_with_a_placeholder(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = main_screen(app).code.editor
        assert editor.text == ""
        assert PLACEHOLDER in str(editor.placeholder)
        await pilot.press("3", *"print(42)", "ctrl+r")
        await settle(pilot)
        assert editor.text == "print(42)"
        assert "42" in output_text(main_screen(app)).split("stdout", 1)[1]


async def test_a_burst_of_keys_then_ctrl_r_runs_the_whole_buffer(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        # All in the app's queue at once, as from tmux or a paste: no pause between keys.
        for char in "print(5)":
            app.post_message(events.Key(char, char))
        app.post_message(events.Key("ctrl+r", None))
        await settle(pilot)
        shown = output_text(main_screen(app))
        assert "Succeeded" in shown and "5" in shown.split("stdout", 1)[1]


async def test_a_new_session_confirmed_after_its_run_does_not_move_the_cursor(
    make_app: AppFactory,
) -> None:
    pool = FakePool(latency=0.6)
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("n", "enter")
        await settle(pilot)
        created = screen.selected
        assert created is not None and created != FIRST
        screen.code.editor.text = "print(1)"
        await pilot.press("ctrl+r")
        await pilot.pause(0.1)
        await pilot.press("1", "down")
        await pilot.pause()
        assert screen.selected == FIRST
        await settle(pilot)  # the run ends; GET /session confirms the new session
        row = screen.sessions.session(created)
        assert row is not None and not row.local
        assert screen.selected == FIRST
        assert f"run in {FIRST}" in target_text(screen)


async def test_idle_column_moves_with_time_after_a_run(make_app: AppFactory) -> None:
    now = [DEMO_NOW]
    app = make_app(clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        await run_snippet(pilot, "print(1)")
        screen = main_screen(app)
        table = screen.sessions.table
        assert table.get_cell(FIRST, "accessed") == "0s"
        now[0] = DEMO_NOW + timedelta(seconds=42)
        screen.tick()
        assert table.get_cell(FIRST, "accessed") == "42s"
        assert table.get_cell(FIRST, "expires") == "4m18s"
