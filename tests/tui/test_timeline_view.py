"""A session's Timeline: recorded exchanges and dstui's runs merged, in order (Pilot tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from dstui.recording.store import RecordingStore
from dstui.tui.screens.timeline import TimelineScreen
from tests.tui.traffic_fixtures import (
    CHAT,
    CODE,
    GHOST,
    TimelineHostApp,
    TrafficHostApp,
    fixed_exchanges,
    write_recording,
)


async def settled(pilot: Pilot[Any]) -> Any:
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    return pilot.app.screen


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return write_recording(tmp_path / "traffic.sqlite3")


async def test_entries_in_order_with_the_run_merged(recording: Path) -> None:
    app = TimelineHostApp(CHAT, recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        assert isinstance(screen, TimelineScreen)
        assert [e.operation for e in screen.entries] == ["execute", "upload", "download"]
        run = screen.entries[0]
        assert run.run_number == 1 and "dstui" in run.sources  # the history's run, merged
        assert "3 entries, 1 executions" in text_of(screen, "#timeline-title")
        assert "in the session list" in text_of(screen, "#timeline-hint")
        screen.table.move_cursor(row=0)
        await pilot.pause()
        assert "rows = [n * n" in text_of(screen, "#timeline-detail-body")
        await pilot.press("enter")
        await pilot.pause()
        outcome = app.outcomes[0]
        assert outcome is not None and (outcome.identifier, outcome.code) == (CHAT, CODE)


async def test_a_session_only_in_the_recording_says_so(recording: Path) -> None:
    app = TimelineHostApp(GHOST, recording, in_pool=False)
    async with app.run_test(size=(140, 45), notifications=True) as pilot:
        screen = await settled(pilot)
        assert "only in the recording" in text_of(screen, "#timeline-hint")
        await pilot.press("g")
        await pilot.pause()
        assert app.outcomes == []
        assert any("only in the recording" in n.message for n in app._notifications)


async def test_reload_picks_up_new_exchanges(recording: Path) -> None:
    app = TimelineHostApp(CHAT, recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        with RecordingStore(recording) as writer:
            upload = fixed_exchanges()[2]  # another upload to CHAT, later
            upload.started += 100
            writer.add(upload)
        await pilot.press("r")
        screen = await settled(pilot)
        assert [e.operation for e in screen.entries][-1] == "upload", screen.entries
        assert len(screen.entries) == 4


async def test_traffic_T_opens_the_exchange_sessions_timeline(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        screen.table.move_cursor(row=4)  # the ghost's run
        await pilot.press("T")
        timeline = await settled(pilot)
        assert isinstance(timeline, TimelineScreen)
        assert timeline.identifier == GHOST and not timeline.in_pool
        assert [e.status for e in timeline.entries] == ["no answer"]
        await pilot.press("escape")
        back = await settled(pilot)
        assert back is screen and app.outcomes == []


async def test_a_hostile_identifier_is_shown_as_text(recording: Path) -> None:
    """An identifier from a recording is never read as markup (it would vanish or restyle)."""
    app = TimelineHostApp("[red]agent[/]", recording, in_pool=False)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        assert "Timeline · [red]agent[/] · 0 entries" in text_of(screen, "#timeline-title")
