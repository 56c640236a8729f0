"""Shared emulator fixtures (loaded by tests/conftest.py through pytest_plugins).

`emulator`: one running EmulatorServer per test process (token auth, long cooldown, two ready
kernels, a sandbox when one works here, a 1 s interrupt grace); each xdist worker starts its
own on a free port.
`emulator_client`: a SessionsClient on it whose retries never sleep (see `retry_without_waiting`).
`make_emulator`: dedicated emulators for one test (faults, modes, limits).
`shell_emulator`: one Shell-pool emulator per test process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from dstui.api.retry import RetryPolicy
from dstui.emulator import EmulatorConfig, EmulatorServer
from tests.sandbox_marker import SUITE_SANDBOX

if TYPE_CHECKING:
    from dstui.api import SessionsClient


@dataclass
class SkippedWaits:
    """Records each retry delay and returns at once (a yield to the loop, no real sleep)."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def retry_without_waiting(**settings: Any) -> RetryPolicy:
    """The production retry rules, but a server's Retry-After (the emulator's fault injection
    sends 1 s) and the backoff are not waited out; execution polling still waits for real."""
    return RetryPolicy(retry_sleep=SkippedWaits(), **settings)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    # Under DSTUI_REQUIRE_SANDBOX=1 a missing sandbox fails the suite instead of degrading.
    # A kernel that swallows the interrupt is replaced after 1 s, not the service-like 5 s; one
    # that honours it stops within milliseconds either way.
    config = EmulatorConfig(
        cooldown_s=3600.0, ready_sessions=2, sandbox=SUITE_SANDBOX, interrupt_grace_s=1.0
    )
    server = EmulatorServer(config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def shell_emulator() -> Iterator[EmulatorServer]:
    """A Shell pool (`--container-type Shell`) for the tests of shell commands."""
    config = EmulatorConfig(container_type="Shell", cooldown_s=3600.0, sandbox=SUITE_SANDBOX)
    server = EmulatorServer(config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., EmulatorServer]]:
    """Start dedicated emulators (cheap without ready kernels); all are stopped afterwards."""
    started: list[EmulatorServer] = []

    def make(**overrides: Any) -> EmulatorServer:
        settings: dict[str, Any] = {"ready_sessions": 0, "cooldown_s": 3600.0}
        settings.update(overrides)
        server = EmulatorServer(EmulatorConfig(**settings))
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
async def emulator_client(emulator: EmulatorServer) -> AsyncIterator[SessionsClient]:
    from dstui.api import SessionsClient, StaticTokenProvider

    assert emulator.token is not None
    async with SessionsClient(
        emulator.endpoint,
        auth=StaticTokenProvider(emulator.token),
        retry=retry_without_waiting(),
    ) as client:
        yield client
