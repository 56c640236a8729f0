"""Shared emulator fixtures (loaded by tests/conftest.py through pytest_plugins).

`emulator`: one running EmulatorServer for the whole test session (token auth, long cooldown,
two ready kernels, bubblewrap when it works here). `emulator_client`: a SessionsClient on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from dstui.emulator import EmulatorConfig, EmulatorServer

if TYPE_CHECKING:
    from dstui.api import SessionsClient


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(EmulatorConfig(cooldown_s=3600.0, ready_sessions=2, sandbox="auto"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def emulator_client(emulator: EmulatorServer) -> AsyncIterator[SessionsClient]:
    from dstui.api import SessionsClient, StaticTokenProvider

    assert emulator.token is not None
    async with SessionsClient(
        emulator.endpoint, auth=StaticTokenProvider(emulator.token)
    ) as client:
        yield client
