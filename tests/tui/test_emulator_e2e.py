"""End to end over HTTP: the app driving the real emulator, also with injected faults.

create → run → upload → download → delete file → delete session. With faults on, every step
is retried from the UI until it succeeds: the app must stay up, report the failures, and
never leave a partial download behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.api.errors import ApiError, TransportError
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.tui.app import DstuiApp
from dstui.tui.screens.main import MainScreen
from dstui.tui.screens.modals import ConfirmModal
from tests.emulator_fixtures import retry_without_waiting
from tests.tui.conftest import build_app
from tests.tui.pilot_helpers import settle

pytestmark = pytest.mark.slow
SIZE = (120, 36)
PAYLOAD = "col\n" + "".join(f"{i}\n" for i in range(2000))


@pytest.fixture(scope="module")
def faulty_emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(
        EmulatorConfig(
            cooldown_s=3600.0,
            ready_sessions=0,
            faults="429=0.2,500=0.15,503=0.1,drop=0.1",
            seed=7,
        )
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def until(
    pilot: Pilot[Any], step: Callable[[], Awaitable[None]], done: Callable[[], bool], tries: int
) -> None:
    for _ in range(tries):
        await step()
        await settle(pilot)
        if done():
            return
        while not isinstance(pilot.app.screen, MainScreen):
            await pilot.press("escape")
            await pilot.pause()
    shown = [n.message for n in pilot.app._notifications]
    raise AssertionError(f"step did not succeed in {tries} tries; notifications: {shown}")


def client_for(server: EmulatorServer) -> SessionsClient:
    assert server.token is not None
    return SessionsClient(
        server.endpoint, auth=StaticTokenProvider(server.token), retry=retry_without_waiting()
    )


async def drive_workflow(
    server: EmulatorServer, workdir: Path, monkeypatch: pytest.MonkeyPatch, tries: int
) -> DstuiApp:
    identifier = f"e2e-{uuid.uuid4()}"
    monkeypatch.setattr(
        "dstui.tui.screens.session_actions.new_identifier", lambda prefix="dstui": identifier
    )
    source = workdir / "upload-src" / "table.csv"
    source.write_text(PAYLOAD, encoding="utf-8")
    downloaded = workdir / "downloads" / "table.csv"
    app = build_app(client_for(server))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.main_screen
        assert screen is not None
        output = screen.query_one("#output")

        await pilot.press("n", "enter")
        await settle(pilot)
        assert screen.selected == identifier
        screen.code.editor.text = "x = 21\nprint(x * 2)"

        async def run() -> None:
            await pilot.press("ctrl+r")

        await until(pilot, run, lambda: "Succeeded" in str(output.render()), tries)
        assert "42" in str(output.render())

        async def open_files() -> None:
            await pilot.press("4", "r")

        await until(pilot, open_files, lambda: screen.files.identifier == identifier, tries)

        async def upload() -> None:
            await pilot.press("u", *"table.csv", "enter")

        await until(pilot, upload, lambda: "table.csv" in screen.files.entries, tries)

        async def download() -> None:
            screen.files.table.move_cursor(
                row=screen.files.table.get_row_index("table.csv"), animate=False
            )
            await pilot.press("d")

        await until(pilot, download, downloaded.exists, tries)
        assert downloaded.read_text(encoding="utf-8") == PAYLOAD
        assert not list(downloaded.parent.glob(".*part*"))

        async def delete_file() -> None:
            await pilot.press("r")  # a lost answer may have left the listing stale
            await settle(pilot)
            if "table.csv" not in screen.files.entries:
                return
            screen.files.table.move_cursor(
                row=screen.files.table.get_row_index("table.csv"), animate=False
            )
            await pilot.press("ctrl+d")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("tab", "enter")

        await until(pilot, delete_file, lambda: "table.csv" not in screen.files.entries, tries)

        async def refresh_list() -> None:
            await pilot.press("1", "r")

        await until(
            pilot,
            refresh_list,
            lambda: (row := screen.sessions.session(identifier)) is not None and not row.local,
            tries,
        )

        async def delete_session() -> None:
            screen.sessions.move_to(identifier)
            await pilot.press("ctrl+d")
            await settle(pilot)
            await pilot.press("tab", "enter")

        await until(
            pilot, delete_session, lambda: screen.sessions.session(identifier) is None, tries
        )
        assert app.is_running
    async with client_for(server) as check:
        for _ in range(20):  # the check itself meets the injected faults too
            try:
                remaining = [s.identifier for s in await check.list_sessions()]
                break
            except (TransportError, ApiError):
                continue
        assert identifier not in remaining
    return app


async def test_full_workflow_against_the_emulator(
    emulator: EmulatorServer, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await drive_workflow(emulator, workdir, monkeypatch, tries=1)
    assert not [n for n in app._notifications if n.severity == "error"]


async def test_workflow_survives_injected_faults(
    faulty_emulator: EmulatorServer, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await drive_workflow(faulty_emulator, workdir, monkeypatch, tries=12)
    # Whatever failed on the way was reported, as plain text, and the app never died.
    assert all(not n.markup for n in app._notifications if n.severity == "error")


async def test_a_failing_pool_is_reported_and_the_app_stays_up(workdir: Path) -> None:
    server = EmulatorServer(EmulatorConfig(ready_sessions=0, faults="503=1.0", seed=1))
    server.start()
    try:
        app = build_app(client_for(server))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            errors = [n.message for n in app._notifications if n.severity == "error"]
            assert any("503" in message for message in errors)
            assert "Listing sessions failed" in app.main_screen.status.error
            await pilot.press("r")
            await settle(pilot)
            assert app.is_running
    finally:
        server.stop()
