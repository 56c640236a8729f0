"""Snapshot tests of every workflow and state, rendered from the deterministic demo pool.

Plain `def` tests (snap_compare runs its own event loop). Review failures in
snapshot_report.html; regenerate deliberately with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from dstui.api.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    TransportError,
)
from dstui.api.fake_pool import FakePool
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, presses, run_snippet, settle, snippet

WIDE = (120, 36)
SMALL = (80, 24)


class TestStartup:
    @pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x36", "80x24"])
    def test_session_list(
        self, snap_compare: Any, make_app: AppFactory, size: tuple[int, int]
    ) -> None:
        """Start-up: first page listed, table focused, metadata from the list page."""
        assert snap_compare(make_app(), terminal_size=size, run_before=settle)

    def test_light_theme(self, snap_compare: Any, make_app: AppFactory) -> None:
        """dstui-light recolours every pane."""
        assert snap_compare(make_app(theme="dstui-light"), terminal_size=WIDE, run_before=settle)

    def test_builtin_theme(self, snap_compare: Any, make_app: AppFactory) -> None:
        """A built-in Textual theme works as well."""
        assert snap_compare(make_app(theme="nord"), terminal_size=WIDE, run_before=settle)

    def test_read_only(self, snap_compare: Any, make_app: AppFactory) -> None:
        """--read-only: no run, new or delete keys in the footer; the code pane says why."""
        assert snap_compare(make_app(read_only=True), terminal_size=WIDE, run_before=settle)

    def test_paged_list_more_available(self, snap_compare: Any, make_app: AppFactory) -> None:
        """A pool bigger than one page says "more available"."""
        pool = FakePool(session_count=700)
        assert snap_compare(make_app(pool), terminal_size=WIDE, run_before=settle)

    def test_empty_pool(self, snap_compare: Any, make_app: AppFactory) -> None:
        """A pool with no sessions says so and how to start one."""
        pool = FakePool(session_count=0)
        assert snap_compare(make_app(pool), terminal_size=WIDE, run_before=settle)


class TestSessions:
    def test_filter(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`/` filters the loaded rows."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("slash", *"agent", "enter")
            await pilot.pause(0.3)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_selection_and_metadata(self, snap_compare: Any, make_app: AppFactory) -> None:
        """Moving the cursor shows that session's metadata (from the list; nothing sent)."""

        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=presses(("down", "down", "down"))
        )

    def test_pool_metadata(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`2` then `m`: pool runtimes, kernel and a searchable package list."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("2", "m")
            await settle(pilot)
            main_screen(pilot.app).query_one("#package-search").focus()
            await pilot.press(*"py")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_new_session_dialog(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`n` offers a fresh identifier that can be edited."""
        assert snap_compare(make_app(), terminal_size=WIDE, press=["n"], run_before=settle)

    def test_new_session_accepted(self, snap_compare: Any, make_app: AppFactory) -> None:
        """Enter accepts: the session is listed as new until its first request creates it."""

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=presses(("n", "enter")))

    def test_delete_confirm(self, snap_compare: Any, make_app: AppFactory) -> None:
        """ctrl+d asks first, with the focus on Cancel."""
        assert snap_compare(make_app(), terminal_size=WIDE, press=["ctrl+d"], run_before=settle)

    def test_delete_marked_needs_count(self, snap_compare: Any, make_app: AppFactory) -> None:
        """With marked rows, the count must be typed before Delete is enabled."""

        assert snap_compare(
            make_app(),
            terminal_size=WIDE,
            run_before=presses(("space", "space", "space", "ctrl+d")),
        )

    def test_deleted(self, snap_compare: Any, make_app: AppFactory) -> None:
        """After confirming, the row is gone and a toast says so."""

        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=presses(("ctrl+d", "tab", "enter"))
        )

    def test_help(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`?` lists the focused pane's keys and the global ones, ↻ marking keep-alive actions."""
        assert snap_compare(
            make_app(), terminal_size=WIDE, press=["question_mark"], run_before=settle
        )

    def test_zoomed_pane(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`z` maximizes the focused pane."""
        assert snap_compare(make_app(), terminal_size=WIDE, press=["z"], run_before=settle)


class TestRun:
    def test_success(self, snap_compare: Any, make_app: AppFactory) -> None:
        """stdout, a highlighted result, status, duration and timing headers."""

        assert snap_compare(
            make_app(),
            terminal_size=WIDE,
            run_before=snippet("print('hello', 42)\n{'rows': 3, 'ok': True}"),
        )

    def test_exception(self, snap_compare: Any, make_app: AppFactory) -> None:
        """A Python exception: Failed, traceback in the error colour."""

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=snippet("1/0"))

    def test_timeout(self, snap_compare: Any, make_app: AppFactory) -> None:
        """The pool's timeout message for code that runs past the timeout."""

        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=snippet("import time\ntime.sleep(300)")
        )

    def test_async(self, snap_compare: Any, make_app: AppFactory) -> None:
        """Async mode (f6) polls the execution until it finishes."""

        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=snippet("print(1)", asynchronous=True)
        )

    def test_output_cut(self, snap_compare: Any, make_app: AppFactory) -> None:
        """Output at the length cap carries a clear marker."""

        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=snippet("print('x' * 10000)")
        )

    def test_image_saved(self, snap_compare: Any, make_app: AppFactory) -> None:
        """An image result is saved under the data dir and its path shown."""

        assert snap_compare(
            make_app(),
            terminal_size=WIDE,
            run_before=snippet("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"),
        )

    def test_history(self, snap_compare: Any, make_app: AppFactory) -> None:
        """f3 lists this session's previous runs."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await run_snippet(pilot, "print(1)")
            await run_snippet(pilot, "1/0")
            await pilot.press("3", "escape", "f3")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


class TestFiles:
    def test_listing(self, snap_compare: Any, make_app: AppFactory) -> None:
        """Opening the Files pane lists /mnt/data (directories first, odd names intact)."""
        assert snap_compare(make_app(), terminal_size=WIDE, press=["4"], run_before=settle)

    def test_subdirectory(self, snap_compare: Any, make_app: AppFactory) -> None:
        """enter descends into a directory; the path and a `..` row show where we are."""

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=presses("4", "enter"))

    def test_upload_dialog(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`u` opens a path input with a local directory browser."""

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=presses("4", "u"))

    def test_uploaded(self, snap_compare: Any, make_app: AppFactory) -> None:
        """After an upload the listing shows the new file and a toast confirms it."""

        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=presses("4", ("u", *"hello.txt", "enter"))
        )

    def test_downloaded(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`d` saves the file to the download folder and says where."""

        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=presses("4", ("down", "down", "d"))
        )

    def test_download_overwrite_prompt(
        self, snap_compare: Any, make_app: AppFactory, workdir: Path
    ) -> None:
        """An existing local file is never replaced without asking."""
        (workdir / "downloads").mkdir()
        (workdir / "downloads" / "analysis.py").write_text("mine\n")

        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=presses("4", ("down", "down", "d"))
        )

    def test_preview_text(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`p` previews a text file with syntax highlighting."""

        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=presses("4", ("down", "down", "p"))
        )

    def test_preview_binary(self, snap_compare: Any, make_app: AppFactory) -> None:
        """A binary file shows its size and type instead of bytes."""

        assert snap_compare(
            make_app(),
            terminal_size=WIDE,
            run_before=presses("4", ("down", "down", "down", "down", "down", "p")),
        )

    def test_delete_file_confirm(self, snap_compare: Any, make_app: AppFactory) -> None:
        """ctrl+d on a file asks first."""

        assert snap_compare(
            make_app(), terminal_size=WIDE, run_before=presses("4", ("down", "down", "ctrl+d"))
        )


