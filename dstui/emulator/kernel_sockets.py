"""The emulator's end of a kernel's jupyter sockets. They are unix sockets in a folder the kernel
can write, so a path there is only trusted once: each socket, once bound, is pinned by an
O_PATH fd and reached through /proc/self/fd/N, and zmq's later reconnects go to that very socket
whatever the path holds by then (a symlink to a socket on the host, say)."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

from jupyter_client.asynchronous import AsyncKernelClient

PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
CHANNELS = ("shell", "iopub", "control")  # those the emulator opens: no stdin, no heartbeat
_POLL_S = 0.02


class KernelSocketError(RuntimeError):
    """The kernel did not bind a socket in time, or put something else in its place."""


def socket_path(prefix: Path | str, channel: str) -> str:
    """Where jupyter's ipc transport puts `channel`'s socket for the connection's `ip` prefix."""
    return f"{prefix}-{PORTS.index(f'{channel}_port') + 1}"


class PinnedKernelClient(AsyncKernelClient):
    """A kernel client whose channels connect through the fds of `pin_sockets`."""

    pinned: dict[str, int]

    def _make_url(self, channel: str) -> str:
        fd = self.pinned.get(channel)
        if fd is None:
            # stop_channels() makes every channel, started or not: never by its path. An
            # inproc address no one binds connects nowhere.
            return f"inproc://dstui-unused-{channel}"
        return f"ipc:///proc/self/fd/{fd}"


async def pin_sockets(
    runtime_dir: Path, process: asyncio.subprocess.Process, timeout: float
) -> dict[str, int]:
    """An O_PATH fd of each socket the emulator opens, once the kernel has bound it."""
    deadline = time.monotonic() + timeout
    pinned: dict[str, int] = {}
    try:
        for channel in CHANNELS:
            path = socket_path(runtime_dir / "kernel", channel)
            while (fd := _pin(path)) is None:
                if process.returncode is not None:
                    raise KernelSocketError(f"the kernel exited with code {process.returncode}")
                if time.monotonic() > deadline:
                    raise KernelSocketError(
                        f"the kernel did not open its sockets within {timeout:.0f} s"
                    )
                await asyncio.sleep(_POLL_S)
            pinned[channel] = fd
    except BaseException:
        close_pins(pinned)
        raise
    return pinned


def _pin(path: str) -> int | None:
    try:
        fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(os.fstat(fd).st_mode):
        os.close(fd)
        raise KernelSocketError(f"the kernel put something other than a socket at {path}")
    return fd


def close_pins(pinned: dict[str, int]) -> None:
    while pinned:
        os.close(pinned.popitem()[1])


def log_tail(fd: int, chars: int) -> str:
    """The last `chars` characters of the log the emulator opened itself (the kernel may have
    replaced the name with a link since). pread: the kernel shares this file's offset."""
    size = os.fstat(fd).st_size
    start = max(0, size - 4 * chars)
    return os.pread(fd, size - start, start).decode(errors="replace")[-chars:]
