"""The client end to end over real HTTP against the local emulator (both API shapes)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from dstui.api import (
    AuthenticationError,
    DestinationExistsError,
    DynamicSessionsError,
    ExecutionStatus,
    NotFoundError,
    RunOptions,
    ServerError,
    SessionsClient,
    StaticTokenProvider,
    TransportError,
    new_identifier,
)
from dstui.emulator import EmulatorConfig, EmulatorServer
from tests.emulator_fixtures import retry_without_waiting


async def test_execute_sync_and_async(emulator_client: SessionsClient) -> None:
    identifier = new_identifier()
    first = await emulator_client.execute(identifier, "x = 6\nprint(x * 7)")
    assert first.succeeded
    assert first.stdout.strip() == "42"
    polled: list[ExecutionStatus] = []
    second = await emulator_client.execute(
        identifier,
        "import time\ntime.sleep(0.3)\nx * 10",
        RunOptions(asynchronous=True),
        on_poll=lambda e: polled.append(e.status),
    )
    assert second.succeeded
    assert second.result == 60
    assert polled and all(not status.is_terminal for status in polled)
    failed = await emulator_client.execute(identifier, "1/0")
    assert failed.status is ExecutionStatus.FAILED
    assert "ZeroDivisionError" in failed.stderr


async def test_files_round_trip(emulator_client: SessionsClient, tmp_path: Path) -> None:
    identifier = new_identifier()
    local = tmp_path / "data.csv"
    local.write_bytes(b"a,b\n" + b"1,2\n" * 50_000)
    uploaded = await emulator_client.upload_file(identifier, local, path="results")
    assert (uploaded.name, uploaded.size) == ("data.csv", local.stat().st_size)
    listed = await emulator_client.list_files(identifier, path="/mnt/data/results")
    assert [f.name for f in listed] == ["data.csv"]
    root = await emulator_client.list_files(identifier)
    assert any(f.name == "results" and f.is_dir for f in root)
    assert (await emulator_client.get_file(identifier, "data.csv", path="results")).size == (
        local.stat().st_size
    )
    assert await emulator_client.read_file(identifier, "data.csv", path="results", max_bytes=8) == (
        b"a,b\n1,2\n"
    )
    target = tmp_path / "copy.csv"
    await emulator_client.download_file(identifier, "data.csv", target, path="results")
    assert target.read_bytes() == local.read_bytes()
    with pytest.raises(DestinationExistsError):
        await emulator_client.download_file(identifier, "data.csv", target, path="results")
    await emulator_client.delete_file(identifier, "data.csv", path="results")
    assert await emulator_client.list_files(identifier, path="results") == []
    with pytest.raises(NotFoundError) as gone:
        await emulator_client.read_file(identifier, "data.csv", path="results")
    assert gone.value.hint.startswith("There is no file /mnt/data/results/data.csv in this session")


async def test_sessions_list_get_delete(emulator_client: SessionsClient) -> None:
    identifier = new_identifier()
    await emulator_client.execute(identifier, "1")
    listed = {s.identifier for s in await emulator_client.list_sessions()}
    assert identifier in listed
    session = await emulator_client.get_session(identifier)
    assert session.expires_at is not None
    managed = await emulator_client.get_session(identifier, management=True)
    assert managed.identifier == identifier
    await emulator_client.delete_session(identifier)
    assert identifier not in {s.identifier for s in await emulator_client.list_sessions()}
    with pytest.raises(DynamicSessionsError) as caught:
        await emulator_client.get_session(identifier, management=True)
    assert caught.value.status in (400, 404)


async def test_legacy_shape_against_emulator(emulator: EmulatorServer, tmp_path: Path) -> None:
    assert emulator.token is not None
    async with SessionsClient(
        emulator.endpoint,
        api_version="2024-02-02-preview",
        auth=StaticTokenProvider(emulator.token),
        retry=retry_without_waiting(),
    ) as client:
        identifier = new_identifier()
        execution = await client.execute(identifier, "print('old')")
        assert execution.succeeded
        assert execution.stdout == "old\n"
        local = tmp_path / "old.txt"
        local.write_text("legacy")
        uploaded = await client.upload_file(identifier, local)
        assert uploaded.name == "old.txt"
        assert [f.name for f in await client.list_files(identifier)] == ["old.txt"]
        assert await client.read_file(identifier, "old.txt") == b"legacy"


async def test_wrong_token_is_an_authentication_error(emulator: EmulatorServer) -> None:
    async with SessionsClient(
        emulator.endpoint,
        auth=StaticTokenProvider("not-the-emulator-token"),
        retry=retry_without_waiting(),
    ) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.execute(new_identifier(), "1")
    assert "not-the-emulator-token" not in str(caught.value)


async def test_concurrent_executions_in_separate_sessions(
    emulator_client: SessionsClient,
) -> None:
    identifiers = [new_identifier() for _ in range(3)]
    results = await asyncio.gather(
        *(emulator_client.execute(i, f"{n} * 3") for n, i in enumerate(identifiers))
    )
    assert [r.result for r in results] == [0, 3, 6]
    assert len({r.session_guid for r in results}) == 3
    for identifier in identifiers:
        await emulator_client.delete_session(identifier)


@pytest.fixture(scope="module")
def faulty_emulator() -> Iterator[EmulatorServer]:
    """Injected 429/500/503 answers and dropped connections, in a fixed (seeded) order."""
    config = EmulatorConfig(
        auth=False, ready_sessions=0, faults="429=0.1,500=0.15,503=0.1,drop=0.15", seed=11
    )
    with EmulatorServer(config) as server:
        yield server


async def test_client_rides_out_faults_and_never_runs_code_twice(
    faulty_emulator: EmulatorServer,
) -> None:
    """Reads are retried until they succeed; an execution is retried only after a 429 (the
    service ran nothing), so the code ran exactly once per success plus once per answer lost
    on a dropped connection (the fault drops the answer after the code ran)."""
    policy = retry_without_waiting(max_attempts=10, total_budget_s=60)
    identifier = new_identifier()
    outcomes: list[str] = []
    async with SessionsClient(faulty_emulator.endpoint, auth=None, retry=policy) as client:
        for _ in range(12):
            try:
                await client.execute(identifier, "open('runs', 'a').write('x')")
                outcomes.append("ok")
            except ServerError:
                outcomes.append("5xx")  # injected before the route: nothing ran
            except TransportError:
                outcomes.append("dropped")  # injected after the route: the code ran
        for _ in range(5):
            assert (await client.list_sessions_page()).sessions
        runs = await client.read_file(identifier, "runs")
    assert {"ok", "5xx", "dropped"} <= set(outcomes), outcomes
    assert len(runs) == outcomes.count("ok") + outcomes.count("dropped")
