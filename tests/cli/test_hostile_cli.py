"""The CLI against a misbehaving server and misleading inputs (issues 10 and 14): what reaches
the terminal is redacted and escaped, wrong paths are refused, errors stay machine-readable."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dstui.api.credential_hints import describe_credential_failure
from dstui.commands.output import format_size
from dstui.tui.formatting import format_size as tui_format_size
from tests.api.hostile_server import HostileServer, Request, head, json_response, threaded
from tests.cli.conftest import MainRunner

TOKEN = "opaque-cli-token-ABCDEF0123456789"
NASTY = "\x1b]0;owned\x07\x1b[2Jx.txt"
FILE = {"name": NASTY, "type": "File", "sizeInBytes": 3, "lastModifiedAt": "2026-01-01T00:00:00Z"}
SESSION = {
    "identifier": "evil\x1b[31m\u202eid",
    "createdAt": "2026-01-01T00:00:00Z",
    "lastAccessedAt": "2026-01-01T00:00:00Z",
    "expiresAt": "2026-01-01T01:00:00Z",
}


async def scripted(request: Request, writer: asyncio.StreamWriter) -> None:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    if request.path.endswith("/listSessions"):
        writer.write(json_response({"sessions": [SESSION], "nextLink": None}))
    elif request.path.endswith("/files"):
        writer.write(json_response({"value": [FILE], "nextLink": None}))
    elif request.path.endswith("/session"):
        envelope = {"error": {"code": "SessionNotFound", "message": f"no such session ({token})"}}
        writer.write(json_response(envelope, 404, {"x-ms-request-id": "req-42"}))
    else:
        writer.write(json_response({"error": {"code": "Nope", "message": "no"}}, 400))


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with threaded(scripted) as running:
        yield running


@pytest.fixture
def cli(run_main: MainRunner, server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> MainRunner:
    monkeypatch.setenv("DSTUI_ENDPOINT", server.endpoint)
    monkeypatch.setenv("DSTUI_TOKEN", TOKEN)
    return run_main


@pytest.mark.parametrize("path", ["/etc", "//etc", "/tmp", "/mnt", "/mnt/dataX"])
def test_an_absolute_path_outside_the_mount_is_refused(
    cli: MainRunner, server: HostileServer, tmp_path: Path, path: str
) -> None:
    local = tmp_path / "f.txt"
    local.write_text("x")
    result = cli("files", "put", "sess-1", str(local), "--path", path)
    assert result.code == 2
    assert "outside /mnt/data" in result.err
    assert "/mnt/data/results" in result.err
    assert server.requests == []


def test_a_token_echoed_in_an_error_is_never_printed(cli: MainRunner) -> None:
    result = cli("sessions", "show", "sess-1")
    assert result.code == 2
    assert TOKEN not in result.err
    assert "[redacted]" in result.err


def test_listed_names_with_control_characters_are_printed_escaped(cli: MainRunner) -> None:
    files = cli("files", "ls", "sess-1")
    sessions = cli("sessions", "list")
    for result in (files, sessions):
        assert result.code == 0, result.err
        assert "\x1b" not in result.out
        assert "\u202e" not in result.out
    assert "\\x1b]0;owned\\x07\\x1b[2Jx.txt" in files.out
    assert "evil\\x1b[31m\\u202eid" in sessions.out


def test_json_errors_are_json_objects_on_stderr(cli: MainRunner) -> None:
    result = cli("sessions", "show", "sess-1", "--json")
    assert result.code == 2
    assert result.out == ""
    error = json.loads(result.err)["error"]
    assert error["status"] == 404
    assert error["code"] == "SessionNotFound"
    assert error["request_id"] == "req-42"
    assert "no such session" in error["message"]
    assert error["hint"]
    assert TOKEN not in result.err


def test_json_errors_cover_usage_problems_too(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DSTUI_ENDPOINT", raising=False)
    result = run_main("sessions", "list", "--json")
    assert result.code == 2
    error = json.loads(result.err)["error"]
    assert error["status"] is None
    assert "no pool endpoint" in error["message"]


def test_config_show_prints_the_normalised_endpoint(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = "https://eastus.dynamicsessions.io/subscriptions/s/resourceGroups/g/sessionPools/p"
    monkeypatch.setenv("DSTUI_ENDPOINT", f"{pool}/python/execute/")
    text = run_main("config", "show")
    assert text.code == 0, text.err
    line = next(line for line in text.out.splitlines() if line.startswith("endpoint:"))
    assert line.split()[1] == pool
    shown = json.loads(run_main("config", "show", "--json").out)
    assert shown["endpoint_in_use"] == pool


def test_auth_cli_without_the_azure_cli_says_it_is_not_installed(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `az` anywhere
    monkeypatch.delenv("DSTUI_TOKEN", raising=False)
    pool = "https://eastus.dynamicsessions.io/subscriptions/s/resourceGroups/g/sessionPools/p"
    result = run_main("sessions", "list", "--auth", "cli", "--endpoint", pool)
    assert result.code == 2
    assert "the Azure CLI is not installed" in result.err
    assert "Install the Azure CLI" in result.err
    # azure-identity's own warning is detail for --verbose, not the message
    assert "WARNING" not in result.err
    assert "get_token failed" not in result.err


CHAIN_FAILURE = (
    "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
    "Attempted credentials:\n"
    "\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment "
    "variables are not fully configured.\n"
    "\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable.\n"
    "\tAzureCliCredential: {cli}\n"
    "\tAzurePowerShellCredential: PowerShell is not installed\n"
    "To mitigate this issue, please refer to the troubleshooting guidelines."
)


def test_the_default_chain_names_the_credential_to_fix() -> None:
    expired = CHAIN_FAILURE.format(cli="AADSTS70043: The refresh token has expired")
    reason, hint = describe_credential_failure("default", Exception(expired))
    assert reason.startswith("AzureCliCredential is set up but failed: AADSTS70043")
    assert "Fix AzureCliCredential: run `az login`" in hint

    missing = CHAIN_FAILURE.format(cli="Azure CLI not found on path")
    reason, hint = describe_credential_failure("default", Exception(missing))
    assert "no credential of the default chain is set up" in reason
    assert "EnvironmentCredential" in reason
    assert "Install the Azure CLI" in hint


def test_one_unit_style_for_sizes(run_main: MainRunner, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(146_800_640)  # sparse: nothing is written
    result = run_main("files", "put", "sess-1", str(big), "--endpoint", "http://127.0.0.1:9")
    assert result.code == 2
    assert "140.0 MiB (146,800,640 bytes), over the upload limit of 128.0 MiB" in result.err
    assert "128 MB" not in result.err
    assert format_size(146_800_640) == tui_format_size(146_800_640) == "140.0 MiB"


def test_json_usage_errors_are_json_too(run_main: MainRunner) -> None:
    result = run_main("sessions", "show", "--json")
    assert result.code == 2
    error = json.loads(result.err)["error"]
    assert error["message"] == "the following arguments are required: ID"
    plain = run_main("sessions", "show")
    assert plain.code == 2
    assert plain.err.startswith("usage: dstui sessions show")


async def endless_download(request: Request, writer: asyncio.StreamWriter) -> None:
    """A download that never ends (bounded: at most 64 MiB, slowly), so SIGTERM meets it."""
    writer.write(
        head(200, {"Content-Type": "application/octet-stream", "Content-Length": str(10**9)})
    )
    for _ in range(1024):
        writer.write(b"x" * 65536)
        await writer.drain()
        await asyncio.sleep(0.02)


def test_sigterm_mid_download_leaves_no_partial_file(tmp_path: Path) -> None:
    """`timeout 60 dstui files get ...` ends with SIGTERM: the clean-up of Ctrl-C must run."""
    target = tmp_path / "downloads"
    target.mkdir()
    with threaded(endless_download) as stub:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DSTUI_")}
        env.update(DSTUI_ENDPOINT=stub.endpoint, DSTUI_TOKEN=TOKEN, DSTUI_REQUEST_LOG="off")
        command = [sys.executable, "-m", "dstui", "files", "get", "sess-1", "big.bin", "-o"]
        process = subprocess.Popen(
            [*command, str(target)], env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 30
            while not any(target.iterdir()) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert any(target.iterdir()), "the download never started"
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=15)
        finally:
            process.kill()
    assert process.returncode == 143, err
    assert "Traceback" not in err and "terminated" in err
    assert sorted(os.listdir(target)) == []
