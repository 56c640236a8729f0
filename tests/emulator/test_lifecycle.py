"""Start/stop, the `dstui emulator` command, and no kernel outliving the emulator."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import uvicorn

from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.emulator.cli import build_parser, config_from_args, main
from dstui.emulator.server import remove_orphaned_temp_dirs
from tests.emulator.conftest import NEW

MakeEmulator = Callable[..., EmulatorServer]


def gone(pids: list[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                continue
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_stop_kills_every_kernel_and_removes_temp_dirs(make_emulator: MakeEmulator) -> None:
    server = make_emulator(ready_sessions=1, auth=False)
    with httpx.Client(base_url=server.endpoint, timeout=60) as client:
        for identifier in ("life-one", "life-two"):
            response = client.post(
                "/executions",
                params={"api-version": NEW, "identifier": identifier},
                json={"code": "import subprocess\nsubprocess.Popen(['sleep', '300'])"},
            )
            assert response.json()["status"] == "Succeeded"
    state = server.state
    assert state is not None
    pids = [c.kernel.pid for c in (s.container for s in state.pool.sessions.values()) if c.kernel]
    assert len(pids) == 2 and all(pid is not None for pid in pids)
    descendants = [p.pid for pid in pids for p in psutil.Process(pid).children(recursive=True)]
    data_root = state.pool.data_root
    runtime_root = state.pool.runtime_root
    server.stop()
    assert gone([pid for pid in pids if pid is not None] + descendants)
    assert not data_root.exists() and not runtime_root.exists()
    server.stop()  # idempotent


def test_explicit_data_dir_is_kept(make_emulator: MakeEmulator, tmp_path: Path) -> None:
    server = make_emulator(auth=False, data_dir=tmp_path / "pool")
    with httpx.Client(base_url=server.endpoint) as client:
        client.post(
            "/files",
            params={"api-version": NEW, "identifier": "keep-me"},
            files={"file": ("k.txt", b"k")},
        )
    server.stop()
    assert list((tmp_path / "pool" / "containers").glob("*/k.txt"))


def test_failed_start_leaves_nothing_behind(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    taken_port = httpx.URL(emulator.endpoint).port
    assert taken_port is not None
    server = EmulatorServer(EmulatorConfig(port=taken_port, ready_sessions=0))
    with pytest.raises(OSError):
        server.start()
    assert list(scratch.iterdir()) == []


def test_context_manager_and_random_tokens() -> None:
    with EmulatorServer(EmulatorConfig(ready_sessions=0)) as first:
        with EmulatorServer(EmulatorConfig(ready_sessions=0)) as second:
            assert first.token and second.token and first.token != second.token
            assert first.endpoint != second.endpoint
        assert EmulatorServer(EmulatorConfig(token="fixed")).token == "fixed"


@pytest.fixture
def cli_tmp() -> Iterator[Path]:
    """TMPDIR of the emulator subprocesses, so a SIGKILLed one leaves nothing in /tmp.

    Short enough for kernel ipc socket paths, so the emulator keeps its runtime dir here too,
    out of reach of other emulators on this machine (they clean orphans from /tmp).
    """
    directory = Path(tempfile.mkdtemp(prefix="emu-", dir="/tmp"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def cli_process(
    cli_tmp: Path,
) -> Iterator[Callable[..., tuple[subprocess.Popen[str], dict[str, str]]]]:
    processes: list[subprocess.Popen[str]] = []

    def launch(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
        process = subprocess.Popen(
            [sys.executable, "-m", "dstui.emulator", "--quiet", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "TMPDIR": str(cli_tmp)},
        )
        processes.append(process)
        announced: dict[str, str] = {}
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("export "):
                name, _, value = line[len("export ") :].strip().partition("=")
                announced[name] = value
            if line.startswith("Ctrl-C"):
                break
        return process, announced

    yield launch
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def kernel_tree(process: subprocess.Popen[str], endpoint: str, token: str | None) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=endpoint, headers=headers, timeout=60) as client:
        response = client.post(
            "/executions",
            params={"api-version": NEW, "identifier": "cli-session"},
            # A process started by the session's code must not outlive the emulator either.
            json={"code": "import subprocess\nsubprocess.Popen(['sleep', '300'])\nprint('up')"},
        )
    assert response.json()["result"]["stdout"] == "up\n"
    tree = psutil.Process(process.pid).children(recursive=True)
    assert any(child.name() == "sleep" for child in tree)
    return [child.pid for child in tree]


def test_cli_prints_connection_and_stops_on_sigterm(
    cli_process: Callable[..., tuple[subprocess.Popen[str], dict[str, str]]],
) -> None:
    process, announced = cli_process("--ready-sessions", "0")
    endpoint, token = announced["DSTUI_ENDPOINT"], announced["DSTUI_TOKEN"]
    assert endpoint.startswith("http://127.0.0.1:")
    pids = kernel_tree(process, endpoint, token)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert gone(pids)


def test_cli_with_tls_announces_its_ca_file(
    cli_process: Callable[..., tuple[subprocess.Popen[str], dict[str, str]]],
) -> None:
    process, announced = cli_process("--tls", "--ready-sessions", "0")
    assert announced["DSTUI_ENDPOINT"].startswith("https://127.0.0.1:")
    ca_file = Path(announced["DSTUI_CA_FILE"])
    assert ca_file.is_file()
    assert announced["SSL_CERT_FILE"] == str(ca_file)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert not ca_file.exists()


@pytest.mark.parametrize("sandbox", ["auto", "none"])
def test_no_kernel_outlives_a_sigkilled_emulator(
    cli_process: Callable[..., tuple[subprocess.Popen[str], dict[str, str]]],
    sandbox: str,
    cli_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    process, announced = cli_process("--no-auth", "--ready-sessions", "1", "--sandbox", sandbox)
    assert "DSTUI_TOKEN" not in announced
    pids = kernel_tree(process, announced["DSTUI_ENDPOINT"], None)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert gone(pids)
    # Killed, it could not clean up: its session data and its kernel sockets are left in its
    # TMPDIR, with its pid in their names.
    leftovers = [
        *cli_tmp.glob(f"dstui-emulator-{process.pid}-*"),
        *cli_tmp.glob(f"dstui-rt-{process.pid}-*"),
    ]
    assert len(leftovers) == 2
    monkeypatch.setattr(tempfile, "tempdir", str(cli_tmp))
    remove_orphaned_temp_dirs()  # what the next emulator start does
    assert not any(path.exists() for path in leftovers)


def test_cli_arguments_map_onto_the_config(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        [
            "--host",
            "127.0.0.2",
            "--port",
            "8123",
            "--no-auth",
            "--cooldown",
            "9.5",
            "--max-sessions",
            "7",
            "--ready-sessions",
            "3",
            "--egress",
            "--sandbox",
            "none",
            "--data-dir",
            str(tmp_path),
            "--faults",
            "500=0.5",
            "--seed",
            "4",
            "--tls",
            "--kernel-python",
            "/usr/bin/python3",
            "--memory-limit",
            "2048",
            "--cpu-limit",
            "600",
        ]
    )
    config = config_from_args(args)
    assert config == EmulatorConfig(
        host="127.0.0.2",
        port=8123,
        token=None,
        auth=False,
        cooldown_s=9.5,
        max_sessions=7,
        ready_sessions=3,
        egress=True,
        sandbox="none",
        data_dir=tmp_path,
        faults="500=0.5",
        seed=4,
        tls=True,
        kernel_python="/usr/bin/python3",
        memory_limit_mb=2048,
        cpu_limit_s=600,
    )


def test_cli_rejects_bad_faults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--faults", "teapot=1"]) == 2
    assert "unknown fault" in capsys.readouterr().err


def test_cli_reports_a_kernel_python_without_ipykernel(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    assert main(["--kernel-python", str(fake), "--ready-sessions", "0"]) == 2
    assert "kernel interpreter" in capsys.readouterr().err


async def test_kernel_python_without_ipykernel_is_refused() -> None:
    from dstui.emulator.interpreter import InterpreterError, probe_interpreter

    with pytest.raises(InterpreterError, match="ipykernel"):
        await probe_interpreter("/usr/bin/python3")
    info = await probe_interpreter(None)
    assert info.package_version("ipykernel") is not None
    assert sys.prefix in info.prefixes


def test_start_fails_when_the_server_stops_before_listening(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def gives_up(self: uvicorn.Server, sockets: object = None) -> None:
        return None

    monkeypatch.setattr(uvicorn.Server, "serve", gives_up)
    server = EmulatorServer(EmulatorConfig(ready_sessions=0, sandbox="none"))
    with pytest.raises(RuntimeError, match="emulator stopped before it was listening"):
        server.start()
