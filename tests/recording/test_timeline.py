"""A session's timeline from real recordings: dstui's own log, a proxy and the emulator behind
it, all seeing the same traffic, plus dstui's run history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dstui.api import (
    RunOptions,
    SessionsClient,
    ShellCommand,
    StaticTokenProvider,
    new_identifier,
)
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.proxy import ProxyOptions, ProxyServer
from dstui.recording import Exchange, RecordingStore
from dstui.recording.own_requests import OwnRequestLog
from dstui.recording.run_history import RunHistory, RunRecord
from dstui.recording.timeline import (
    MERGE_WINDOW_S,
    build_timeline,
    identifiers_in_recording,
    merge_timeline,
    recorded_sessions,
)
from tests.emulator_fixtures import retry_without_waiting
from tests.sandbox_marker import SUITE_SANDBOX


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, Path]:
    return {name: tmp_path / f"{name}.sqlite3" for name in ("own", "proxy", "emulator")}


@pytest.fixture
def chain(paths: dict[str, Path]) -> Iterator[tuple[EmulatorServer, ProxyServer]]:
    """An emulator recording its traffic, behind a recording proxy."""
    emulator = EmulatorServer(EmulatorConfig(ready_sessions=0), record=paths["emulator"])
    emulator.start()
    proxy = ProxyServer(ProxyOptions(upstream=emulator.endpoint, record=paths["proxy"]))
    try:
        proxy.start()
        yield emulator, proxy
    finally:
        proxy.stop()
        emulator.stop()


def open_stores(paths: dict[str, Path]) -> dict[str, RecordingStore]:
    return {name: RecordingStore(path, create=False) for name, path in paths.items()}


async def test_one_entry_per_event_from_three_recordings_and_the_history(
    chain: tuple[EmulatorServer, ProxyServer], paths: dict[str, Path], tmp_path: Path
) -> None:
    emulator, proxy = chain
    assert emulator.token is not None
    identifier = new_identifier("timeline")
    other = new_identifier("other")
    local = tmp_path / "notes.txt"
    local.write_bytes(b"abc" * 1000)
    log = OwnRequestLog(RecordingStore(paths["own"]))
    history = RunHistory(tmp_path / "history")
    async with SessionsClient(
        proxy.endpoint,
        auth=StaticTokenProvider(emulator.token),
        retry=retry_without_waiting(),
        observer=log,
    ) as client:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        first = await client.execute(identifier, "print('one')", RunOptions(operation_id="run-1"))
        history.append(
            identifier,
            RunRecord(
                at=started, code="print('one')", status="Succeeded", stdout="one\n",
                identifier=identifier, number=1, execution_id="run-1",
            ),
        )  # fmt: skip
        assert first.succeeded
        await client.upload_file(identifier, local)
        await client.list_files(identifier)
        await client.download_file(identifier, "notes.txt", tmp_path / "back.txt")
        slow = await client.execute(
            identifier, "import time\ntime.sleep(0.3)\n6 * 7", RunOptions(asynchronous=True)
        )
        assert slow.result == 42
        failed = await client.execute(identifier, "1/0")
        assert not failed.succeeded
        await client.execute(other, "pass")
    proxy.stop()
    emulator.stop()  # both flush what they still hold
    # A run only the history knows (the recording was off then).
    history.append(
        identifier,
        RunRecord(at="2020-01-01T00:00:00+00:00", code="x = 1", status="Succeeded", number=0),
    )

    stores = open_stores(paths)
    entries = build_timeline(identifier, stores, history.runs(identifier))
    summary = [(e.operation, e.kind, e.status) for e in entries]
    assert summary == [
        ("execute", "execution", "Succeeded"),  # the history-only run, from 2020
        ("execute", "execution", "Succeeded"),
        ("upload", "upload", "200"),
        ("list-files", "file", "200"),
        ("download", "download", "200"),
        ("execute", "execution", "Succeeded"),
        ("execute", "execution", "Failed"),
    ]
    old, run, upload, listing, download, polled, error = entries
    assert old.sources == ("dstui",) and old.links == () and old.code == "x = 1"
    for entry in entries[1:]:
        assert set(entry.sources) == {"dstui", "proxy", "emulator"}, entry
        assert {link.store for link in entry.links} == {"own", "proxy", "emulator"}, entry
        assert entry.merged  # says how the copies were recognised
    assert run.run_number == 1 and run.code == "print('one')" and run.outcome == "one"
    assert "same execution id as dstui's run" in run.merged
    assert (upload.file_name, upload.file_size) == ("notes.txt", 3000)
    assert (download.file_name, download.file_size) == ("notes.txt", 3000)
    assert upload.ok and download.ok and listing.ok
    # The asynchronous run's polls fold into it: the entry ends as the last poll said.
    assert polled.outcome == "42" and polled.ok is True
    assert len(polled.links) > 3
    assert polled.duration_ms is not None and polled.duration_ms >= 300
    assert error.ok is False and error.outcome is not None and "ZeroDivisionError" in error.outcome
    # Every link opens its exchange, which is about this session.
    for entry in entries[1:]:
        for link in entry.links:
            exchange = stores[link.store].get(link.number)
            assert exchange is not None and exchange.identifier == identifier

    sessions = recorded_sessions(stores.values(), [identifier])
    assert {s.identifier: s.in_pool for s in sessions} == {identifier: True, other: False}
    assert identifiers_in_recording(stores.values(), [identifier]) == {other}
    for store in stores.values():
        store.close()


def exchange(number: int, source: str, at: float, **fields: object) -> tuple[str, Exchange]:
    values: dict[str, object] = {
        "method": "GET", "path": "/files", "operation": "list-files", "status": 200,
        "identifier": "s",
    }  # fmt: skip
    values |= fields
    return source, Exchange(started=at, source=source, id=number, **values)  # type: ignore[arg-type]


def test_identical_requests_of_one_source_stay_apart_and_far_ones_do_not_merge() -> None:
    entries = merge_timeline(
        [
            exchange(1, "dstui", 100.0),
            exchange(2, "dstui", 100.5),  # a retry: the same source twice
            exchange(3, "emulator", 100.1),
            exchange(4, "proxy", 100.0 + MERGE_WINDOW_S + 5),  # too late to be the same
        ]
    )
    assert [e.sources for e in entries] == [("emulator", "dstui"), ("dstui",), ("proxy",)]
    assert entries[0].merged == (f"same request and status within {MERGE_WINDOW_S:g} s",)


def test_request_ids_decide_over_the_time_window() -> None:
    entries = merge_timeline(
        [
            exchange(1, "dstui", 100.0, request_id="a"),
            exchange(2, "emulator", 100.2, request_id="b"),
            exchange(3, "emulator", 100.3, request_id="a"),
        ]
    )
    assert [e.sources for e in entries] == [("emulator", "dstui"), ("emulator",)]
    assert [link.number for link in entries[0].links] == [1, 3]
    assert entries[0].merged == ("same request id",)


def test_a_legacy_run_matches_by_code_and_time() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    entries = merge_timeline(
        [
            exchange(
                1,
                "emulator",
                at.timestamp() + 0.4,
                method="POST",
                path="/code/execute",
                operation="execute",
                code="print(2)",
                execution_status="Succeeded",
            )
        ],
        [RunRecord(at=at.isoformat(), code="print(2)", status="Succeeded", number=4)],
    )
    assert len(entries) == 1 and entries[0].run_number == 4
    assert entries[0].sources == ("emulator", "dstui")
    assert entries[0].merged == (f"same code as dstui's run within {MERGE_WINDOW_S:g} s",)


async def test_shell_commands_show_their_exit_code_and_outcome(tmp_path: Path) -> None:
    record = tmp_path / "shell.sqlite3"
    config = EmulatorConfig(container_type="Shell", ready_sessions=0, sandbox=SUITE_SANDBOX)
    shell = EmulatorServer(config, record=record)
    shell.start()
    try:
        assert shell.token is not None
        identifier = new_identifier("shell-timeline")
        async with SessionsClient(
            shell.endpoint, auth=StaticTokenProvider(shell.token), retry=retry_without_waiting()
        ) as client:
            await client.execute(identifier, ShellCommand("echo fine"))
            await client.execute(identifier, ShellCommand("echo bad >&2; exit 3"))
    finally:
        shell.stop()
    with RecordingStore(record, create=False) as store:
        entries = build_timeline(identifier, {"emulator": store})
    runs = [entry for entry in entries if entry.kind == "execution"]
    assert [(entry.status, entry.ok) for entry in runs] == [("exit 0", True), ("exit 3", False)]
    assert runs[1].outcome == "bad"
