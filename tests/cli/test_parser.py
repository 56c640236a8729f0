"""The argument parser and the behaviour of `main` that needs no pool."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dstui.cli import build_parser, main
from dstui.commands import execute, files, sessions


def parse(*argv: str) -> object:
    return build_parser().parse_args(list(argv))


def test_common_options_before_and_after_the_subcommand() -> None:
    before = build_parser().parse_args(
        ["--endpoint", "https://a.example", "--json", "sessions", "list", "--all"]
    )
    after = build_parser().parse_args(
        ["sessions", "list", "--endpoint", "https://a.example", "--json", "--all"]
    )
    for args in (before, after):
        assert args.endpoint == "https://a.example"
        assert args.json is True
        assert args.all is True
        assert args.handler.resolve() is sessions.list_sessions


def test_unset_common_option_is_absent_rather_than_none() -> None:
    args = build_parser().parse_args(["--profile", "prod", "sessions", "show", "abcd"])
    assert args.profile == "prod"
    assert not hasattr(args, "endpoint")


def test_exec_options() -> None:
    args = build_parser().parse_args(
        ["exec", "abcd", "-", "--timeout", "220", "--async", "--output-max-length", "10"]
    )
    assert args.handler.resolve() is execute.run_code
    assert (args.identifier, args.code, args.timeout) == ("abcd", "-", 220)
    assert args.asynchronous is True
    assert args.output_max_length == 10


@pytest.mark.parametrize("timeout", ["0", "221", "ten"])
def test_exec_timeout_out_of_range_is_a_usage_error(
    timeout: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["exec", "abcd", "1", "--timeout", timeout]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_files_get_options() -> None:
    args = build_parser().parse_args(
        ["files", "get", "abcd", "out.csv", "-o", "/tmp/x", "--path", "d", "--force"]
    )
    assert args.handler.resolve() is files.get_file
    assert (args.name, args.output, args.path, args.force) == ("out.csv", "/tmp/x", "d", True)


def test_token_is_not_an_argv_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "list", "--token", "abc"]) == 2
    assert "unrecognized arguments: --token abc" in capsys.readouterr().err


def test_unknown_auth_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--auth", "password", "sessions", "list"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_group_without_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["files"]) == 2
    assert "required" in capsys.readouterr().err


def test_help_mentions_cooldown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exec", "--help"]) == 0
    out = capsys.readouterr().out
    assert "resets that session's idle cooldown" in " ".join(out.split())
    assert main(["sessions", "list", "--help"]) == 0
    assert "Does not extend any session's life" in capsys.readouterr().out


def test_new_id_prints_a_fresh_valid_identifier(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-id"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["new-id", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)["identifier"]
    assert first.startswith("dstui-")
    assert first != second


def test_no_endpoint_is_exit_2_with_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no pool endpoint configured\n")
    assert "hint: pass --endpoint" in err
    assert "Traceback" not in err


def test_invalid_config_is_exit_2_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[profiles.a]\nauth = "nope"\n', encoding="utf-8")
    monkeypatch.setenv("DSTUI_CONFIG", str(config))
    assert main(["sessions", "list"]) == 2
    err = capsys.readouterr().err
    assert f"error: {config}: profiles.a.auth: must be one of" in err
    assert "hint: fix or remove" in err


def test_config_path_and_show_never_print_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DSTUI_TOKEN", "super-secret-token-value")
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")
    assert main(["config", "path"]) == 0
    path_out = capsys.readouterr().out.strip()
    assert path_out.endswith("dstui/config.toml")
    assert main(["config", "show"]) == 0
    shown = capsys.readouterr().out
    assert "http://127.0.0.1:9 (from DSTUI_ENDPOINT)" in shown
    assert "auth:" in shown and "token" in shown
    assert main(["config", "show", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["connection"]["auth"] == "token"
    assert data["token_env"] == "set"
    assert "super-secret-token-value" not in shown + json.dumps(data)


def test_cli_subcommands_never_import_textual() -> None:
    script = (
        "import sys\n"
        "from dstui.cli import main\n"
        "assert main(['new-id']) == 0\n"
        "assert main(['sessions', 'list', '--endpoint', 'http://127.0.0.1:9', '--help']) == 0\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')\n"
        "                or m.startswith('dstui.tui'))\n"
        "print('LOADED', loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "LOADED []" in done.stdout


def test_every_command_names_a_handler_that_exists_and_loads_only_when_run() -> None:
    import argparse
    import subprocess
    import sys

    from dstui.cli import LazyHandler

    def handlers(parser: argparse.ArgumentParser) -> list[LazyHandler]:
        found = [parser.get_default("handler")]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    found += handlers(sub)
        return [handler for handler in found if handler is not None]

    every = handlers(build_parser())
    assert len(every) >= 15
    for handler in every:
        assert callable(handler.resolve()), handler
    code = "import sys, dstui.cli; print(sorted(m for m in sys.modules if 'commands.' in m))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    for module in ("execute", "files", "pool", "proxy", "sessions", "settings", "traffic"):
        assert f"dstui.commands.{module}'" not in loaded
