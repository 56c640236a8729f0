"""Snapshot tests of every workflow and state, rendered from the deterministic demo pool.

Plain `def` tests (snap_compare runs its own event loop). Review failures in
snapshot_report.html; regenerate deliberately with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DirectoryTree

from dstui.api.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    TransportError,
)
from dstui.tui.demo import FakePool
from dstui.tui.screens.main import MainScreen
from tests.tui.conftest import AppFactory

WIDE = (120, 36)
SMALL = (80, 24)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the app's own workers (a DirectoryTree keeps a loader worker alive forever)."""
    for _ in range(2):
        pending = [w for w in pilot.app.workers if not isinstance(w.node, DirectoryTree)]
        if pending:  # an empty list would mean "every worker", DirectoryTree's included
            await pilot.app.workers.wait_for_complete(pending)
        await pilot.pause()


def main_screen(pilot: Pilot[Any]) -> MainScreen:
    screen = pilot.app.main_screen  # type: ignore[attr-defined]
    assert isinstance(screen, MainScreen)
    return screen


async def run_snippet(pilot: Pilot[Any], code: str, *, asynchronous: bool = False) -> None:
    await settle(pilot)
    screen = main_screen(pilot)
    screen.code.editor.text = code
    if asynchronous:
        await pilot.press("f6")
    await pilot.press("ctrl+r")
    await settle(pilot)


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

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("down", "down", "down")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_pool_metadata(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`2` then `m`: pool runtimes, kernel and a searchable package list."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("2", "m")
            await settle(pilot)
            main_screen(pilot).query_one("#package-search").focus()
            await pilot.press(*"py")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_new_session_dialog(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`n` offers a fresh identifier that can be edited."""
        assert snap_compare(make_app(), terminal_size=WIDE, press=["n"], run_before=settle)

    def test_new_session_accepted(self, snap_compare: Any, make_app: AppFactory) -> None:
        """Enter accepts: the session is listed as new until its first request creates it."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("n", "enter")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_delete_confirm(self, snap_compare: Any, make_app: AppFactory) -> None:
        """ctrl+d asks first, with the focus on Cancel."""
        assert snap_compare(make_app(), terminal_size=WIDE, press=["ctrl+d"], run_before=settle)

    def test_delete_marked_needs_count(self, snap_compare: Any, make_app: AppFactory) -> None:
        """With marked rows, the count must be typed before Delete is enabled."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("space", "space", "space", "ctrl+d")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_deleted(self, snap_compare: Any, make_app: AppFactory) -> None:
        """After confirming, the row is gone and a toast says so."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("ctrl+d", "tab", "enter")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

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

        async def run_before(pilot: Pilot[Any]) -> None:
            await run_snippet(pilot, "print('hello', 42)\n{'rows': 3, 'ok': True}")

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_exception(self, snap_compare: Any, make_app: AppFactory) -> None:
        """A Python exception: Failed, traceback in the error colour."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await run_snippet(pilot, "1/0")

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_timeout(self, snap_compare: Any, make_app: AppFactory) -> None:
        """The pool's timeout message for code that runs past the timeout."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await run_snippet(pilot, "import time\ntime.sleep(300)")

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_async(self, snap_compare: Any, make_app: AppFactory) -> None:
        """Async mode (f6) polls the execution until it finishes."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await run_snippet(pilot, "print(1)", asynchronous=True)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_output_cut(self, snap_compare: Any, make_app: AppFactory) -> None:
        """Output at the length cap carries a clear marker."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await run_snippet(pilot, "print('x' * 10000)")

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_image_saved(self, snap_compare: Any, make_app: AppFactory) -> None:
        """An image result is saved under the data dir and its path shown."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await run_snippet(
                pilot, "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
            )

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

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

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_upload_dialog(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`u` opens a path input with a local directory browser."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            await pilot.press("u")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_uploaded(self, snap_compare: Any, make_app: AppFactory) -> None:
        """After an upload the listing shows the new file and a toast confirms it."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            await pilot.press("u", *"hello.txt", "enter")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_downloaded(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`d` saves the file to the download folder and says where."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            await pilot.press("down", "down", "d")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_download_overwrite_prompt(
        self, snap_compare: Any, make_app: AppFactory, workdir: Path
    ) -> None:
        """An existing local file is never replaced without asking."""
        (workdir / "downloads").mkdir()
        (workdir / "downloads" / "analysis.py").write_text("mine\n")

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            await pilot.press("down", "down", "d")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_preview_text(self, snap_compare: Any, make_app: AppFactory) -> None:
        """`p` previews a text file with syntax highlighting."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            await pilot.press("down", "down", "p")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_preview_binary(self, snap_compare: Any, make_app: AppFactory) -> None:
        """A binary file shows its size and type instead of bytes."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            await pilot.press("down", "down", "down", "down", "down", "p")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

    def test_delete_file_confirm(self, snap_compare: Any, make_app: AppFactory) -> None:
        """ctrl+d on a file asks first."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            await pilot.press("down", "down", "ctrl+d")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


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

        async def run_before(pilot: Pilot[Any]) -> None:
            await run_snippet(pilot, "print(1)")

        assert snap_compare(make_app(pool), terminal_size=WIDE, run_before=run_before)
