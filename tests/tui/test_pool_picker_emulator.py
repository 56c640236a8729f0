"""The pool picker against the real emulator's ARM surface (`dstui emulator --arm-demo`, in
process): the app starts on the picker (ARM, no endpoint), a picked pool's endpoint becomes
the client's, its sessions are listed over real HTTP, and switching keeps nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.api.arm import ArmClient
from dstui.api.arm_models import SessionPoolResource
from dstui.api.protocol import SessionPoolAPI
from dstui.emulator import EmulatorServer
from dstui.tui.app import DstuiApp
from dstui.tui.pool_directory import PoolDirectory
from dstui.tui.screens.main import MainScreen
from dstui.tui.screens.pool_actions import NO_SESSION_LIST
from dstui.tui.screens.pool_picker import PoolPickerScreen
from dstui.tui.widgets.chrome import TopBar
from tests.arm_fixtures import arm_emulator  # noqa: F401 - a fixture
from tests.tui.pilot_helpers import settle
from tests.tui.pools_fixtures import pool_settings

SIZE = (140, 45)


def directory_for(server: EmulatorServer) -> PoolDirectory:
    assert server.token is not None
    token = server.token

    def build(endpoint: str, _pool: SessionPoolResource) -> SessionPoolAPI:
        return SessionsClient(endpoint, auth=StaticTokenProvider(token))

    arm = ArmClient(endpoint=server.arm_endpoint, auth=StaticTokenProvider(token))
    return PoolDirectory(arm, build)


async def pick(pilot: Any, name: str) -> MainScreen:
    app = pilot.app
    if not isinstance(app.screen, PoolPickerScreen):
        await pilot.press("P")
    await settle(pilot)
    picker = app.screen
    assert isinstance(picker, PoolPickerScreen)
    picker.table.move_cursor([pool.name for pool in picker.pools].index(name))
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, MainScreen)
    return app.screen


async def test_picking_an_emulated_pool_lists_its_own_sessions(
    arm_emulator: EmulatorServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    directory = directory_for(arm_emulator)
    listing = await directory.list_pools()
    agents = next(pool for pool in listing.pools if pool.name == "agents")
    assert agents.pool_management_endpoint
    assert arm_emulator.token is not None
    async with SessionsClient(
        agents.pool_management_endpoint, auth=StaticTokenProvider(arm_emulator.token)
    ) as client:
        await client.list_files("picked-in-agents")  # the first request creates the session

    app = DstuiApp(None, pool_settings(pool_label="no pool yet — pick one"), directory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PoolPickerScreen)
        names = {pool.name for pool in picker.pools}
        assert names == {"agents", "notebooks", "shellbox", "webapp", "batch"}

        main = await pick(pilot, "agents")
        assert app.pool is not None and app.pool.endpoint == agents.pool_management_endpoint
        assert main.query_one(TopBar).pool_label == "agents · dstui-demo · westus2"
        assert "picked-in-agents" in main.sessions.loaded_order

        other = await pick(pilot, "notebooks")
        assert "picked-in-agents" not in other.sessions.loaded_order
        assert other.selected != "picked-in-agents"

        custom = await pick(pilot, "webapp")
        assert custom.sessions.failure == NO_SESSION_LIST
