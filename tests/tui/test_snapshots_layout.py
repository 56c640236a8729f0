"""Snapshots of the layouts and dialogs of issue 14: 80×24 laid out for running code and
reading output, the pool metadata at 80×24 and zoomed at 140×45, the message log, a bulk
delete that names its sessions, and a zoomed pane that says how to leave.

Plain `def` tests (snap_compare runs its own event loop)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from dstui.api.errors import PermissionDeniedError
from dstui.api.fake_pool import FakePool
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, presses, run_snippet, settle

SMALL = (80, 24)
LARGE = (140, 45)
WIDE = (120, 36)


def denied() -> PermissionDeniedError:
    return PermissionDeniedError(
        "list sessions failed: HTTP 403 PermissionDenied",
        status=403,
        code="PermissionDenied",
        request_id="3f1d2c4b-0000-4000-8000-1234567890ab",
        operation_id="op-77aa",
    )


class TestSmallTerminal:
    def test_code_and_output(self, snap_compare: Any, make_app: AppFactory) -> None:
        """80×24, `3` and a run: the editor and the output share the pane, no borders."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("3")
            await run_snippet(pilot, "for i in range(3):\n    print('line', i)\nsum(range(10))\n")

        assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)

    def test_pool_metadata(self, snap_compare: Any, make_app: AppFactory) -> None:
        """80×24, `2 m`: runtimes, kernel and api-version rows are on screen."""
        assert snap_compare(make_app(), terminal_size=SMALL, run_before=presses("2", "m"))

    def test_footer_keeps_zoom_new_open_quit(self, snap_compare: Any, make_app: AppFactory) -> None:
        """80×24 sessions: the footer drops pane keys first and keeps z n o e ? q."""
        assert snap_compare(make_app(), terminal_size=SMALL, run_before=settle)


class TestLargeTerminal:
    def test_zoomed_pool_metadata(self, snap_compare: Any, make_app: AppFactory) -> None:
        """140×45, `2 m z`: the package table follows the details, with no gap above it,
        and the zoomed pane says how to leave."""
        assert snap_compare(make_app(), terminal_size=LARGE, run_before=presses("2", "m", "z"))

    def test_files_columns(self, snap_compare: Any, make_app: AppFactory) -> None:
        """140×45 Files: the type column is as wide as its longest value."""
        assert snap_compare(make_app(), terminal_size=LARGE, run_before=presses("4"))


class TestMessages:
    def test_failed_listing_points_at_the_log(
        self, snap_compare: Any, make_app: AppFactory
    ) -> None:
        """A 403 pool: the empty pane says where the error went; the status bar too."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            pilot.app.clear_notifications()
            await pilot.pause()

        pool = FakePool(failures={"list_sessions_page": denied()})
        assert snap_compare(make_app(pool), terminal_size=WIDE, run_before=run_before)

    def test_message_log(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`e`: the full error with its hint, status, code and both ids."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            pilot.app.clear_notifications()
            await pilot.press("e")
            await settle(pilot)

        pool = FakePool(failures={"list_sessions_page": denied()})
        assert snap_compare(make_app(pool), terminal_size=WIDE, run_before=run_before)


class TestDialogs:
    def test_bulk_delete_wrong_count(self, snap_compare: Any, make_app: AppFactory) -> None:
        """Seven marked: the first five are named, then "and 2 more"; `2 enter` says why
        nothing happened."""
        keys = ("space",) * 7 + ("ctrl+d",)
        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=presses(keys, ("2", "enter"))
        )

    def test_identifier_with_a_space(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`o`, "my probe": the refused space is named, and the allowed characters listed."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("o", *"my probe", "enter")
            await settle(pilot)
            main_screen(pilot.app)

        assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)
