"""`dstui exec ID --shell CMD | --argv WORDS [--stdin FILE]` against a Shell-mode emulator."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from dstui.api.validation import new_identifier
from dstui.emulator import EmulatorServer
from tests.cli.conftest import MainRunner


@pytest.fixture
def cli(
    run_main: MainRunner, shell_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> MainRunner:
    monkeypatch.setenv("DSTUI_ENDPOINT", shell_emulator.endpoint)
    monkeypatch.setenv("DSTUI_TOKEN", shell_emulator.token or "")
    return run_main


def test_exit_code_and_streams_are_the_commands(cli: MainRunner) -> None:
    identifier = new_identifier("cli-shell")
    ran = cli("exec", identifier, "--shell", "echo out; echo err >&2; exit 7")
    assert (ran.code, ran.out, ran.err) == (7, "out\n", "err\n")
    assert cli("exec", identifier, "--shell", "true").code == 0


def test_argv_and_stdin_from_a_file(cli: MainRunner, tmp_path: Path) -> None:
    identifier = new_identifier("cli-shell")
    source = tmp_path / "in.txt"
    source.write_text("b\na\n")
    ran = cli("exec", identifier, "--argv", "sort -r", "--stdin", str(source))
    assert (ran.code, ran.out) == (0, "b\na\n")
    spaced = cli("exec", identifier, "--argv", 'printf "%s|" "one word" two', "--json")
    assert spaced.code == 0
    answer = json.loads(spaced.out)
    assert (answer["stdout"], answer["exit_code"]) == ("one word|two|", 0)


def test_stdin_from_dstuis_own_stdin(cli: MainRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("piped\n"))
    ran = cli(
        "exec",
        new_identifier("cli-shell"),
        "--shell",
        "cat > kept.txt; cat kept.txt",
        "--stdin",
        "-",
    )
    assert (ran.code, ran.out) == (0, "piped\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("print(1)", "--shell", "ls"), "not both"),
        (("--stdin", "-", "print(1)"), "--stdin is for shell commands"),
        (("--argv", 'ls "open'), "--argv: No closing quotation"),
        (("--argv", "   "), "names no program"),
    ],
)
def test_refused_before_sending(cli: MainRunner, argv: tuple[str, ...], message: str) -> None:
    refused = cli("exec", new_identifier("cli-shell"), *argv)
    assert refused.code == 2
    assert message in refused.err
    assert "Traceback" not in refused.err


def test_python_code_in_a_shell_pool_is_explained(cli: MainRunner) -> None:
    refused = cli("exec", new_identifier("cli-shell"), "print(1)")
    assert refused.code == 2
    assert "SessionPropertiesMissing" in refused.err and "Shell" in refused.err
