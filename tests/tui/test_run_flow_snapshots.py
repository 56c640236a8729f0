"""Snapshots of the run flow: the empty editor, the run target during a run, the question
before re-creating a session, an honest cancel, estimated expiry, and the editor's keys."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from dstui.api.fake_pool import FakePool, demo_identifier
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, presses, run_snippet, settle

SMALL = (80, 24)
WIDE = (120, 36)
LARGE = (140, 45)
EXPIRED = demo_identifier(16)


def test_empty_editor_with_placeholder(snap_compare: Any, make_app: AppFactory) -> None:
    """`3` at 80×24: the editor is empty, the sample is a dimmed placeholder."""
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=presses("3"))


def test_first_keys_run(snap_compare: Any, make_app: AppFactory) -> None:
    """A new user's first keys: `3`, `print(42)`, ctrl+r — the result names session and run."""
    assert snap_compare(
        make_app(), terminal_size=SMALL, run_before=presses("3", tuple("print(42)"), "ctrl+r")
    )


def test_target_held_while_a_run_is_in_flight(snap_compare: Any, make_app: AppFactory) -> None:
    """The cursor moved on during a run: the crumb still names the running session, and the
    row under the cursor shows no one else's output."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        main_screen(pilot.app).code.editor.text = "import time; time.sleep(5); print('x')"
        await pilot.press("ctrl+r")
        await pilot.pause(0.05)
        await pilot.press("down")
        await pilot.pause(0.05)

    assert snap_compare(make_app(FakePool(latency=30)), terminal_size=WIDE, run_before=run_before)


def test_expired_session_asks_before_a_run(snap_compare: Any, make_app: AppFactory) -> None:
    """ctrl+r on an expired row asks before a new, empty session takes its identifier."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = main_screen(pilot.app)
        screen.sessions.move_to(EXPIRED)
        await settle(pilot)
        screen.code.editor.text = "print(1)"
        await pilot.press("ctrl+r")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_stopped_waiting(snap_compare: Any, make_app: AppFactory) -> None:
    """f4 during an async run: says it only stopped waiting, and how to fetch the result."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        main_screen(pilot.app).code.editor.text = "print(7)"
        await pilot.press("f6", "ctrl+r")
        await pilot.pause(0.45)
        await pilot.press("f4")
        await settle(pilot)

    assert snap_compare(make_app(FakePool(latency=0.3)), terminal_size=WIDE, run_before=run_before)


def test_estimated_expiry_after_a_run(snap_compare: Any, make_app: AppFactory) -> None:
    """After a run at 140×45: last access and expiry move, marked estimated; the cooldown."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await run_snippet(pilot, "print('hello', 42)")

    assert snap_compare(make_app(), terminal_size=LARGE, run_before=run_before)


def test_help_lists_the_editor_keys(snap_compare: Any, make_app: AppFactory) -> None:
    """`?` from the Code pane: every editor key, f7 select-all and ctrl+a included."""
    assert snap_compare(
        make_app(), terminal_size=LARGE, run_before=presses("3", "escape", "question_mark")
    )
