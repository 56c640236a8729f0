"""The pool picker (P), switching pools, pool properties (m) and sessions across pools (A),
driven with Pilot against the demo's FakeArm and FakePools."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, Static

from dstui.api.errors import AuthenticationError, PermissionDeniedError
from dstui.api.fake_arm import FakeArm
from dstui.api.fake_pool import FakePool, demo_identifier, frozen_clock
from dstui.tui.pool_directory import demo_directory
from dstui.tui.screens.across_pools import NO_LIST, AcrossPoolsScreen
from dstui.tui.screens.main import MainScreen
from dstui.tui.screens.modals import ConfirmModal, TextModal
from dstui.tui.screens.pool_actions import NO_SESSION_LIST, NO_SESSION_LIST_SHORT
from dstui.tui.screens.pool_picker import PoolPickerScreen
from dstui.tui.widgets.chrome import TopBar
from tests.tui.conftest import build_app
from tests.tui.pilot_helpers import settle
from tests.tui.pools_fixtures import demo_app

SIZE = (140, 45)


@pytest.fixture(autouse=True)
def _in_tmp(workdir: Any) -> None:
    """Drafts and history go below a temporary working directory."""


def notes(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


async def open_picker(pilot: Any) -> PoolPickerScreen:
    await settle(pilot)
    await pilot.press("P")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PoolPickerScreen)
    return screen


async def pick(pilot: Any, name: str) -> MainScreen:
    picker = await open_picker(pilot)
    index = [pool.name for pool in picker.pools].index(name)
    picker.table.move_cursor(index)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def test_the_picker_lists_every_pool_with_its_type_state_and_limit() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        names = [pool.name for pool in picker.pools]
        assert sorted(names) == ["agents", "batch", "notebooks", "shellbox", "webapp"]
        agents = picker.table.row_keys()[names.index("agents")]
        assert str(picker.table.get_cell(agents, "type")) == "PythonLTS"
        assert str(picker.table.get_cell(agents, "state")) == "Succeeded"
        # nodeCount is what ARM tells cheaply; 40 of 50 is at the 80 % warning.
        assert str(picker.table.get_cell(agents, "use")) == "40 / 50"
        batch = picker.table.row_keys()[names.index("batch")]
        assert str(picker.table.get_cell(batch, "use")) == "– / 20"
        status = str(picker.query_one("#picker-status", Static).render())
        assert "5 pools in 2 subscriptions" in status


async def test_a_subscription_that_refuses_is_named_and_the_others_still_listed() -> None:
    directory = demo_directory(frozen_clock)
    directory.arm = FakeArm(failing_subscriptions=[1])
    app = demo_app(FakePool(), directory)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        assert "batch" not in [pool.name for pool in picker.pools]
        assert len(picker.pools) == 4
        status = str(picker.query_one("#picker-status", Static).render())
        assert "✘ subscription dstui batch (2d7e9a10-6b3c-4f8e-a1d2-9e8f7a6b5c4d)" in status
        assert "AuthorizationFailed" in status


class RefusingArm(FakeArm):
    async def list_subscriptions(self) -> Any:
        raise AuthenticationError("ARM answered 401", status=401, hint="Sign in again.")


async def test_when_arm_refuses_the_picker_says_so_and_the_open_pool_stays() -> None:
    directory = demo_directory(frozen_clock)
    directory.arm = RefusingArm()
    app = demo_app(FakePool(), directory)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        status = str(picker.query_one("#picker-status", Static).render())
        assert status.startswith("Listing the pools failed: ARM answered 401")
        assert picker.pools == [] and picker.table.empty_text == "listing the pools failed"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_picking_a_pool_opens_it_with_nothing_kept_from_the_old_one() -> None:
    first = FakePool(session_count=40)
    app = demo_app(first)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        old = app.main_screen
        old.sessions.toggle_mark(old.sessions.loaded_order[0])
        await pilot.press("4")  # lists the first session's files in the old pool
        await settle(pilot)
        assert old.files.identifier is not None
        main = await pick(pilot, "batch")
        assert main is not old and not old.is_attached
        assert app.pool is not None and app.pool is not first
        assert "sessionPools/batch" in app.pool.endpoint
        assert main.query_one(TopBar).pool_label == "demo · batch · dstui-batch · swedencentral"
        assert len(main.sessions.loaded_order) == 18  # the batch pool's own list
        assert main.sessions.marks == set()
        assert main.files.identifier is None
        assert first.closed  # the old client is released


async def test_a_run_in_flight_refuses_the_switch_and_says_why() -> None:
    pool = FakePool()
    app = demo_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = app.main_screen
        pool.latency = 5.0
        main.code.editor.text = "1 + 1"
        await pilot.press("ctrl+r")
        await pilot.pause()
        picker_main = main
        await pilot.press("P")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PoolPickerScreen)
        while not picker.pools:  # its own listing only: the run must stay in flight
            await pilot.pause(0.05)
        await pilot.press("enter")
        await pilot.pause()
        assert app.main_screen is picker_main
        assert any(n.startswith("Not switching pools: run #1 in") for n in notes(app))
        assert main.runs.in_flight()  # still waiting for its run, aimed at its own pool
        pool.latency = 0.0
        main.workers.cancel_all()


async def test_without_an_endpoint_the_app_opens_on_the_picker() -> None:
    app = demo_app(None, pool_label="no pool yet — pick one")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PoolPickerScreen)
        await pilot.press("escape")  # nothing behind it: it stays
        assert isinstance(app.screen, PoolPickerScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.main_screen.sessions.loaded_order


async def test_drafts_are_kept_per_pool() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        main = await pick(pilot, "agents")
        identifier = main.selected
        assert identifier is not None
        main.code.editor.text = "print('only in agents')"
        main.runs.drafts.keep()
        other = await pick(pilot, "notebooks")
        assert other.selected == identifier  # the demo pools share identifiers
        assert "only in agents" not in other.code.editor.text
        back = await pick(pilot, "agents")
        assert "only in agents" in back.code.editor.text


async def test_m_shows_the_pools_arm_properties_and_warns_near_the_limit() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        main = await pick(pilot, "agents")
        await pilot.press("2", "m")
        await settle(pilot)
        shown = str(main.query_one("#pool-properties", Static).render())
        assert "PythonLTS · Dynamic management · Succeeded" in shown
        assert "max 50 concurrent sessions · 0 ready" in shown
        assert "Timed · cooldown 5m00s" in shown
        assert "EgressDisabled · identities none" in shown
        assert "42 of 50 sessions in use (84%): users meet 429 (too many sessions) at 50" in shown


async def test_m_shows_a_custom_containers_image_resources_and_port() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        main = await pick(pilot, "webapp")
        summary = str(main.query_one("#sessions-summary", Static).render())
        assert NO_SESSION_LIST_SHORT in summary and "no sessions" not in summary
        assert main.sessions.table.empty_text == NO_SESSION_LIST
        await pilot.press("2", "m")
        await settle(pilot)
        shown = str(main.query_one("#pool-properties", Static).render())
        assert "demo.azurecr.io/webapp:1.4 · 0.5 CPU · 1Gi · target port 8080" in shown
        assert "identities system (Main)" in shown


async def test_without_arm_m_and_p_say_that_they_need_it() -> None:
    app = build_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2", "m")
        await settle(pilot)
        shown = str(app.main_screen.query_one("#pool-properties", Static).render())
        assert shown.startswith("pool properties need ARM (--arm-endpoint")
        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert any("the pool picker needs ARM" in n for n in notes(app))


async def open_across(pilot: Any) -> AcrossPoolsScreen:
    await open_picker(pilot)
    await pilot.press("A")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AcrossPoolsScreen)
    return screen


async def test_across_pools_lists_every_pool_and_says_which_has_no_list() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        across = await open_across(pilot)
        sessions = [row for row in across.data.rows if row.session is not None]
        assert len(sessions) == 42 + 7 + 3 + 18
        note = next(row for row in across.data.rows if row.session is None)
        assert across.pools[note.pool].name == "webapp"
        assert str(across.data.cells_for(note.key)[2]) == NO_LIST
        assert across.table.row_count == len(across.data)
        pools_shown = {str(across.table.get_cell(key, "pool")) for key in across.table.row_keys()}
        assert pools_shown == {"agents", "notebooks", "shellbox", "webapp", "batch"}
        await pilot.press("slash")
        await pilot.press(*"shellbox")
        await pilot.press("enter")
        await settle(pilot)
        assert across.table.row_count == 3
        await pilot.press("escape")
        assert isinstance(app.screen, AcrossPoolsScreen)


async def test_a_from_the_main_screen_lists_the_pools_itself() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        across = app.screen
        assert isinstance(across, AcrossPoolsScreen)
        assert len(across.pools) == 5 and across.data.session_count == 70
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_idle_cleanup_selects_confirms_by_count_deletes_and_reports() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        main = await pick(pilot, "agents")
        across = await open_across(pilot)
        await pilot.press("I")
        await pilot.pause()
        app.screen.query_one("#cleanup-idle", Input).value = "5"  # minutes
        await pilot.press("enter")
        await settle(pilot)
        # Demo sessions 16 and 33 (agents) and 16 (batch) are idle 5m30s.
        assert len(across.marks) == 3
        summary = str(across.query_one("#across-summary", Static).render())
        assert "3 sessions selected (idle 5m30s–5m30s)" in summary
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("2", "enter")  # the wrong count: refused
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("backspace", "3", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TextModal)
        report = str(app.screen.body)
        assert "3 deleted · 0 already gone · 0 failed" in report
        assert f"deleted agents  {demo_identifier(16)}" in report.replace("   ", " ")
        await pilot.press("escape")
        assert across.marks == set()
        assert len([r for r in across.data.rows if r.session is not None]) == 70 - 3
        assert app.pools is not None
        agents = app.pools.open(across.pools[[p.name for p in across.pools].index("agents")])
        left = {s.identifier for s in await agents.list_sessions()}
        assert len(left) == 40
        # Leaving lists the open pool (agents) again: the deleted ones are gone there too.
        assert main.sessions.summary_for_header().startswith("42 sessions loaded")
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert app.screen is main
        assert main.sessions.summary_for_header().startswith("40 sessions loaded")


async def test_a_pool_whose_listing_fails_says_why_and_the_others_load() -> None:
    denied = PermissionDeniedError("list sessions failed: HTTP 403", status=403)
    directory = demo_directory(frozen_clock)
    build = directory.build_client

    def failing_batch(endpoint: str, pool: Any) -> Any:
        client = build(endpoint, pool)
        assert isinstance(client, FakePool)
        if pool.name == "batch":
            client.failures["list_sessions_page"] = denied
        return client

    directory.build_client = failing_batch
    app = demo_app(FakePool(), directory)
    async with app.run_test(size=SIZE) as pilot:
        across = await open_across(pilot)
        assert across.data.session_count == 42 + 7 + 3
        summary = str(across.query_one("#across-summary", Static).render())
        assert "✘ batch: list sessions failed: HTTP 403" in summary
        note = next(r for r in across.data.rows if r.session is None and r.note.startswith("—"))
        assert across.pools[note.pool].name == "batch"


async def test_read_only_refuses_the_bulk_delete() -> None:
    app = demo_app(FakePool(), read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        across = await open_across(pilot)
        across.table.move_cursor(5)  # a session (row 0 is the custom-container pool's note)
        await pilot.press("space", "ctrl+d")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        assert across.marks
        assert any("read-only" in n for n in notes(app))
