"""Review findings on the CLI: server text escaped in `trace`, paths with an unknown `~user`,
the proxy's resolved credentials, HAR temp files, SIGTERM during --follow, lazy imports."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dstui.api.fake_pool import FakePool
from dstui.commands.context import CommandEnv
from dstui.commands.proxy import _upstream_credential
from dstui.config import ConfigError, load_config
from dstui.recording import Exchange, RecordingStore
from tests.cli.conftest import MainRunner

NO_USER = "~nosuchuser-dstui-review"


def _record(path: Path, **fields: Any) -> None:
    values: dict[str, Any] = {
        "started": time.time(),
        "source": "proxy",
        "method": "POST",
        "path": "/executions",
        "operation": "execute",
        "status": 400,
    }
    values.update(fields)
    with RecordingStore(path) as store:
        store.add(Exchange(**values))


def test_trace_escapes_the_servers_status_and_error_code(
    run_main: MainRunner, tmp_path: Path
) -> None:
    record = tmp_path / "r.sqlite3"
    _record(record, execution_status="Succ\x1b[2Jeeded", error_code="Bad\x1b]0;pwned\x07")
    result = run_main("trace", "--record", str(record))
    assert result.code == 0
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert "Succ" in result.out and "Bad" in result.out


def test_trace_json_lines_escape_bidi_and_c1_characters(
    run_main: MainRunner, tmp_path: Path
) -> None:
    record = tmp_path / "r.sqlite3"
    _record(record, error="evil\u202etxt.exe\x9b")
    result = run_main("trace", "--record", str(record), "--json")
    assert result.code == 0
    assert "\u202e" not in result.out and "\x9b" not in result.out
    assert "\\u202e" in result.out and "\\u009b" in result.out


@pytest.mark.parametrize(
    "argv",
    [
        ("files", "put", "some-session", f"{NO_USER}/data.csv"),
        ("files", "get", "some-session", "data.csv", "-o", f"{NO_USER}/x"),
        ("exec", "some-session", "-f", f"{NO_USER}/script.py"),
    ],
)
def test_an_unknown_home_in_a_local_path_is_a_clear_error(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")
    fake = FakePool(session_count=1)
    result = run_main(*argv, factory=lambda connection: fake)
    assert result.code == 2
    assert "no such user's home directory" in result.err
    assert "Traceback" not in result.err and "RuntimeError" not in result.err


def test_an_unknown_home_in_har_or_ca_file_is_a_clear_error(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record = tmp_path / "r.sqlite3"
    _record(record)
    har = run_main("trace", "--record", str(record), "--har", f"{NO_USER}/out.har")
    assert har.code == 2 and "no such user's home directory" in har.err
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("DSTUI_CA_FILE", f"{NO_USER}/ca.pem")
    listed = run_main("sessions", "list")
    assert listed.code == 2
    assert "DSTUI_CA_FILE" in listed.err and "Traceback" not in listed.err


def test_an_unknown_home_in_the_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.prod]\nendpoint = "https://x"\ntoken_file = "{NO_USER}/t"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert caught.value.key == "profiles.prod.token_file"
    assert "no such user's home directory" in caught.value.message


def test_a_failed_har_write_leaves_no_temp_file(run_main: MainRunner, tmp_path: Path) -> None:
    record = tmp_path / "r.sqlite3"
    _record(record)
    taken = tmp_path / "out.har"
    taken.mkdir()
    (taken / "inside").write_text("keep")  # a non-empty folder: os.replace refuses it
    result = run_main("trace", "--record", str(record), "--har", str(taken))
    assert result.code == 2 and "cannot write" in result.err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dstui-har-")] == []


def test_the_proxy_takes_token_and_ca_file_from_the_resolved_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-the-token-file\n")
    ca = tmp_path / "ca.pem"
    environ = {
        "DSTUI_TOKEN_FILE": str(token_file),
        "DSTUI_CA_FILE": str(ca),
        "DSTUI_TOKEN": "from-the-environment",
        "DSTUI_CONFIG": str(tmp_path / "none.toml"),
    }
    args = argparse.Namespace(auth="token", upstream="https://pool.example", endpoint=None)
    env = CommandEnv(args, environ=environ)
    provider = _upstream_credential(env)
    assert provider is not None and provider._token == "from-the-token-file"  # type: ignore[attr-defined]
    assert env.connection.ca_file == ca
    # Without --auth the proxy attaches nothing, whatever the environment holds.
    assert _upstream_credential(CommandEnv(argparse.Namespace(auth=None), environ=environ)) is None


def test_the_proxy_verifies_the_upstream_with_the_ca_file_from_the_environment(
    run_main: MainRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dstui.proxy import server

    seen: list[Any] = []

    class Refusing:
        def __init__(self, options: Any) -> None:
            seen.append(options)
            raise server.ProxyConfigError("stopped by the test")

    monkeypatch.setattr(server, "ProxyServer", Refusing)
    monkeypatch.setenv("DSTUI_CA_FILE", str(tmp_path / "ca.pem"))
    result = run_main("proxy", "--upstream", "https://pool.example", "--no-record")
    assert result.code == 2 and "stopped by the test" in result.err
    assert seen[0].verify == str(tmp_path / "ca.pem")


def test_sigterm_ends_trace_follow_with_143(tmp_path: Path) -> None:
    record = tmp_path / "r.sqlite3"
    _record(record)
    follower = subprocess.Popen(
        [sys.executable, "-m", "dstui", "trace", "--record", str(record), "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DSTUI_REQUEST_LOG": "off"},
    )
    try:
        assert follower.stdout is not None
        assert "execute" in follower.stdout.readline()  # the backlog: it is following now
        time.sleep(0.3)
        follower.send_signal(signal.SIGTERM)
        _, err = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    assert follower.returncode == 143
    assert "terminated" in err and "Traceback" not in err


def test_a_command_that_cannot_be_imported_is_a_message_not_a_traceback(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str) -> Any:
        raise ImportError(f"cannot import {name}")

    monkeypatch.setattr("dstui.cli.import_module", broken)
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")
    result = run_main("sessions", "list")
    assert result.code == 2
    assert "unexpected ImportError: cannot import dstui.commands.sessions" in result.err
    assert "Traceback" not in result.err
