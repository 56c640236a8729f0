"""The run flow against the real emulator over HTTP: GET /session keeps a session alive, the
emulator-only interrupt, a re-allocated session named in the result, and a quiet shutdown
with a run in flight."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from dstui.api import RunOptions, SessionsClient, StaticTokenProvider
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.tui.app import DstuiApp
from tests.emulator_fixtures import retry_without_waiting
from tests.tui.conftest import AppFactory, build_app
from tests.tui.pilot_helpers import main_screen, settle

pytestmark = pytest.mark.slow
SIZE = (120, 36)


def client_for(server: EmulatorServer) -> SessionsClient:
    assert server.token is not None
    return SessionsClient(
        server.endpoint, auth=StaticTokenProvider(server.token), retry=retry_without_waiting()
    )


async def until(predicate: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached in {seconds} s")


async def test_get_session_resets_the_cooldown(emulator_client: SessionsClient) -> None:
    identifier = f"touch-{uuid.uuid4()}"
    await emulator_client.list_files(identifier)  # creates it
    first = await emulator_client.get_session(identifier)
    await asyncio.sleep(0.05)
    second = await emulator_client.get_session(identifier)
    assert first.last_accessed_at is not None and second.last_accessed_at is not None
    assert second.last_accessed_at > first.last_accessed_at
    assert second.expires_at is not None and first.expires_at is not None
    assert second.expires_at > first.expires_at


async def test_interrupt_is_an_emulator_extension(emulator_client: SessionsClient) -> None:
    identifier = f"interrupt-{uuid.uuid4()}"
    await emulator_client.list_files(identifier)
    assert await emulator_client.interrupt_kernel(identifier) is False  # nothing running
    run = asyncio.create_task(
        emulator_client.execute(identifier, "import time\ntime.sleep(30)", RunOptions(timeout=60))
    )
    # Until the kernel is running the code: an interrupt that arrives before it is lost.
    deadline = asyncio.get_running_loop().time() + 20
    while not run.done():
        assert asyncio.get_running_loop().time() < deadline, "the run was never interrupted"
        if await emulator_client.interrupt_kernel(identifier):
            await asyncio.wait({run}, timeout=0.5)
        else:
            await asyncio.sleep(0.05)
    execution = await run
    assert "KeyboardInterrupt" in execution.stderr


async def test_stopped_run_is_interrupted_and_fetched_from_the_tui(
    emulator: EmulatorServer, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identifier = f"tui-stop-{uuid.uuid4()}"
    monkeypatch.setattr(
        "dstui.tui.screens.session_actions.new_identifier", lambda prefix="dstui": identifier
    )
    plain = build_app(client_for(emulator))
    app = DstuiApp(plain.pool, replace(plain.settings, emulator=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("n", "enter")
        await settle(pilot)
        screen.code.editor.text = "import time\nprint('before', flush=True)\ntime.sleep(30)"
        await pilot.press("ctrl+r")
        await pilot.pause(1.5)
        await pilot.press("f4")
        await settle(pilot)
        assert "f12 interrupts the kernel" in str(screen.query_one("#output").render())
        await pilot.press("f12")
        await settle(pilot)
        assert any("Interrupted" in n.message for n in app._notifications)
        await pilot.press("f2")
        await until(lambda: "Fetched" in str(screen.query_one("#output").render()), 15)
        shown = str(screen.query_one("#output").render())
        assert "KeyboardInterrupt" in shown and "before" in shown


async def test_a_reallocated_session_is_named_in_the_result(
    emulator: EmulatorServer, make_app: AppFactory
) -> None:
    identifier = f"realloc-{uuid.uuid4()}"
    async with client_for(emulator) as outside:
        await outside.execute(identifier, "x = 1")
        app = make_app(client_for(emulator))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = main_screen(app)
            await until(lambda: screen.sessions.session(identifier) is not None, 5)
            assert screen.sessions.move_to(identifier)
            await settle(pilot)
            await outside.delete_session(identifier)  # someone else deletes it meanwhile
            screen.code.editor.text = "print('x' in dir())"
            await pilot.press("ctrl+r")
            await settle(pilot)
            shown = str(screen.query_one("#output").render())
            assert "The pool allocated a new session" in shown
            assert "False" in shown


def test_shutdown_with_a_run_in_flight_is_quiet_and_kills_the_kernel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = EmulatorServer(EmulatorConfig(ready_sessions=0))
    server.start()

    async def start_run() -> None:
        async with client_for(server) as client:
            await client.execute(
                "shutdown-1", "import time\ntime.sleep(30)", RunOptions(timeout=60)
            )

    def run_in_thread() -> None:
        with contextlib.suppress(Exception):  # the emulator goes away under it: the point
            asyncio.run(start_run())

    thread = threading.Thread(target=run_in_thread, daemon=True)
    state = server.state
    assert state is not None
    caplog.set_level(logging.INFO)
    thread.start()
    deadline = time.monotonic() + 20
    session = None
    while time.monotonic() < deadline:
        session = state.pool.sessions.get("shutdown-1")
        if session is not None and session.container.kernel is not None and session.lock.locked():
            break
        time.sleep(0.05)
    assert session is not None and session.container.kernel is not None
    kernel_pid = session.container.kernel.pid
    assert kernel_pid is not None
    time.sleep(0.5)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
    thread.join(5)
    assert not [r for r in caplog.records if "Exception in ASGI application" in r.getMessage()]
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
    with pytest.raises(ProcessLookupError):
        os.kill(kernel_pid, 0)
