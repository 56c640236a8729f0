"""`dstui emulator` options: the token from a file or a variable (never on the argv, where
`ps` shows it), and numbers checked before anything starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from dstui.emulator.cli import TOKEN_ENV_VAR, TokenError, build_parser, main, resolve_token
from tests.emulator.conftest import NEW

SECRET = "s3cr3t-token-from-a-file"


def resolved(argv: list[str], environ: dict[str, str]) -> tuple[str | None, str | None]:
    args = build_parser().parse_args(argv)
    source = resolve_token(args, environ)
    return args.token, source


def test_token_sources_in_order(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"  {SECRET}\n")
    env = {TOKEN_ENV_VAR: "from-env"}
    assert resolved(["--token", "argv-token"], env) == ("argv-token", None)
    assert resolved(["--token-file", str(token_file)], env) == (
        SECRET,
        f"--token-file {token_file}",
    )
    assert resolved([], env) == ("from-env", f"${TOKEN_ENV_VAR}")
    assert resolved([], {}) == (None, None)
    assert resolved(["--no-auth"], env) == (None, None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read it (No such file or directory)"),
        ("\n", "the file is empty"),
        ("two words", "printable ASCII without spaces"),
        ("x" * 5000, "longer than 4096 bytes"),
    ],
)
def test_bad_token_files_are_refused_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    token_file = tmp_path / "token"
    if content is not None:
        token_file.write_text(content)
    assert main(["--token-file", str(token_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dstui emulator: --token-file {token_file}: ")
    assert message in err and "Traceback" not in err


def test_token_file_and_token_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--token", "a", "--token-file", "b"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_help_names_every_token_source(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--token-file PATH" in out and f"${TOKEN_ENV_VAR}" in out and "ps" in out


def test_resolve_token_raises_for_a_bad_variable() -> None:
    with pytest.raises(TokenError, match=f"\\${TOKEN_ENV_VAR}: the token must be printable"):
        resolved([], {TOKEN_ENV_VAR: "tab\there"})


@pytest.mark.parametrize("source", ["file", "env"])
def test_emulator_uses_a_token_that_is_not_on_its_argv(tmp_path: Path, source: str) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(SECRET + "\n")
    args = ["--token-file", str(token_file)] if source == "file" else []
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    if source == "env":
        env[TOKEN_ENV_VAR] = SECRET
    process = subprocess.Popen(
        [sys.executable, "-m", "dstui.emulator", "--quiet", "--ready-sessions", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Ctrl-C"):
                break
        text = "".join(banner)
        assert SECRET not in text  # named by its source, not printed
        expected = f'"$(cat {token_file})"' if source == "file" else f'"${TOKEN_ENV_VAR}"'
        assert f"export DSTUI_TOKEN={expected}" in text
        assert SECRET not in " ".join(psutil.Process(process.pid).cmdline())
        endpoint = next(
            line.split("=", 1)[1].strip() for line in banner if "DSTUI_ENDPOINT=" in line
        )
        query = {"api-version": NEW}
        with httpx.Client(base_url=endpoint, timeout=10) as client:
            assert client.get("/listSessions", params=query).status_code == 401
            authorized = {"Authorization": f"Bearer {SECRET}"}
            assert client.get("/listSessions", params=query, headers=authorized).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "argument --port: 70000 is not between 0 and 65535"),
        (["--port", "x"], "argument --port: 'x' is not a number"),
        (["--cooldown", "-5"], "argument --cooldown: -5 is not between 0.001 and 1000000000"),
        (["--ready-sessions", "-3"], "argument --ready-sessions: -3 is not between 0 and 1000"),
        (["--max-sessions", "0"], "argument --max-sessions: 0 is not between 1 and 1000000"),
    ],
)
def test_numbers_out_of_range_are_refused_up_front(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
