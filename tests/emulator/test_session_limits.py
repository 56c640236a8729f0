"""Session limits, each tried by code that sets out to exceed it (small limits: harmless here)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import psutil
import pytest

from dstui.emulator import EmulatorServer
from dstui.emulator import cli as emulator_cli
from dstui.emulator import server as emulator_server
from dstui.emulator.disk_quota import QUOTA_ERROR_CODE
from tests.emulator.conftest import NEW, execute_raw

MakeEmulator = Callable[..., EmulatorServer]
MIB = 1024 * 1024
SMALL = {"max_processes": 32, "tmp_size_mb": 16, "disk_quota_mb": 8, "auth": False}


def params(identifier: str) -> dict[str, str]:
    return {"api-version": NEW, "identifier": identifier}


async def run(client: httpx.AsyncClient, identifier: str, code: str, **fields: Any) -> Any:
    return (await execute_raw(client, identifier, code, **fields)).json()


def client_for(server: EmulatorServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.endpoint, timeout=60)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return gone(pid)


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


# Starts at most 64 short sleeps (ended right after), so a missing limit cannot hurt the host.
FORK_64 = """
import json, subprocess
children, refused = [], None
try:
    for _ in range(64):
        children.append(subprocess.Popen(['sleep', '20']))
except OSError as exc:
    refused = type(exc).__name__
for child in children:
    child.kill(); child.wait()
json.dumps([len(children), refused])
"""


@pytest.mark.parametrize("sandbox", ["auto", "none"])
async def test_a_session_cannot_start_more_processes_than_its_limit(
    make_emulator: MakeEmulator, sandbox: str
) -> None:
    server = make_emulator(sandbox=sandbox, **SMALL)
    assert server.state is not None
    limit = server.state.pool.policy.process_limit
    if limit.startswith("none"):
        pytest.skip(f"no process limit is possible here: {limit}")
    async with client_for(server) as client:
        body = await run(client, "fork-bomb", FORK_64)
    started, refused = json.loads(body["result"]["executionResult"])
    assert started < 32 and refused in ("BlockingIOError", "OSError"), body


@pytest.mark.sandbox
async def test_tmp_is_a_bounded_tmpfs(make_emulator: MakeEmulator) -> None:
    server = make_emulator(**{**SMALL, "disk_quota_mb": 64})  # RLIMIT_FSIZE is not the limit
    code = """
import errno, json
written, failure = 0, None
try:
    with open('/tmp/fill', 'wb') as f:
        for _ in range(32):
            f.write(b'x' * (1 << 20))
            f.flush()
            written += 1
except OSError as exc:
    failure = errno.errorcode[exc.errno]
json.dumps([written, failure])
"""
    async with client_for(server) as client:
        body = await run(client, "tmp-fill", code)
    written, failure = json.loads(body["result"]["executionResult"])
    assert written <= 16 and failure == "ENOSPC", body


@pytest.mark.sandbox
async def test_sandboxed_code_is_unprivileged_and_its_scratch_mounts_are_small(
    make_emulator: MakeEmulator,
) -> None:
    server = make_emulator(**SMALL)
    assert server.sandbox_choice is not None
    if not server.sandbox_choice.user_namespace:
        pytest.skip("this bubblewrap cannot map an unprivileged uid here")
    code = """
import json, os
status = dict(line.split(':\t', 1) for line in open('/proc/self/status').read().splitlines())
sizes = {p: os.statvfs(p).f_blocks * os.statvfs(p).f_frsize // (1 << 20)
         for p in ('/tmp', '/root', '/home', '/run', '/dev/shm')}
json.dumps([os.getuid(), os.getgid(), int(status['CapEff'], 16), sizes])
"""
    async with client_for(server) as client:
        body = await run(client, "unprivileged", code)
    uid, gid, capabilities, sizes = json.loads(body["result"]["executionResult"])
    assert (uid, gid, capabilities) == (1000, 1000, 0)
    assert sizes == {"/tmp": 16, "/root": 64, "/home": 64, "/run": 64, "/dev/shm": 64}


@pytest.mark.parametrize("sandbox", ["auto", "none"])
async def test_one_file_larger_than_the_quota_cannot_be_written(
    make_emulator: MakeEmulator, sandbox: str
) -> None:
    server = make_emulator(sandbox=sandbox, **SMALL)
    code = """
import errno
try:
    with open('/mnt/data/huge', 'wb') as f:
        for _ in range(16):
            f.write(b'x' * (1 << 20))
            f.flush()
    outcome = 'written'
except OSError as exc:
    outcome = errno.errorcode[exc.errno]
outcome
"""
    async with client_for(server) as client:
        body = await run(client, "one-huge-file", code)
    assert body["result"]["executionResult"] == "EFBIG", body


@pytest.mark.parametrize("sandbox", ["auto", "none"])
async def test_many_files_over_the_quota_stop_the_session_and_uploads_are_refused(
    make_emulator: MakeEmulator, sandbox: str
) -> None:
    server = make_emulator(sandbox=sandbox, **SMALL)
    ident = "many-files"
    write_9_mib = (
        "for i in range(3):\n    open(f'/mnt/data/part{i}', 'wb').write(b'x' * (3 << 20))\n"
    )
    async with client_for(server) as client:
        body = await run(client, ident, write_9_mib + "os_pid = __import__('os').getpid(); 1")
        assert body["status"] == "Failed", body
        assert "over its quota of 8 MiB" in body["result"]["stderr"]
        assert "kernel was stopped" in body["result"]["stderr"]
        refused = await client.post(
            "/files", params=params(ident), files={"file": ("more.bin", b"m")}
        )
        assert refused.status_code == 413
        assert refused.json()["error"]["code"] == QUOTA_ERROR_CODE
        assert "delete files to make room" in refused.json()["error"]["message"]
        for i in range(3):
            removed = await client.delete(f"/files/part{i}", params=params(ident))
            assert removed.status_code == 204
        later = await run(client, ident, "open('/mnt/data/small', 'w').write('ok')")
        assert later["status"] == "Succeeded", later


# Up to 20 files of 3 MiB (60 MiB) over 6 s, long after the run itself has answered.
LATE_WRITER = """
import threading, time
def fill():
    for i in range(20):
        open(f'/mnt/data/late{i:02d}', 'wb').write(b'x' * (3 << 20))
        time.sleep(0.3)
