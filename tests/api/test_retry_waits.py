"""Who waits between attempts: retries use `retry_sleep` when given, polling keeps `sleep`;
and a client built with the default policy really waits out the server's Retry-After."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from dstui.api import RetryPolicy, RunOptions, SessionsClient
from dstui.emulator import EmulatorConfig, EmulatorServer
from tests.api.conftest import FakeTime, error, make_client, ok_json, queue
from tests.emulator_fixtures import SkippedWaits, retry_without_waiting

RUNNING = {"id": "op-1", "identifier": "abcd-1", "status": "Running"}
DONE = {"id": "op-1", "identifier": "abcd-1", "status": "Succeeded", "result": {"stdout": "ok"}}
METADATA: dict[str, Any] = {
    "runtimes": [],
    "preInstalledPackages": [],
    "createdAt": None,
    "lastUpdatedAt": None,
}


async def test_retry_waits_go_to_retry_sleep_and_polls_to_sleep(fake_time: FakeTime) -> None:
    skipped = SkippedWaits()
    policy = RetryPolicy(
        sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 1.0, retry_sleep=skipped
    )
    recorder = queue(
        error(429, "TooManyRequests", Retry_After="7"),
        ok_json(RUNNING, status=202),
        error(503),
        ok_json(DONE),
    )
    async with make_client(recorder, policy=policy) as client:
        execution = await client.execute("abcd-1", "1", RunOptions(asynchronous=True))
    assert execution.succeeded
    assert skipped.delays == [7.0, 0.5]  # the Retry-After, then the first backoff
    assert len(fake_time.sleeps) == 1  # one poll interval, paced by `sleep`


async def test_without_retry_sleep_retries_wait_with_sleep(fake_time: FakeTime) -> None:
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock)
    recorder = queue(error(503, Retry_After="2"), ok_json(METADATA))
    async with make_client(recorder, policy=policy) as client:
        await client.get_pool_metadata()
    assert fake_time.sleeps == [2.0]


def test_the_default_policy_sleeps_for_real() -> None:
    policy = RetryPolicy()
    assert policy.retry_sleep is None
    assert policy.sleep is asyncio.sleep
    assert retry_without_waiting().sleep is asyncio.sleep  # polling still takes real time


async def test_default_client_really_waits_out_retry_after() -> None:
    """Seed 1 makes the first request a 429 with `Retry-After: 1` and the second a success."""
    config = EmulatorConfig(auth=False, ready_sessions=0, faults="429=0.5", seed=1)
    with EmulatorServer(config) as server:
        async with SessionsClient(server.endpoint, auth=None) as client:
            started = time.monotonic()
            page = await client.list_sessions_page()
            waited = time.monotonic() - started
    assert not page.sessions
    assert waited >= 1.0


async def test_skipped_waits_still_ride_out_the_same_fault() -> None:
    config = EmulatorConfig(auth=False, ready_sessions=0, faults="429=0.5", seed=1)
    policy = retry_without_waiting()
    with EmulatorServer(config) as server:
        async with SessionsClient(server.endpoint, auth=None, retry=policy) as client:
            started = time.monotonic()
            page = await client.list_sessions_page()
            waited = time.monotonic() - started
    assert not page.sessions
    assert isinstance(policy.retry_sleep, SkippedWaits)
    assert policy.retry_sleep.delays == [1.0]
    assert waited < 1.0
