"""Inputs the CLI refuses with a clear message instead of guessing (QA findings on issues 9-12):
an empty api-version, control characters in names, a file whose size stat does not tell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dstui.api.errors import DestinationExistsError
from dstui.api.validation import new_identifier
from dstui.config import resolve_connection
from tests.cli.conftest import MainRunner


@pytest.fixture
def cli(run_main: MainRunner, emulator: Any, monkeypatch: pytest.MonkeyPatch) -> MainRunner:
    monkeypatch.setenv("DSTUI_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("DSTUI_TOKEN", emulator.token)
    return run_main


@pytest.mark.parametrize("given", ["", "  ", "latest"])
def test_an_empty_or_malformed_api_version_is_refused(cli: MainRunner, given: str) -> None:
    result = cli("--api-version", given, "sessions", "list")
    assert result.code == 2
    assert "not an api-version" in result.err
    assert "YYYY-MM-DD-preview" in result.err
    assert "Traceback" not in result.err


def test_an_empty_api_version_flag_is_not_replaced_by_the_default() -> None:
    connection = resolve_connection("http://127.0.0.1:9", api_version_flag="", environ={})
    assert connection.api_version == ""


def test_control_characters_in_an_upload_name_are_refused(cli: MainRunner, tmp_path: Path) -> None:
    source = tmp_path / "plain.txt"
    source.write_text("x")
    identifier = new_identifier("cli-names")
    result = cli("files", "put", identifier, str(source), "--name", "evil\x1b]0;t\x07.txt")
    assert result.code == 2
    assert "contains control characters" in result.err
    assert "\x1b" not in result.err
    listed = cli("files", "ls", identifier)
    assert "evil" not in listed.out


def test_control_characters_in_an_identifier_filter_are_refused(
    cli: MainRunner, tmp_path: Path
) -> None:
    result = cli("trace", "--record", str(tmp_path / "r.sqlite3"), "--identifier", "ab\x1bcd")
    assert result.code == 2
    assert "the session identifier contains characters the service refuses" in result.err


def test_a_proc_file_is_refused_rather_than_sent_empty(cli: MainRunner) -> None:
    proc = Path("/proc/cpuinfo")
    if not proc.exists() or proc.stat().st_size != 0:
        pytest.skip("needs a procfs file whose stat says 0 bytes")
    identifier = new_identifier("cli-proc")
    result = cli("files", "put", identifier, str(proc))
    assert result.code == 2
    assert "says it is empty but has content" in result.err
    assert "cp /proc/cpuinfo" in result.err
    assert "cpuinfo" not in cli("files", "ls", identifier).out


def test_an_existing_destination_names_the_cli_flag(cli: MainRunner, tmp_path: Path) -> None:
    identifier = new_identifier("cli-clash")
    source = tmp_path / "data.txt"
    source.write_text("remote")
    assert cli("files", "put", identifier, str(source)).code == 0
    target = tmp_path / "here.txt"
    target.write_text("local")
    refused = cli("files", "get", identifier, "data.txt", "-o", str(target))
    assert refused.code == 2
    assert "--force" in refused.err
    assert "overwrite=True" not in refused.err
    assert target.read_text() == "local"


def test_the_api_layer_hint_names_no_python_keyword() -> None:
    hint = DestinationExistsError("x exists").hint
    assert "overwrite=" not in hint and "--force" not in hint