threading.Thread(target=fill, daemon=True).start()
'writing'
"""


async def test_code_still_writing_after_its_run_cannot_pass_the_quota(
    make_emulator: MakeEmulator,
) -> None:
    server = make_emulator(sandbox="none", **SMALL)
    ident = "late-writer"
    async with client_for(server) as client:
        body = await run(client, ident, LATE_WRITER)
        assert body["status"] == "Succeeded", body
        await asyncio.sleep(7)  # the writer would be done by now if nothing stopped it
        listing = (await client.get("/files", params=params(ident))).json()["value"]
        written = sum(entry["sizeInBytes"] for entry in listing)
        assert written <= 8 * MIB + 2 * 3 * MIB, f"{written / MIB:.0f} MiB against 8 MiB"
        later = await run(client, ident, "1")
    assert later["status"] == "Failed", later
    assert "over its quota of 8 MiB" in later["result"]["stderr"]


async def test_an_upload_that_would_pass_the_quota_is_refused_and_removed(
    make_emulator: MakeEmulator,
) -> None:
    server = make_emulator(sandbox="none", **SMALL)
    ident = "upload-quota"
    async with client_for(server) as client:
        first = await client.post(
            "/files", params=params(ident), files={"file": ("six.bin", b"6" * (6 * MIB))}
        )
        assert first.status_code == 200, first.text
        second = await client.post(
            "/files", params=params(ident), files={"file": ("four.bin", b"4" * (4 * MIB))}
        )
        assert second.status_code == 413
        assert second.json()["error"]["code"] == QUOTA_ERROR_CODE
        names = [
            e["name"] for e in (await client.get("/files", params=params(ident))).json()["value"]
        ]
    assert names == ["six.bin"]


DETACH = "import subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True).pid"


@pytest.mark.parametrize("tracking", ["cgroup", "process tree"])
async def test_a_detached_child_does_not_outlive_the_emulator_without_a_sandbox(
    make_emulator: MakeEmulator, monkeypatch: pytest.MonkeyPatch, tracking: str
) -> None:
    if tracking == "process tree":
        monkeypatch.setattr(emulator_server.PidsCgroups, "create", classmethod(lambda cls: None))
    server = make_emulator(sandbox="none", auth=False)
    assert server.state is not None
    if tracking == "cgroup" and server.state.pool.policy.cgroups is None:
        pytest.skip("no pids cgroup can be created here")
    async with client_for(server) as client:
        pid = int((await run(client, "detacher", DETACH))["result"]["executionResult"])
    try:
        assert not gone(pid)
        server.stop()
        assert wait_gone(pid), f"the detached child {pid} outlived the emulator"
    finally:
        kill_quietly(pid)


def test_a_detached_child_does_not_outlive_an_emulator_killed_outright() -> None:
    """SIGKILL leaves no time to clean up: the kernel's parent-death signal must do it."""
    command = [sys.executable, "-m", "dstui.emulator", "--no-auth", "--ready-sessions", "0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSTUI_")}
    process = subprocess.Popen(
        [*command, "--sandbox", "none", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    pid = None
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().split()[-1]
        response = httpx.post(
            f"{endpoint}/executions",
            params=params("killed-outright"),
            json={"codeInputType": "Inline", "executionType": "Synchronous", "code": DETACH},
            timeout=60,
        )
        pid = int(response.json()["result"]["executionResult"])
        assert not gone(pid)
        process.kill()
        process.wait(10)
        assert wait_gone(pid), f"the detached child {pid} outlived the killed emulator"
    finally:
        process.kill()
        if pid is not None:
            kill_quietly(pid)


async def test_the_interrupt_grace_is_configurable(make_emulator: MakeEmulator) -> None:
    server = make_emulator(sandbox="none", auth=False, interrupt_grace_s=0.3)
    deaf = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass"
    async with client_for(server) as client:
        started = time.monotonic()
        body = await run(client, "deaf-to-interrupts", deaf, timeoutInSeconds=1)
        elapsed = time.monotonic() - started
        assert body["status"] == "Failed", body
        assert elapsed < 3.5, f"took {elapsed:.1f} s; the default grace alone is 5 s"
        after = await run(client, "deaf-to-interrupts", "'fresh kernel'")
    assert after["result"]["executionResult"] == "fresh kernel"


def test_limits_are_emulator_options() -> None:
    args = emulator_cli.build_parser().parse_args(
        [
            "--max-processes",
            "32",
            "--tmp-size",
            "16",
            "--disk-quota",
            "8",
            "--interrupt-grace",
            "0.5",
        ]
    )
    config = emulator_cli.config_from_args(args)
    assert (config.max_processes, config.tmp_size_mb, config.disk_quota_mb) == (32, 16, 8)
    assert config.interrupt_grace_s == 0.5


@pytest.mark.parametrize(
    "flag", ["--max-processes", "--tmp-size", "--disk-quota", "--interrupt-grace"]
)
def test_a_limit_must_be_positive(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        emulator_cli.build_parser().parse_args([flag, "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"{flag}: 0 is not between " in err and "Traceback" not in err
