"""The CLI end to end over real HTTP against the local emulator (the `emulator` fixture)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dstui.api.validation import new_identifier
from tests.cli.conftest import MainRunner
from tests.cli.harness import Outcome


@pytest.fixture
def cli(run_main: MainRunner, emulator: Any, monkeypatch: pytest.MonkeyPatch) -> MainRunner:
    """`main` pointed at the emulator via the environment, as a script would do it."""
    monkeypatch.setenv("DSTUI_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("DSTUI_TOKEN", emulator.token)
    return run_main


def ok(result: Outcome) -> Outcome:
    assert result.code == 0, result.err
    return result


def test_files_round_trip(cli: MainRunner, emulator: Any, tmp_path: Path) -> None:
    identifier = new_identifier("cli-e2e")
    source = tmp_path / "data.bin"
    source.write_bytes(bytes(range(256)) * 64)

    put = ok(cli("files", "put", identifier, str(source), "--path", "in", "--verbose"))
    assert "HTTP Request: POST" in put.err
    assert identifier not in put.err  # masked in logs
    listing = json.loads(ok(cli("files", "ls", identifier, "--recursive", "--json")).out)
    entry = next(item for item in listing if item["name"] == "data.bin")
    assert entry["size"] == source.stat().st_size
    assert entry["directory"].strip("/").endswith("in")
    table = ok(cli("files", "ls", identifier, "--path", "in")).out
    assert "data.bin" in table

    target = tmp_path / "copy.bin"
    ok(cli("files", "get", identifier, "data.bin", "--path", "in", "-o", str(target)))
    assert target.read_bytes() == source.read_bytes()
    refused = cli("files", "get", identifier, "data.bin", "--path", "in", "-o", str(target))
    assert refused.code == 2
    assert "--force" in refused.err

    ok(cli("files", "rm", identifier, "data.bin", "--path", "in"))
    missing = cli("files", "get", identifier, "data.bin", "--path", "in", "-o", str(tmp_path / "x"))
    assert missing.code == 2
    assert "hint: " in missing.err
    assert not (tmp_path / "x").exists()


def test_exec_exit_codes_and_output(cli: MainRunner) -> None:
    identifier = new_identifier("cli-e2e")
    good = cli("exec", identifier, "import sys\nprint('out')\nprint('err', file=sys.stderr)\n6*7")
    assert good.code == 0, good.err
    assert good.out.splitlines() == ["out", "42"]
    assert "err" in good.err
    bad = cli("exec", identifier, "1/0", "--json")
    assert bad.code == 1
    execution = json.loads(bad.out)
    assert execution["status"] == "Failed"
    assert "ZeroDivisionError" in execution["stderr"]
    polled = cli("exec", identifier, "print('again')", "--async")
    assert (polled.code, polled.out) == (0, "again\n")


def test_sessions_and_pool_metadata(cli: MainRunner, emulator: Any) -> None:
    identifier = new_identifier("cli-e2e")
    ok(cli("exec", identifier, "x = 1"))

    listed = json.loads(ok(cli("sessions", "list", "--all", "--json")).out)
    assert identifier in {session["identifier"] for session in listed}
    assert identifier in ok(cli("sessions", "list")).out
    shown = ok(cli("sessions", "show", identifier)).out
    assert f"identifier:    {identifier}" in shown
    assert "expires in" in shown

    metadata = json.loads(ok(cli("pool", "metadata", "--json")).out)
    assert set(metadata) >= {"runtimes", "packages", "kernel"}

    ok(cli("sessions", "delete", identifier, "--yes"))
    gone = cli("sessions", "show", identifier)
    assert gone.code == 2
    assert gone.err.startswith("error: ")
    assert "hint: " in gone.err


def test_token_never_printed_and_wrong_token_explained(
    cli: MainRunner, emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    verbose = ok(cli("sessions", "list", "--verbose"))
    assert emulator.token not in verbose.out + verbose.err
    assert "HTTP Request: GET" in verbose.err

    token_file = tmp_path / "token"
    token_file.write_text(emulator.token + "\n", encoding="utf-8")
    monkeypatch.delenv("DSTUI_TOKEN")
    ok(cli("pool", "metadata", "--token-file", str(token_file)))

    monkeypatch.setenv("DSTUI_TOKEN", "wrong-token-value-123")
    denied = cli("sessions", "list")
    assert denied.code == 2
    assert "HTTP 401" in denied.err
    assert "hint: " in denied.err
    assert "wrong-token-value-123" not in denied.err
