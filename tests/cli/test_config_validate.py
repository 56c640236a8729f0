"""`dstui config validate`: a usable file says so; a bad one names the file, key and type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import MainRunner


def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("DSTUI_CONFIG", str(path))
    return path


def test_valid_file_is_summarised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_main: MainRunner
) -> None:
    path = write(
        tmp_path,
        monkeypatch,
        'default_profile = "a"\n[profiles.a]\nendpoint = "https://x.dynamicsessions.io/p"\n'
        '[tui.keymap]\nquit = "ctrl+c"\n',
    )
    outcome = run_main("config", "validate")
    assert outcome.code == 0
    assert outcome.out == f"{path}: valid (1 profile, default a, 1 key bindings remapped)\n"


def test_missing_file_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_main: MainRunner
) -> None:
    monkeypatch.setenv("DSTUI_CONFIG", str(tmp_path / "absent.toml"))
    outcome = run_main("config", "validate")
    assert (outcome.code, outcome.out) == (
        0,
        f"{tmp_path / 'absent.toml'}: no such file; the defaults apply\n",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[profiles.a]\nendpoint = 3",
            "profiles.a.endpoint: must be a non-empty string (found an integer)",
        ),
        (
            "[tui]\nauto_refresh_s = true",
            "tui.auto_refresh_s: must be a number of seconds >= 0 (found a boolean)",
        ),
        ("[tui]\nkeymap = 3", "tui.keymap: must be a table (found an integer)"),
        (
            "[tui]\ncolor = 1",
            "tui.color: unknown key (expected one of auto_refresh_s, download_dir, keymap, theme, "
            "watch_interval_s)",
        ),
        (
            "[profiles.a]\nzz = 1",
            "profiles.a.zz: unknown key (expected one of api_version, arm_endpoint, auth",
        ),
        (
            '[profiles.a]\nclient_secret = "s3cr3t-value"',
            "profiles.a.client_secret: secrets are not read",
        ),
    ],
)
def test_bad_value_names_file_key_and_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_main: MainRunner, text: str, expected: str
) -> None:
    path = write(tmp_path, monkeypatch, text)
    outcome = run_main("config", "validate")
    assert outcome.code == 2
    assert f"error: {path}: {expected}" in outcome.err
    assert "Traceback" not in outcome.err
    assert "s3cr3t-value" not in outcome.err


def test_profile_pointing_nowhere_lists_every_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_main: MainRunner
) -> None:
    write(
        tmp_path,
        monkeypatch,
        '[profiles.a]\nendpoint = "http://example.com/p"\ntoken_file = "missing.token"\n',
    )
    outcome = run_main("config", "validate", "--json")
    assert outcome.code == 2
    report = json.loads(outcome.out)
    assert report["valid"] is False
    keys = [problem["key"] for problem in report["problems"]]
    assert keys == ["profiles.a.endpoint", "profiles.a.token_file"]
    assert "https" in report["problems"][0]["problem"]
    assert str(tmp_path / "missing.token") in report["problems"][1]["problem"]


def test_an_arm_endpoint_must_be_https_off_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_main: MainRunner
) -> None:
    write(
        tmp_path,
        monkeypatch,
        '[profiles.a]\narm_endpoint = "http://management.example.com"\n'
        '[profiles.b]\narm_endpoint = "http://127.0.0.1:8081"\n',
    )
    outcome = run_main("config", "validate", "--json")
    assert outcome.code == 2
    problems = json.loads(outcome.out)["problems"]
    assert [problem["key"] for problem in problems] == ["profiles.a.arm_endpoint"]
    assert "must use https" in problems[0]["problem"]
