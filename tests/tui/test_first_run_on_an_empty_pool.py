"""A user's first keys on an empty pool simply work: `3`, type, ctrl+r runs in a new session,
named as such; with a failed listing ctrl+r refuses and says why (QA finding on issue 12).
Also: a download clash found mid-way is hinted in the TUI's own words, not the API's."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.api.errors import DestinationExistsError, TransportError
from dstui.api.fake_pool import FakePool
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.tui.app import DstuiApp
from tests.emulator_fixtures import retry_without_waiting
from tests.tui.conftest import AppFactory, build_app
from tests.tui.pilot_helpers import main_screen, settle

SIZE = (120, 36)
NEW_ID = "dstui-0f0f0f0f-1111-2222-3333-444444444444"


def messages(app: App[Any]) -> list[str]:
    return [note.message for note in app._notifications]


def output_text(app: App[Any]) -> str:
    return str(main_screen(app).query_one("#output").render())


@pytest.fixture
def fixed_identifier(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(
        "dstui.tui.screens.run_controller.new_identifier", lambda prefix="dstui": NEW_ID
    )
    return NEW_ID


async def test_ctrl_r_on_an_empty_pool_runs_in_a_new_session(
    make_app: AppFactory, fixed_identifier: str
) -> None:
    pool = FakePool(session_count=0, latency=0.3)
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.selected is None
        await pilot.press("3", *"print(42)", "ctrl+r")
        await pilot.pause(0.1)
        assert screen.code.target_text.strip().startswith(
            f"▶ running in new session {fixed_identifier}, created by this run"
        )
        await settle(pilot)
        assert [(i, code) for i, code, _ in pool.runs] == [(fixed_identifier, "print(42)")]
        assert screen.selected == fixed_identifier
        shown = output_text(app)
        assert "42" in shown
        assert f"New session {fixed_identifier}, created by this run." in shown
        assert f"Running in new session {fixed_identifier}, created by this run." in messages(app)
        assert not any("Select a session first" in m for m in messages(app))
        row = screen.sessions.session(fixed_identifier)
        assert row is not None and not row.local  # the pool's own row, fetched after the run
        # The next run is in the same session, no longer a new one.
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert [i for i, _, _ in pool.runs] == [fixed_identifier, fixed_identifier]
        assert "created by this run" not in output_text(app)


async def test_ctrl_r_refuses_when_the_listing_failed(make_app: AppFactory) -> None:
    failing = TransportError("list sessions: could not talk to the pool")
    pool = FakePool(session_count=0, failures={"list_sessions_page": failing})
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", *"print(42)", "ctrl+r")
        await settle(pilot)
        assert pool.runs == []
        assert main_screen(app).selected is None
        refusal = messages(app)[-1]
        assert "listing sessions failed" in refusal and "press n" in refusal


async def test_an_empty_editor_creates_no_session(make_app: AppFactory) -> None:
    pool = FakePool(session_count=0)
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "ctrl+r")
        await settle(pilot)
        assert messages(app)[-1] == "Nothing to run: the editor is empty."
        screen = main_screen(app)
        assert screen.selected is None and screen.sessions.local_order == []


@pytest.mark.slow
async def test_first_keys_against_an_empty_emulator(workdir: Path) -> None:
    server = EmulatorServer(EmulatorConfig(ready_sessions=0))
    server.start()
    try:
        assert server.token is not None
        client = SessionsClient(
            server.endpoint,
            auth=StaticTokenProvider(server.token),
            retry=retry_without_waiting(),
        )
        plain = build_app(client)
        app = DstuiApp(plain.pool, replace(plain.settings, emulator=True))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = main_screen(app)
            assert screen.sessions.loaded_order == [] and screen.selected is None
            await pilot.press("3", *"print(42)", "ctrl+r")
            deadline = time.monotonic() + 30
            while "42" not in output_text(app) and time.monotonic() < deadline:
                await pilot.pause(0.1)
            await settle(pilot)
            identifier = screen.selected
            assert identifier is not None and identifier.startswith("dstui-")
            assert f"New session {identifier}, created by this run." in output_text(app)
            row = screen.sessions.session(identifier)
            assert row is not None and not row.local
            listed = await client.list_sessions_page()
            assert [s.identifier for s in listed.sessions] == [identifier]
        await client.aclose()
    finally:
        server.stop()


async def test_a_file_that_appears_mid_download_gets_the_tuis_own_hint(
    make_app: AppFactory,
) -> None:
    pool = FakePool()
    pool.fail_next("download_file", DestinationExistsError("data.csv appeared while downloading"))
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        files = main_screen(app).files
        files.table.move_cursor(row=files.table.get_row_index("data.csv"))
        await pilot.press("d")
        await settle(pilot)
        (entry,) = [e for e in app.messages if e.severity == "error"]
        assert "appeared while downloading" in entry.text
        assert entry.hint == "Download it again to choose Overwrite, Keep both or Save as."
