"""End to end over HTTP: a run in the real emulator, which records its own traffic; the
Traffic view shows it, enter loads its code, the Timeline merges it with the run history, and
the Variables probe reads the kernel's globals."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.tui.screens.timeline import TimelineScreen
from dstui.tui.screens.traffic import TrafficScreen
from dstui.tui.screens.variables import VariablesModal
from tests.emulator_fixtures import SUITE_SANDBOX, retry_without_waiting
from tests.tui.conftest import build_app
from tests.tui.pilot_helpers import settle

pytestmark = pytest.mark.slow
CODE = "answer = [n * n for n in range(6)]\nprint(sum(answer))"


async def test_a_run_shows_up_in_traffic_timeline_and_variables(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identifier = f"e2e-debug-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(
        "dstui.tui.screens.session_actions.new_identifier", lambda prefix="dstui": identifier
    )
    record = workdir / "data" / "traffic.sqlite3"
    record.parent.mkdir()
    server = EmulatorServer(
        EmulatorConfig(cooldown_s=3600.0, ready_sessions=0, sandbox=SUITE_SANDBOX), record=record
    )
    server.start()
    try:
        assert server.token is not None
        client = SessionsClient(
            server.endpoint, auth=StaticTokenProvider(server.token), retry=retry_without_waiting()
        )
        app = build_app(client)
        async with app.run_test(size=(140, 45)) as pilot:
            await settle(pilot)
            screen = app.main_screen
            await pilot.press("n", "enter")
            await settle(pilot)
            screen.code.editor.text = CODE
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert "55" in str(screen.query_one("#output").render())

            await pilot.press("escape", "t")
            await settle(pilot)
            traffic = app.screen
            assert isinstance(traffic, TrafficScreen)
            runs = [e for e in traffic.exchanges.values() if e.operation == "execute"]
            assert len(runs) == 1 and runs[0].identifier == identifier
            assert runs[0].source == "emulator" and runs[0].status == 200
            assert "55" in (runs[0].stdout or "")
            screen.code.editor.text = "draft"
            traffic.table.move_cursor(row=traffic.table.get_row_index(str(runs[0].id)))
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is screen and screen.code.editor.text == CODE

            await pilot.press("escape", "T")
            await settle(pilot)
            timeline = app.screen
            assert isinstance(timeline, TimelineScreen)
            executions = [e for e in timeline.entries if e.kind == "execution"]
            assert len(executions) == 1
            assert executions[0].run_number == 1 and "dstui" in executions[0].sources

            await pilot.press("escape", "v")
            await settle(pilot)
            variables = app.screen
            assert isinstance(variables, VariablesModal)
            assert variables.report is not None
            names = {row.name: row for row in variables.report.rows}
            assert names["answer"].type_name == "list" and names["answer"].length == 6
            assert "In" not in names  # IPython's own names are hidden by default
    finally:
        server.stop()
