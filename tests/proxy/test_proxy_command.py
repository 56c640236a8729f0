"""`dstui proxy` as a user runs it: a process that prints its endpoint, forwards, and stops
cleanly on SIGTERM; with --auth it prints its own token once and never the upstream's."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from dstui.emulator import EmulatorServer

NEW = "2025-10-02-preview"


def _start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "dstui", "proxy", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("Ctrl-C"):
            break
    return process, lines


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    return process.returncode, err


def _export(lines: list[str]) -> str:
    line = next(x for x in lines if x.startswith("export POOL_MANAGEMENT_ENDPOINT="))
    return line.split("=", 1)[1]


def test_proxy_command_forwards_and_stops(emulator: EmulatorServer, tmp_path: Path) -> None:
    assert emulator.token is not None
    record = tmp_path / "rec.sqlite3"
    env = {**os.environ}
    process, lines = _start(["--upstream", emulator.endpoint, "--record", str(record)], env)
    try:
        endpoint = _export(lines)
        answer = httpx.get(
            f"{endpoint}/metadata",
            params={"api-version": NEW},
            headers={"Authorization": f"Bearer {emulator.token}"},
        )
        assert answer.status_code == 200
    finally:
        code, err = _stop(process)
    assert code == 0, err
    assert "proxy stopped" in err and "Traceback" not in err
    assert f"recording: {record}" in lines
    assert record.stat().st_mode & 0o777 == 0o600


def test_auth_mode_prints_its_own_token_once(emulator: EmulatorServer, tmp_path: Path) -> None:
    assert emulator.token is not None
    env = {**os.environ, "DSTUI_TOKEN": emulator.token}
    args = ["--upstream", emulator.endpoint, "--auth", "token", "--no-record"]
    process, lines = _start(args, env)
    try:
        text = "\n".join(lines)
        assert emulator.token not in text
        own = next(x for x in lines if "shown once" in x).rsplit(" ", 1)[1]
        endpoint = _export(lines)
        answer = httpx.get(
            f"{endpoint}/metadata",
            params={"api-version": NEW},
            headers={"Authorization": f"Bearer {own}"},
        )
        assert answer.status_code == 200
        assert text.count(own) == 1
    finally:
        code, err = _stop(process)
    assert code == 0, err
    assert emulator.token not in err and own not in err


def test_bad_upstream_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dstui", "proxy", "--upstream", "http://pool.example.com"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: --upstream") and "Traceback" not in done.stderr


async def test_without_loop_signal_handlers_ctrl_c_still_stops_the_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Windows event loops have no add_signal_handler: plain handlers must do."""
    from dstui.commands import proxy as proxy_command

    loop = asyncio.get_running_loop()

    def unsupported(*args: object) -> None:
        raise NotImplementedError

    monkeypatch.setattr(loop, "add_signal_handler", unsupported)
    before = signal.getsignal(signal.SIGTERM)
    waiting = asyncio.create_task(proxy_command._until_stopped())
    await asyncio.sleep(0)
    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler) and handler is not before
    handler(signal.SIGTERM, None)
    await asyncio.wait_for(waiting, 5)
    assert signal.getsignal(signal.SIGTERM) is before
