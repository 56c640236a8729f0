"""The pool view (`m`) names the local emulator's sandbox; a real pool's metadata has none."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.api.models import PoolMetadata
from dstui.emulator import EmulatorServer
from tests.emulator_fixtures import retry_without_waiting
from tests.tui.conftest import build_app
from tests.tui.pilot_helpers import settle


async def test_pool_view_shows_which_sandbox_the_emulator_uses(
    emulator: EmulatorServer, workdir: Path
) -> None:
    assert emulator.token is not None and emulator.sandbox_choice is not None
    client = SessionsClient(
        emulator.endpoint,
        auth=StaticTokenProvider(emulator.token),
        retry=retry_without_waiting(),
    )
    app = build_app(client)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2", "m")
        await settle(pilot)
        summary = str(app.screen.query_one("#pool-summary", Static).render())
    assert f"sandbox     {emulator.sandbox_choice.summary}" in summary


def test_metadata_without_the_emulator_field_has_no_sandbox() -> None:
    real = {"runtimes": [{"name": "python", "version": "3.12"}], "preInstalledPackages": []}
    assert PoolMetadata.from_json(real).emulator_sandbox is None
    local = {**real, "dstuiEmulator": {"sandbox": "bwrap (bundled 0.11.0)"}}
    assert PoolMetadata.from_json(local).emulator_sandbox == "bwrap (bundled 0.11.0)"
