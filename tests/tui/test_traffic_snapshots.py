"""Snapshots of the Traffic view on a recording of fixed exchanges (plain `def` tests).

The recording sits in the test's working directory under a relative name, so the path in the
title bar is the same on every machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.tui.test_variables_view import VariablesHostApp
from tests.tui.traffic_fixtures import (
    CHAT,
    GHOST,
    TimelineHostApp,
    TrafficHostApp,
    write_recording,
)

WIDE = (140, 45)
SMALL = (80, 24)
SIZES = pytest.mark.parametrize("size", [WIDE, SMALL], ids=["140x45", "80x24"])


async def _settle(pilot: Pilot[Any]) -> None:
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _at_row(row: int, *keys: str) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        pilot.app.screen.query_one(DataTable).move_cursor(row=row)
        await pilot.press(*keys)
        await _settle(pilot)

    return run_before


@pytest.fixture
def recording(workdir: Path) -> Path:
    return write_recording(Path("traffic.sqlite3"))


class TestTraffic:
    @SIZES
    def test_execution_detail(
        self, snap_compare: Any, recording: Path, size: tuple[int, int]
    ) -> None:
        """An execution: code highlighted, stdout, result, server timings, ids."""
        app = TrafficHostApp(recording)
        assert snap_compare(app, terminal_size=size, run_before=_at_row(1))

    @SIZES
    def test_failed_and_filtered(
        self, snap_compare: Any, recording: Path, size: tuple[int, int]
    ) -> None:
        """`failed` keeps the 4xx and unanswered exchanges; the error envelope is shown."""
        app = TrafficHostApp(recording, initial_filter="failed")
        assert snap_compare(app, terminal_size=size, run_before=_at_row(0))

    def test_curl_copied(self, snap_compare: Any, recording: Path) -> None:
        """`c` copies the exchange as curl and shows the command under its detail."""
        app = TrafficHostApp(recording, masked=False)
        assert snap_compare(app, terminal_size=WIDE, run_before=_at_row(1, "c", "end"))

    def test_no_recording_yet(self, snap_compare: Any, workdir: Path) -> None:
        """A recording that does not exist yet is waited for, and not created."""
        app = TrafficHostApp(Path("missing.sqlite3"))
        assert snap_compare(app, terminal_size=SMALL, run_before=_settle)


class TestTimeline:
    @SIZES
    def test_session_timeline(
        self, snap_compare: Any, recording: Path, size: tuple[int, int]
    ) -> None:
        """A session's timeline: the run merged with dstui's history (#1), then its files."""
        app = TimelineHostApp(CHAT, recording)
        assert snap_compare(app, terminal_size=size, run_before=_at_row(0))

    def test_only_in_the_recording(self, snap_compare: Any, recording: Path) -> None:
        """A session the list does not have is shown as known only from the recording."""
        app = TimelineHostApp(GHOST, recording, in_pool=False)
        assert snap_compare(app, terminal_size=SMALL, run_before=_settle)


class TestVariables:
    @SIZES
    def test_user_globals(self, snap_compare: Any, workdir: Path, size: tuple[int, int]) -> None:
        """The probe's table: name, type, shape/len, size, repr; hidden names counted."""
        assert snap_compare(VariablesHostApp(), terminal_size=size, run_before=_settle)

    def test_every_name(self, snap_compare: Any, workdir: Path) -> None:
        """`a` probes again with modules and IPython's names, dimmed."""
        assert snap_compare(VariablesHostApp(), terminal_size=WIDE, run_before=_at_row(0, "a"))