ERRORS = {
    "401": AuthenticationError("list sessions failed: HTTP 401", status=401),
    "403": PermissionDeniedError("list sessions failed: HTTP 403 [b]Forbidden[/b]", status=403),
    "429": RateLimitedError("list sessions failed: HTTP 429", status=429, retry_after=3.0),
    "offline": TransportError("cannot connect to https://demo-pool.dynamicsessions.example"),
}


class TestErrors:
    @pytest.mark.parametrize("kind", list(ERRORS))
    def test_listing_error(self, snap_compare: Any, make_app: AppFactory, kind: str) -> None:
        """Errors become a toast and a status line, server text shown literally."""
        pool = FakePool(failures={"list_sessions_page": ERRORS[kind]})
        assert snap_compare(make_app(pool), terminal_size=WIDE, run_before=settle)

    def test_run_on_expired_session(self, snap_compare: Any, make_app: AppFactory) -> None:
        """A failing request during a run is shown in the output and the status bar."""
        from dstui.api.errors import SessionNotFoundError

        pool = FakePool(
            failures={
                "start_execution": SessionNotFoundError(
                    "execute failed: HTTP 404 SessionWithIdentifierNotFound", status=404
                )
            }
        )

        assert snap_compare(make_app(pool), terminal_size=WIDE, run_before=snippet("print(1)"))
