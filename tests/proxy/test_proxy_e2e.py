"""The proxy in front of the real emulator, over real HTTP: what passes is unchanged, and what
passed is in the recording, read back through `dstui trace --json`."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dstui.api import Execution, RunOptions, SessionsClient, StaticTokenProvider
from dstui.api.observer import SentExchange
from dstui.api.validation import new_identifier
from dstui.cli import main
from dstui.emulator import EmulatorServer
from dstui.proxy import ProxyServer
from tests.emulator_fixtures import retry_without_waiting
from tests.proxy.conftest import recording_bytes, wait_for_rows

NEW = "2025-10-02-preview"
CODE = "print('x' * 5000)\n6 * 7"
MakeProxy = Callable[..., ProxyServer]


def trace(capsys: pytest.CaptureFixture[str], record: Path, *options: str) -> list[dict[str, Any]]:
    assert main(["trace", "--record", str(record), "--json", *options]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def client_for(endpoint: str, token: str, sent: list[SentExchange] | None = None) -> SessionsClient:
    return SessionsClient(
        endpoint,
        auth=StaticTokenProvider(token),
        retry=retry_without_waiting(),
        observer=None if sent is None else sent.append,
    )


def test_executions_and_files_are_recorded_without_the_token(
    emulator: EmulatorServer,
    make_proxy: MakeProxy,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    assert emulator.token is not None
    proxy = make_proxy(emulator.endpoint)
    identifier = new_identifier("proxy")
    payload = bytes(range(256)) * 300
    source = tmp_path / "data.bin"
    source.write_bytes(payload)

    async def traffic() -> Execution:
        async with client_for(proxy.endpoint, token) as client:
            run = await client.execute(identifier, CODE, RunOptions(output_max_length=10_000))
            await client.upload_file(identifier, source)
            await client.download_file(identifier, "data.bin", tmp_path / "back.bin")
            return run

    token = emulator.token
    run = asyncio.run(traffic())
    assert run.result == 42
    assert (tmp_path / "back.bin").read_bytes() == payload

    assert proxy.store is not None
    wait_for_rows(proxy.store, 3)
    record = proxy.store.path
    rows = trace(capsys, record, "--identifier", identifier)
    assert [row["operation"] for row in rows] == ["execute", "upload", "download"]
    execute, upload, download = rows
    assert execute["code"] == CODE
    assert execute["status"] == 200 and execute["execution_status"] == "Succeeded"
    assert execute["execution_id"] == run.id and execute["result"] == "42"
    assert (
        execute["stdout"].startswith("x" * 4096)
        and "[cut: 905 more characters]" in execute["stdout"]
    )
    assert execute["api_version"] == NEW and execute["source"] == "proxy"
    assert "x-ms-overall-execution-time" in execute["timing"]
    checksum = hashlib.sha256(payload).hexdigest()
    assert (upload["file_direction"], upload["file_name"]) == ("upload", "data.bin")
    assert (upload["file_size"], upload["file_sha256"]) == (len(payload), checksum)
    assert (download["file_direction"], download["file_size"]) == ("download", len(payload))
    assert download["file_sha256"] == checksum
    for row in rows:
        assert "authorization" not in row["request_headers"]

    har = tmp_path / "trace.har"
    assert main(["trace", "--record", str(record), "--har", str(har)]) == 0
    curl = main(["trace", "--record", str(record), "--curl", str(execute["id"])])
    assert curl == 0
    printed = capsys.readouterr()
    assert '"Authorization: Bearer $DSTUI_TOKEN"' in printed.out
    token_bytes = emulator.token.encode()
    assert token_bytes not in recording_bytes(record)
    assert token_bytes not in har.read_bytes()
    assert emulator.token not in printed.out + printed.err
    entries = json.loads(har.read_text())["log"]["entries"]
    assert entries[-1]["response"]["status"] == 200


def test_async_execution_polls_are_tied_to_their_start(
    emulator: EmulatorServer, make_proxy: MakeProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    assert emulator.token is not None
    proxy = make_proxy(emulator.endpoint)
    identifier = new_identifier("proxy-async")
    code = "import time\ntime.sleep(0.6)\n'done'"

    sent: list[SentExchange] = []

    async def traffic() -> Execution:
        async with client_for(proxy.endpoint, token, sent) as client:
            return await client.execute(identifier, code, RunOptions(asynchronous=True))

    token = emulator.token
    run = asyncio.run(traffic())
    assert run.result == "done"
    assert proxy.store is not None
    wait_for_rows(proxy.store, len(sent))  # every exchange the client had, recorded
    rows = trace(capsys, proxy.store.path, "--identifier", identifier)
    start, *polls = rows
    assert start["operation"] == "execute" and start["execution_type"] == "Asynchronous"
    assert polls and all(p["operation"] == "get-execution" for p in polls)
    assert {p["parent"] for p in polls} == {start["id"]}
    assert {p["execution_id"] for p in polls} == {run.id}
    assert polls[-1]["execution_status"] == "Succeeded" and polls[-1]["result"] == "done"
