"""The kernel can write the folder its jupyter sockets live in: what it puts there later (a
symlink to another socket, a log swapped for a link) must not lead the emulator anywhere else."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

from dstui.emulator.kernels import Kernel
from dstui.emulator.sandbox import SandboxPolicy
from dstui.emulator.sandbox_resolution import SandboxChoice


def _unsandboxed_kernel(tmp_path: Path) -> Kernel:
    policy = SandboxPolicy(SandboxChoice("none"), False, sys.executable, (), 4096, None)
    (tmp_path / "data").mkdir()
    return Kernel(policy, tmp_path / "data", tmp_path / "run" / "k-1")


def _host_listener(path: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(8)
    listener.settimeout(0)
    return listener


async def _accepted_within(listener: socket.socket, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            await asyncio.sleep(0.05)
            continue
        connection.close()
        return True
    return False


async def test_a_kernel_swapping_its_sockets_for_symlinks_reaches_no_host_socket(
    tmp_path: Path,
) -> None:
    listener = _host_listener(tmp_path / "host.sock")
    kernel = _unsandboxed_kernel(tmp_path)
    await kernel.start(timeout=60)
    try:
        # Every socket the emulator connects to becomes a link to the host's socket, then the
        # kernel dies without cleaning up: the emulator's channels reconnect by themselves.
        code = (
            "import os, glob\n"
            f"for path in glob.glob({str(kernel.runtime_dir)!r} + '/kernel-*'):\n"
            "    os.unlink(path)\n"
            f"    os.symlink({str(tmp_path / 'host.sock')!r}, path)\n"
            "os._exit(0)\n"
        )
        await kernel.execute(code, timeout_s=5)
        assert not await _accepted_within(listener, 2.0)
    finally:
        await kernel.stop()
        listener.close()


async def test_a_start_failure_reads_the_log_the_emulator_opened_not_a_link_put_there(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text("HOST-ONLY-CONTENT")
    kernel = _unsandboxed_kernel(tmp_path)
    kernel.runtime_dir.mkdir(parents=True)
    (kernel.runtime_dir / "kernel.log").write_bytes(b"")
    log = kernel.runtime_dir / "kernel.log"
    error = None
    original_launch = kernel._launch

    async def launch_then_swap_the_log(timeout: float) -> str:
        setup = await original_launch(timeout)
        os.unlink(log)
        os.symlink(secret, log)
        process = kernel._process
        assert process is not None
        process.kill()  # a start that fails: the error quotes the end of the kernel's log
        await process.wait()
        return setup

    kernel._launch = launch_then_swap_the_log  # type: ignore[method-assign]
    try:
        await kernel.start(timeout=30)
    except Exception as exc:
        error = str(exc)
    finally:
        await kernel.stop()
    assert error is not None
    assert "HOST-ONLY-CONTENT" not in error
