"""Switching pools with Pilot: nothing of the old pool carries over, the across-pools view opens
a pool on the session picked there, and a custom container's keys and notes say what it has."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input

from dstui.api.fake_pool import FakePool
from dstui.tui.screens.across_pools import AcrossPoolsScreen
from dstui.tui.screens.main import MainScreen
from dstui.tui.screens.modals import TextModal
from dstui.tui.screens.pool_actions import NO_SESSION_LIST_SHORT
from dstui.tui.screens.traffic import TrafficScreen
from dstui.tui.widgets.footer import KeysFooter
from tests.tui.pilot_helpers import settle
from tests.tui.pools_fixtures import demo_app, many_pools_directory
from tests.tui.test_pool_picker import SIZE, notes, open_across, pick


@pytest.fixture(autouse=True)
def _in_tmp(workdir: Any) -> None:
    """Drafts and history go below a temporary working directory."""


def screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def footer_text(screen: MainScreen) -> str:
    return str(screen.query_one(KeysFooter).render())


async def test_a_switch_keeps_no_list_files_metadata_marks_target_draft_or_traffic_filter() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        old = await pick(pilot, "agents")
        second = old.sessions.loaded_order[1]
        old.sessions.move_to(second)
        await pilot.pause()
        old.sessions.toggle_mark(second)
        old.code.editor.text = "print('agents only')"
        await pilot.press("4")  # lists its files: an explicit request in the old pool
        await settle(pilot)
        assert old.files.identifier == second and old.metadata.session is not None
        await pilot.press("1", "t")
        await settle(pilot)
        assert isinstance(app.screen, TrafficScreen)
        app.screen.query_one("#traffic-filter", Input).value = f"id:{second}"
        await pilot.press("escape", "escape")
        await settle(pilot)

        new = await pick(pilot, "notebooks")  # the demo pools share identifiers
        assert new is not old and new.pool is not old.pool
        first = new.sessions.loaded_order[0]
        assert len(new.sessions.loaded_order) == 7  # its own list, not the 42 of agents
        assert new.selected == first != second
        assert new.sessions.marks == set()
        assert new.files.identifier is None and not new.files.entries
        assert new.metadata.session is not None
        assert new.metadata.session.identifier == first
        assert "agents only" not in new.code.editor.text
        assert new.code.target_text.strip() == f"run in {first} ↻ · {new.runs.pool_name}"
        assert new.runs.pool_name != old.runs.pool_name
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TrafficScreen)
        assert app.screen.query_one("#traffic-filter", Input).value == ""


async def test_enter_on_an_across_row_opens_its_pool_on_that_session() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        await pick(pilot, "agents")
        across = await open_across(pilot)
        keys = across.table.row_keys()
        batch_rows = [k for k in keys if across.pools[across.data.by_key[k].pool].name == "batch"]
        across.table.move_cursor(keys.index(batch_rows[5]))  # not the pool's first session
        wanted = across.data.by_key[batch_rows[5]]
        assert wanted.session is not None
        await pilot.press("enter")
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen) and "sessionPools/batch" in main.pool.endpoint
        assert main.selected == wanted.session.identifier
        assert main.sessions.highlighted_identifier() == wanted.session.identifier
        assert main.metadata.session is not None
        assert main.metadata.session.identifier == wanted.session.identifier


async def test_a_session_beyond_the_first_page_is_selected_as_listed_and_nothing_is_sent() -> None:
    directory = many_pools_directory(2, 30, page_size=10)
    app = demo_app(FakePool(), directory)
    async with app.run_test(size=SIZE) as pilot:
        across = await open_across(pilot)
        keys = across.table.row_keys()
        last = keys[-1]  # the second pool's last session: its third page
        row = across.data.by_key[last]
        assert row.session is not None
        across.table.move_cursor(len(keys) - 1)
        await pilot.press("enter")
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        identifier = row.session.identifier
        assert main.selected == identifier
        shown = main.sessions.session(identifier)
        assert shown is not None and not shown.local  # the pool has it: not "created by…"
        # Placed first; its page, when the scroll loads it, does not add it twice.
        assert main.sessions.loaded_order[0] == identifier
        assert main.sessions.loaded_order.count(identifier) == 1
        assert isinstance(main.pool, FakePool)
        assert all(name == "list_sessions_page" for name, _ in main.pool.calls)


async def test_a_run_in_flight_refuses_a_switch_from_the_across_view() -> None:
    pool = FakePool()
    app = demo_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = app.main_screen
        pool.latency = 5.0
        main.code.editor.text = "1 + 1"
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("escape", "A")
        across = app.screen
        assert isinstance(across, AcrossPoolsScreen)
        while across.loading or not across.data.session_count:
            await pilot.pause(0.05)
        across.table.move_cursor(3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.main_screen is main and app.screen is across
        reasons = [n.message for n in app._notifications]
        assert any(r.startswith("Not switching pools: run #1 in") for r in reasons)
        pool.latency = 0.0
        main.workers.cancel_all()


async def test_ctrl_d_says_stop_in_a_custom_container_and_delete_elsewhere() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        python = await pick(pilot, "agents")
        assert "^d Delete↻" in footer_text(python)
        custom = await pick(pilot, "webapp")
        footer = footer_text(custom)
        assert "^d Stop↻" in footer and "Delete" not in footer
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, TextModal)
        body = str(app.screen.body)
        assert "Stop" in body and "Delete" not in body


async def test_the_no_session_list_note_is_read_whole_at_80x24() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=(80, 24)) as pilot:
        await pick(pilot, "webapp")
        text = screen_text(app)
        assert "(this is not" in text and "an empty pool); o opens an identifier" in text
        assert NO_SESSION_LIST_SHORT in text


async def test_r_waits_while_a_bulk_delete_is_in_flight() -> None:
    app = demo_app(FakePool())
    async with app.run_test(size=SIZE) as pilot:
        across = await open_across(pilot)
        across.table.move_cursor(5)  # a session (row 0 is the custom-container pool's note)
        await pilot.press("space")
        for client in across._clients.values():
            assert isinstance(client, FakePool)
            client.latency = 5.0
        await pilot.press("ctrl+d", "1", "enter")
        await pilot.pause()
        assert across.deleting()
        rows = across.data
        await pilot.press("r")
        await pilot.pause()
        assert across.data is rows and across.marks
        assert "Deleting: r lists again once it is done." in notes(app)
        across.workers.cancel_all()


async def test_a_bulk_delete_in_flight_refuses_the_switch_and_says_why() -> None:
    pool = FakePool()
    app = demo_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = app.main_screen
        pool.latency = 5.0
        await pilot.press("ctrl+d")  # the highlighted session
        await pilot.pause()
        await pilot.click("#confirm")
        await pilot.pause()
        assert main.group_running("delete-sessions")
        await pilot.press("P")
        picker = app.screen
        while not getattr(picker, "pools", None):  # the picker lists from ARM, not the pool
            await pilot.pause(0.05)
        await pilot.press("enter")
        await pilot.pause()
        assert app.main_screen is main
        reason = notes(app)[-1]
        assert reason.startswith("Not switching pools: a delete of sessions in flight in")
        assert "f4" not in reason
        pool.latency = 0.0
        main.workers.cancel_all()


async def test_on_exit_each_pool_client_is_closed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The picked demo pool is both the app's pool and kept by the directory."""
    closed: list[int] = []
    real_aclose = FakePool.aclose

    async def counting_aclose(self: FakePool) -> None:
        closed.append(id(self))
        await real_aclose(self)

    monkeypatch.setattr(FakePool, "aclose", counting_aclose)
    first = FakePool()
    app = demo_app(first)
    async with app.run_test(size=SIZE) as pilot:
        picked = await pick(pilot, "agents")
        assert picked.pool is not first
    assert sorted(closed) == sorted({*closed})  # nobody twice
    assert id(app.pool) in closed and id(first) in closed
