"""One IPython kernel process per session container, driven over jupyter_client's ipc transport."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import secrets
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jupyter_client.asynchronous import AsyncKernelClient

from dstui.emulator.results import BOOTSTRAP_CODE, KernelOutput
from dstui.emulator.sandbox import KERNEL_GUARD_CODE, SandboxPolicy

_PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
_INTERRUPT_GRACE_S = 5.0
_POLL_S = 0.5

Outcome = Literal["ok", "error", "timeout", "aborted"]


class KernelStartError(RuntimeError):
    pass


@dataclass
class ExecutionOutput:
    outcome: Outcome
    output: KernelOutput
    kernel_broken: bool = False  # the kernel must be replaced before the next execution


def _connection_info(ip: str, key: str) -> dict[str, Any]:
    info: dict[str, Any] = {name: index + 1 for index, name in enumerate(_PORTS)}
    info.update(transport="ipc", ip=ip, key=key, signature_scheme="hmac-sha256", kernel_name="")
    return info


class Kernel:
    """A kernel whose /mnt/data is `data_dir`; its sockets live in `runtime_dir`."""

    def __init__(self, policy: SandboxPolicy, data_dir: Path, runtime_dir: Path) -> None:
        self.policy = policy
        self.data_dir = data_dir
        self.runtime_dir = runtime_dir
        self._process: asyncio.subprocess.Process | None = None
        self._client: AsyncKernelClient | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self, timeout: float = 60.0) -> None:
        self.runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        launch = self.policy.launch(self.data_dir, self.runtime_dir)
        key = secrets.token_hex(32)
        kernel_info = _connection_info(launch.ipc_prefix_for_kernel, key)
        (self.runtime_dir / "kernel.json").write_text(json.dumps(kernel_info))
        with open(self.runtime_dir / "kernel.log", "wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                *launch.argv,
                env=launch.env,
                cwd=launch.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        client = AsyncKernelClient()
        host_side = _connection_info(str(self.runtime_dir / "kernel"), key)
        client.load_connection_info(host_side)  # type: ignore[arg-type]
        client.start_channels(stdin=False, hb=False)  # no stdin; liveness = the process
        self._client = client
        try:
            await self._wait_ready(timeout)
            setup = BOOTSTRAP_CODE + KERNEL_GUARD_CODE
            outcome = await self.execute(setup, timeout, store_history=False)
        except BaseException:
            await self.stop()
            raise
        if outcome.outcome != "ok":
            await self.stop()
            raise KernelStartError(f"kernel set-up failed: {outcome.output.stderr.strip()}")

    async def _wait_ready(self, timeout: float) -> None:
        """Until the kernel answers kernel_info and its iopub stream reaches us.

        jupyter_client's wait_for_ready judges liveness by heartbeats, which a busy machine
        (many kernels starting) can miss; the process itself is the better witness here.
        """
        client, process = self._client, self._process
        assert client is not None and process is not None
        deadline = time.monotonic() + timeout
        answered = subscribed = False
        while not (answered and subscribed):
            if process.returncode is not None:
                raise self._start_error(f"the kernel exited with code {process.returncode}")
            if time.monotonic() > deadline:
                raise self._start_error(f"the kernel did not answer within {timeout:.0f} s")
            client.kernel_info()
            with contextlib.suppress(queue.Empty):
                reply = await client.get_shell_msg(timeout=_POLL_S)
                answered = answered or reply["msg_type"] == "kernel_info_reply"
            with contextlib.suppress(queue.Empty):
                await client.get_iopub_msg(timeout=_POLL_S if answered else 0.01)
                subscribed = True

    def _start_error(self, reason: str) -> KernelStartError:
        log = (self.runtime_dir / "kernel.log").read_text(errors="replace")[-300:].strip()
        return KernelStartError(f"{reason}; its last output: {log or 'none'}")

    async def execute(
        self, code: str, timeout_s: float, *, store_history: bool = True
    ) -> ExecutionOutput:
        """Run `code`, collecting its output; past `timeout_s` the kernel is interrupted."""
        client = self._client
        if client is None or not self.alive:
            return ExecutionOutput("aborted", KernelOutput(), kernel_broken=True)
        output = KernelOutput()
        started = time.monotonic()
        msg_id = client.execute(code, store_history=store_history, allow_stdin=False)
        deadline = started + timeout_s
        timed_out = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not timed_out:
                timed_out = True
                self._interrupt()
                deadline = time.monotonic() + _INTERRUPT_GRACE_S
                continue
            if remaining <= 0:  # the interrupt did not help
                return ExecutionOutput("timeout", output, kernel_broken=True)
            try:
                msg = await client.get_iopub_msg(timeout=min(remaining, _POLL_S))
            except queue.Empty:
                if not self.alive:
                    return ExecutionOutput("aborted", output, kernel_broken=True)
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            msg_type, content = msg["msg_type"], msg["content"]
            if msg_type == "status" and content.get("execution_state") == "idle":
                break
            output.absorb(msg_type, content)
        output.duration_ms = int((time.monotonic() - started) * 1000)
        await self._drain_reply(msg_id)
        if timed_out:
            return ExecutionOutput("timeout", output)
        if output.error_name == "MemoryError":
            return ExecutionOutput("aborted", output, kernel_broken=True)
        return ExecutionOutput("error" if output.error_name else "ok", output)

    async def _drain_reply(self, msg_id: str) -> None:
        assert self._client is not None
        with contextlib.suppress(queue.Empty):
            while True:
                reply = await self._client.get_shell_msg(timeout=_INTERRUPT_GRACE_S)
                if reply["parent_header"].get("msg_id") == msg_id:
                    return

    def _interrupt(self) -> None:
        # Message-mode interrupt: a signal to the outer process would not cross bubblewrap.
        assert self._client is not None
        self._client.control_channel.send(self._client.session.msg("interrupt_request", {}))

    async def stop(self) -> None:
        """Kill the kernel and everything it started; remove its sockets."""
        if self._client is not None:
            self._client.stop_channels()
            self._client = None
        process = self._process
        if process is not None and process.returncode is None:
            # The process leads its own group (start_new_session); no Popen.kill() after this:
            # its poll() could reap the child under asyncio's child watcher.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
