"""Shell and custom-container pools and the auth doctor in the explorer, against the real
emulator over HTTP: a Shell pool's command line and exit code, a custom container's refusal
of the session list, its request pane and stop, and the doctor screen (no token shown)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.emulator import EmulatorServer
from dstui.tui.doctor_source import emulator_source
from dstui.tui.screens.doctor import DoctorScreen
from tests.arm_fixtures import arm_emulator  # noqa: F401 - a fixture
from tests.emulator.test_custom_container import APP_COMMAND, TARGET_PORT
from tests.emulator_fixtures import retry_without_waiting
from tests.sandbox_marker import SUITE_SANDBOX
from tests.tui.pilot_helpers import main_screen, settle
from tests.tui.pool_type_helpers import typed_app

pytestmark = pytest.mark.slow
SIZE = (120, 36)


def client_for(server: EmulatorServer) -> SessionsClient:
    assert server.token is not None
    return SessionsClient(
        server.endpoint, auth=StaticTokenProvider(server.token), retry=retry_without_waiting()
    )


def screen_text(app: Any) -> str:
    """What the terminal shows now, as plain text, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def last_message(app: Any) -> str:
    return list(app._notifications)[-1].message


async def test_a_shell_command_shows_its_exit_code_and_output(
    shell_emulator: EmulatorServer, workdir: Path
) -> None:
    pool = client_for(shell_emulator)
    app = typed_app(pool, container_type="Shell")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await pilot.press("3", *"echo hi; exit 3", "ctrl+r")
        await settle(pilot)
        for _ in range(100):
            if main.runs.last_results:
                break
            await pilot.pause(0.1)
        record = next(iter(main.runs.last_results.values()))
        assert (record.exit_code, record.stdout.strip()) == (3, "hi")
        shown = str(main.query_one("#output").render())
        assert "✘ exit 3" in shown and "hi" in shown
        await pilot.press("escape", "f12")
        await settle(pilot)
        assert "Shell pool: interrupt needs a Python kernel" in last_message(app)


async def test_a_custom_container_pool_found_from_its_answers(
    make_emulator: Callable[..., EmulatorServer], workdir: Path
) -> None:
    server = make_emulator(
        container_type="CustomContainer",
        container_command=APP_COMMAND,
        target_port=TARGET_PORT,
        sandbox=SUITE_SANDBOX,
    )
    pool = client_for(server)
    app = typed_app(pool)  # no --container-type: the list's refusal tells
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert main.pool_type.kind == "CustomContainer"
        assert main.pool_type.source == "learned from the session list"
        assert "not an empty pool" in main.sessions.failure
        assert not main.status.error  # a type, not an error
        await pilot.press("o", *"web-1", "enter")
        await settle(pilot)
        assert main.selected == "web-1"
        await pilot.press("4")  # no file API: nothing is sent to the app's /files
        await settle(pilot)
        assert "it has no file API" in str(main.files.query_one("#files-note").render())
        assert "has no session yet: R starts one" in last_message(app)
        assert not main.status.error
        await pilot.press("1", "R")
        await settle(pilot)
        await pilot.press(*"/teapot?x=1", "enter")
        await settle(pilot)
        shown = str(app.screen.query_one("#response").render())
        assert shown.startswith("418") and "x-app: tiny" in shown and '"method": "GET"' in shown
        await pilot.press("escape")
        await settle(pilot)
        row = main.sessions.session("web-1")  # the app answered: getSession confirmed it
        assert row is not None and not row.local and row.session.expires_at is not None
        await pilot.press("1", "ctrl+d")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot)
        assert "Stopped 1 session" in last_message(app)
    await pool.aclose()


async def test_the_doctor_screen_checks_the_emulator_and_never_shows_the_token(
    emulator: EmulatorServer, workdir: Path
) -> None:
    pool = client_for(emulator)
    assert emulator.token is not None
    source = emulator_source(emulator.endpoint, pool.api_version, emulator.token)
    app = typed_app(pool, doctor=source)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DoctorScreen)
        for _ in range(100):
            if screen.report is not None:
                break
            await pilot.pause(0.1)
        assert screen.report is not None
        statuses = {check.id: check.status.value for check in screen.report.checks}
        assert statuses["endpoint"] == "ok" and statuses["access"] == "ok"
        assert statuses["arm"] == "skip"
        rendered = screen_text(app)
        assert "Authenticated read-only call" in rendered
        assert emulator.token not in rendered
        await pilot.press("r")
        await settle(pilot)
        assert screen.report is not None
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, DoctorScreen)
    await pool.aclose()


async def test_a_shell_pool_picked_from_arm_runs_commands_and_the_doctor_checks_its_role(
    arm_emulator: EmulatorServer,  # noqa: F811
    workdir: Path,
) -> None:
    from dstui.api.arm import ArmClient
    from dstui.config import TOKEN_ENV_VAR, Connection
    from dstui.tui.app import DstuiApp
    from dstui.tui.doctor_source import DoctorSource
    from tests.tui.pools_fixtures import pool_settings
    from tests.tui.test_pool_picker_emulator import directory_for, pick

    token = arm_emulator.token
    assert token is not None
    connection = Connection(
        None,
        "2025-10-02-preview",
        "token",
        None,
        None,
        None,
        arm_endpoint=arm_emulator.arm_endpoint,
    )
    source = DoctorSource(
        connection,
        open_arm=lambda: ArmClient(
            endpoint=arm_emulator.arm_endpoint, auth=StaticTokenProvider(token)
        ),
        environ=lambda: {TOKEN_ENV_VAR: token},
    )
    app = DstuiApp(None, pool_settings(doctor=source), directory_for(arm_emulator))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        main = await pick(pilot, "shellbox")
        assert (main.pool_type.kind, main.pool_type.source) == ("Shell", "ARM")
        await pilot.press("n", "enter")  # a new session, then its first command
        await settle(pilot)
        await pilot.press("3", *"echo hi; exit 3", "ctrl+r")
        for _ in range(100):
            await settle(pilot)
            if main.runs.last_results:
                break
            await pilot.pause(0.1)
        record = next(iter(main.runs.last_results.values()))
        assert (record.exit_code, record.stdout.strip()) == (3, "hi")
        await pilot.press("escape", "H")
        await settle(pilot)
        doctor = app.screen
        assert isinstance(doctor, DoctorScreen)
        for _ in range(100):
            if doctor.report is not None:
                break
            await pilot.pause(0.1)
        assert doctor.report is not None
        arm = doctor.report.get("arm")
        # Found in ARM at the endpoint in use; an opaque emulator token names no principal.
        assert arm is not None and arm.status.value == "warn", arm
        assert arm.finding.startswith("pool shellbox") and "oid" in arm.fix
        assert "shellbox" in doctor.target
        assert token not in screen_text(app)
