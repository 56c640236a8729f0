"""The CLI against an emulator started with --tls: its CA file reaches the client through
--ca-file, DSTUI_CA_FILE or a profile's `ca_file` (SSL_CERT_FILE works too, through httpx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dstui.config import resolve_connection
from dstui.emulator import EmulatorConfig, EmulatorServer
from tests.cli.conftest import MainRunner
from tests.cli.harness import Outcome


@pytest.fixture(scope="module")
def tls_emulator() -> Iterator[EmulatorServer]:
    # No kernels needed: listing sessions and reading metadata never start one.
    with EmulatorServer(EmulatorConfig(tls=True, ready_sessions=0)) as server:
        yield server


@pytest.fixture
def ca_file(tls_emulator: EmulatorServer) -> Path:
    assert tls_emulator.ca_file is not None
    return tls_emulator.ca_file


@pytest.fixture
def cli(
    run_main: MainRunner, tls_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> MainRunner:
    assert tls_emulator.token is not None
    monkeypatch.setenv("DSTUI_ENDPOINT", tls_emulator.endpoint)
    monkeypatch.setenv("DSTUI_TOKEN", tls_emulator.token)
    return run_main


def listed(result: Outcome) -> list[object]:
    assert result.code == 0, result.err
    sessions = json.loads(result.out)
    assert isinstance(sessions, list)
    return sessions


def test_ca_file_flag_before_or_after_the_command(cli: MainRunner, ca_file: Path) -> None:
    assert listed(cli("--ca-file", str(ca_file), "sessions", "list", "--json")) == []
    assert listed(cli("sessions", "list", "--json", "--ca-file", str(ca_file))) == []


def test_ca_file_from_the_environment(
    cli: MainRunner, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSTUI_CA_FILE", str(ca_file))
    assert listed(cli("sessions", "list", "--json")) == []


def test_ssl_cert_file_is_honoured_by_httpx(
    cli: MainRunner, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    assert listed(cli("sessions", "list", "--json")) == []


def test_ca_file_from_a_profile_relative_to_the_config_file(
    run_main: MainRunner,
    tls_emulator: EmulatorServer,
    ca_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "emulator-ca.pem").write_bytes(ca_file.read_bytes())
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.local]\nendpoint = "{tls_emulator.endpoint}"\nauth = "token"\n'
        'ca_file = "emulator-ca.pem"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("DSTUI_CONFIG", str(config))
    monkeypatch.setenv("DSTUI_TOKEN", str(tls_emulator.token))
    assert listed(run_main("--profile", "local", "sessions", "list", "--json")) == []
    shown = json.loads(run_main("--profile", "local", "config", "show", "--json").out)
    assert shown["connection"]["ca_file"] == str(tmp_path / "emulator-ca.pem")


def test_untrusted_certificate_is_explained(cli: MainRunner) -> None:
    result = cli("sessions", "list")
    assert result.code == 2
    assert "certificate" in result.err
    hint = next(line for line in result.err.splitlines() if line.startswith("hint: "))
    assert "--ca-file" in hint and "DSTUI_CA_FILE" in hint
    assert "Traceback" not in result.err


def test_unreadable_ca_file_is_a_clear_error(cli: MainRunner, tmp_path: Path) -> None:
    missing = cli("--ca-file", str(tmp_path / "nope.pem"), "sessions", "list")
    assert missing.code == 2
    assert "nope.pem" in missing.err and "hint: " in missing.err
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    broken = cli("--ca-file", str(garbage), "sessions", "list")
    assert broken.code == 2
    assert "garbage.pem" in broken.err and "unexpected" not in broken.err


def test_ca_file_resolution_order(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'default_profile = "p"\n[profiles.p]\nendpoint = "https://pool.example"\n'
        'ca_file = "~/profile-ca.pem"\n',
        encoding="utf-8",
    )
    environ = {"DSTUI_CONFIG": str(config)}
    from_profile = resolve_connection(environ=environ).ca_file
    assert from_profile == Path("~/profile-ca.pem").expanduser()
    from_env = resolve_connection(environ={**environ, "DSTUI_CA_FILE": "/env/ca.pem"}).ca_file
    assert from_env == Path("/env/ca.pem")
    from_flag = resolve_connection(
        environ={**environ, "DSTUI_CA_FILE": "/env/ca.pem"}, ca_file_flag=Path("/flag/ca.pem")
    )
    assert from_flag.ca_file == Path("/flag/ca.pem")
    assert from_flag.tls_verify == "/flag/ca.pem"  # what SessionsClient(verify=...) takes
    # A default profile does not lend its CA file to an endpoint given elsewhere.
    other = resolve_connection("https://other.example", environ=environ)
    assert other.ca_file is None
    assert other.tls_verify is True
