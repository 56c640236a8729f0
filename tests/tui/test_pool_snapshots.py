"""Snapshots of issue 13's views at 80×24 and 140×45: the pool picker (one subscription
refusing), a pool's ARM properties next to /metadata (near its session limit), and the
sessions across pools after an idle selection. FakeArm and FakePools, a frozen clock.

Plain `def` tests (snap_compare runs its own event loop)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from dstui.api.fake_arm import FakeArm
from dstui.api.fake_pool import FakePool, frozen_clock
from dstui.tui.pool_directory import demo_directory
from dstui.tui.screens.pool_picker import PoolPickerScreen
from tests.tui.pilot_helpers import presses, settle
from tests.tui.pools_fixtures import demo_app

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((140, 45), id="140x45")]


@pytest.fixture(autouse=True)
def _in_tmp(workdir: Any) -> None:
    """Drafts and history go below a temporary working directory."""


def pick(name: str, *then: str) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        picker = pilot.app.screen
        assert isinstance(picker, PoolPickerScreen)
        picker.table.move_cursor([pool.name for pool in picker.pools].index(name))
        await pilot.press("enter")
        await settle(pilot)
        for key in then:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_pool_picker(snap_compare: Any, size: tuple[int, int]) -> None:
    """Five pools, three types; the second subscription refuses (403) and is named."""
    directory = demo_directory(frozen_clock)
    directory.arm = FakeArm(failing_subscriptions=[1])
    app = demo_app(FakePool(), directory)
    assert snap_compare(app, terminal_size=size, run_before=presses("P", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_pool_properties(snap_compare: Any, size: tuple[int, int]) -> None:
    """agents picked, `2 m`: its ARM properties below /metadata and the 429 warning."""
    app = demo_app(FakePool())
    assert snap_compare(app, terminal_size=size, run_before=pick("agents", "2", "m"))


@pytest.mark.parametrize("size", SIZES)
def test_across_pools_idle_selection(snap_compare: Any, size: tuple[int, int]) -> None:
    """A: every pool's sessions with a pool column, the custom container's note, and the
    sessions idle longer than 5 minutes selected (count and age in the summary)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await presses("P", "A")(pilot)
        await pilot.press("I")
        await pilot.pause()
        pilot.app.screen.query_one("#cleanup-idle", Input).value = "5"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)

    app = demo_app(FakePool())
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_custom_container_pool(snap_compare: Any, size: tuple[int, int]) -> None:
    """webapp picked: the empty list's whole note, wrapped; the short summary; ^d says Stop."""
    app = demo_app(FakePool())
    assert snap_compare(app, terminal_size=size, run_before=pick("webapp"))
