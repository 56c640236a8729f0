"""The emulator records its own traffic (`dstui emulator --record PATH`), refusals included,
so an agent pointed straight at it shows up in `dstui trace` with no proxy."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from dstui.cli import main
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.emulator.cli import build_parser
from dstui.recording.export import ExportError, curl_command
from tests.proxy.conftest import recording_bytes, wait_for_rows

NEW = "2025-10-02-preview"


def test_emulator_records_what_it_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "emu.sqlite3"
    with EmulatorServer(EmulatorConfig(ready_sessions=0), record=record) as server:
        assert server.token is not None and server.recording is not None
        with httpx.Client(base_url=server.endpoint) as client:
            refused = client.get("/metadata", params={"api-version": NEW})
            served = client.get(
                "/metadata",
                params={"api-version": NEW},
                headers={"Authorization": f"Bearer {server.token}"},
            )
        assert (refused.status_code, served.status_code) == (401, 200)
        wait_for_rows(server.recording, 2)
        token = server.token
    assert main(["trace", "--record", str(record), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["source"], r["operation"], r["status"]) for r in rows] == [
        ("emulator", "metadata", 401),
        ("emulator", "metadata", 200),
    ]
    assert rows[0]["error_code"] == "Unauthorized"
    assert token.encode() not in recording_bytes(record)


def test_emulator_command_takes_a_recording_path() -> None:
    assert build_parser().parse_args(["--record", "/tmp/x.sqlite3"]).record == Path(
        "/tmp/x.sqlite3"
    )
    assert build_parser().parse_args([]).record is None


def test_a_refused_foreign_host_is_recorded_with_the_served_address(tmp_path: Path) -> None:
    record = tmp_path / "emu.sqlite3"
    with EmulatorServer(EmulatorConfig(ready_sessions=0), record=record) as server:
        assert server.recording is not None
        with httpx.Client(base_url=server.endpoint) as client:
            refused = client.get(
                "/metadata",
                params={"api-version": NEW},
                headers=[("Host", "evil.example"), ("X-Probe", "a"), ("X-Probe", "b")],
            )
        assert refused.status_code >= 400
        (row,) = wait_for_rows(server.recording, 1)
    served = httpx.URL(server.endpoint)
    assert row.origin == f"{served.scheme}://{served.host}:{served.port}"
    assert row.request_headers["x-probe"] == "a, b"
    assert "evil.example" not in curl_command(row)
    forged = replace(row, origin="http://evil.example")
    with pytest.raises(ExportError, match="not a loopback"):
        curl_command(forged)
