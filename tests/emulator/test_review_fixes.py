"""Regression tests for review findings: fds, kernel restarts, cgroups, quota races, CLI values."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import httpx
import pytest

from dstui.emulator import EmulatorServer
from dstui.emulator.cli import build_parser
from dstui.emulator.disk_quota import QUOTA_ERROR_CODE
from dstui.emulator.kernels import Kernel
from dstui.emulator.pids_cgroup import PidsCgroups
from dstui.emulator.pool import Container
from dstui.emulator.routes_common import _read_chunks
from dstui.emulator.sandbox import SandboxPolicy, SandboxUnavailable
from dstui.emulator.sandbox_resolution import SandboxChoice
from tests.emulator.conftest import NEW

MIB = 1024 * 1024
MakeEmulator = Callable[..., EmulatorServer]


def fd_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


async def test_a_download_cancelled_midway_closes_its_file(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * (4 * MIB))
    fd = os.open(path, os.O_RDONLY)
    chunks = _read_chunks(fd, 4 * MIB, "big")
    # anyio cancels every later await in the scope too, as Starlette does on a disconnect.
    with anyio.CancelScope() as scope:
        async for _chunk in chunks:
            scope.cancel()
    assert scope.cancelled_caught
    assert not fd_is_open(fd)


def test_each_kernel_of_a_container_gets_its_own_runtime_dir(tmp_path: Path) -> None:
    container = Container("c", tmp_path / "data", tmp_path / "run" / "abc")
    first, second = container.next_runtime_dir(), container.next_runtime_dir()
    assert first != second
    assert first.parent == second.parent == tmp_path / "run"


class RecordingCgroups(PidsCgroups):
    """Cgroups on a plain directory, recording which thread makes and ends them."""

    def __init__(self, parent: Path) -> None:
        super().__init__(parent)
        self.made_on: list[str] = []
        self.ended: list[str] = []

    def make(self, name: str, max_processes: int) -> Path:
        self.made_on.append(threading.current_thread().name)
        (self.parent / name).mkdir()
        return self.parent / name / "cgroup.procs"

    def end(self, name: str, timeout_s: float = 5.0) -> None:
        self.ended.append(name)
        (self.parent / name).rmdir()


async def test_a_failed_launch_ends_the_cgroup_made_for_it(tmp_path: Path) -> None:
    cgroups = RecordingCgroups(tmp_path / "cgroups")
    cgroups.parent.mkdir()
    missing_bwrap = SandboxChoice("bwrap", executable=str(tmp_path / "no-bwrap"))
    policy = SandboxPolicy(missing_bwrap, False, sys.executable, (), 512, None, cgroups=cgroups)
    kernel = Kernel(policy, tmp_path / "data", tmp_path / "run" / "k-1")
    with pytest.raises(SandboxUnavailable):
        await kernel.start(timeout=5)
    assert cgroups.made_on and cgroups.made_on[0] != threading.current_thread().name
    assert cgroups.ended == ["k-1"] and not list(cgroups.parent.iterdir())
    assert not kernel.runtime_dir.exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_interrupt_grace_must_be_a_finite_positive_number(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--interrupt-grace", value])
    assert "--interrupt-grace" in capsys.readouterr().err


def multipart(name: str, size: int, boundary: str = "b0undary") -> tuple[dict[str, str], bytes]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, head + b"u" * size + tail


async def slowly(body: bytes, gate: asyncio.Event) -> AsyncIterator[bytes]:
    """All but the last bytes, then the rest once the other upload is in flight too."""
    yield body[:-64]
    await gate.wait()
    yield body[-64:]


async def test_concurrent_uploads_cannot_pass_the_quota_together(
    make_emulator: MakeEmulator,
) -> None:
    server = make_emulator(sandbox="none", disk_quota_mb=8, auth=False)
    params = {"api-version": NEW, "identifier": "two-uploads"}
    gate = asyncio.Event()
    async with httpx.AsyncClient(base_url=server.endpoint, timeout=60) as client:

        async def upload(name: str) -> httpx.Response:
            headers, body = multipart(name, 5 * MIB)
            return await client.post(
                "/files", params=params, headers=headers, content=slowly(body, gate)
            )

        uploads = [asyncio.create_task(upload(name)) for name in ("a.bin", "b.bin")]
        await asyncio.sleep(1.0)  # both bodies are mostly on disk, neither committed
        gate.set()
        answers = await asyncio.gather(*uploads)
        listing = (await client.get("/files", params=params)).json()["value"]
    assert any(a.status_code == 413 for a in answers), [a.text for a in answers]
    refused = [a.json()["error"]["code"] for a in answers if a.status_code != 200]
    assert set(refused) == {QUOTA_ERROR_CODE}
    assert sum(entry["sizeInBytes"] for entry in listing) <= 8 * MIB
    assert not any(entry["name"].startswith(".upload-") for entry in listing)


async def test_replacing_a_file_counts_the_room_it_frees(make_emulator: MakeEmulator) -> None:
    server = make_emulator(sandbox="none", disk_quota_mb=8, auth=False)
    params = {"api-version": NEW, "identifier": "replace-big"}
    async with httpx.AsyncClient(base_url=server.endpoint, timeout=60) as client:
        for attempt in range(2):
            sent = await client.post(
                "/files", params=params, files={"file": ("six.bin", b"6" * (6 * MIB))}
            )
            assert sent.status_code == 200, (attempt, sent.text)


async def test_a_file_system_error_outside_the_file_routes_does_not_pretend_a_file(
    make_emulator: MakeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(policy: SandboxPolicy) -> None:
        raise FileNotFoundError(2, "No such file or directory", "/host/only/path")

    monkeypatch.setattr("dstui.emulator.routes_new.metadata_extension", broken)
    server = make_emulator(sandbox="none", auth=False)
    async with httpx.AsyncClient(base_url=server.endpoint, timeout=60) as client:
        answer = await client.get("/metadata", params={"api-version": NEW})
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert error["code"] == "InternalServerError"
    assert "No such file or directory" in error["message"]
    assert "File ''" not in error["message"] and "/host/only" not in error["message"]


def test_limit_texts_claim_no_rlimit_without_prlimit(monkeypatch: pytest.MonkeyPatch) -> None:
    from dstui.emulator import sandbox
    from dstui.emulator.sandbox_report import limit_lines

    choice = SandboxChoice("bwrap", executable="/x/bwrap", user_namespace=True)
    policy = SandboxPolicy(choice, False, sys.executable, (), 512, None)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    lines = limit_lines(policy)
    assert "RLIMIT" not in " ".join(lines.values()), lines
    assert policy.process_limit == "none (no pids cgroup here, and no prlimit)"
