"""One IPython kernel process per session container, driven over jupyter_client's ipc transport."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import queue
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jupyter_client.asynchronous import AsyncKernelClient

from dstui.emulator.disk_quota import quota_message, usage_bytes
from dstui.emulator.kernel_sockets import (
    PORTS,
    KernelSocketError,
    PinnedKernelClient,
    close_pins,
    log_tail,
    pin_sockets,
)
from dstui.emulator.results import BOOTSTRAP_CODE, KernelOutput
from dstui.emulator.sandbox import SandboxPolicy
from dstui.emulator.sandboxed_process import kill_process_tree

logger = logging.getLogger("dstui.emulator")

DEFAULT_INTERRUPT_GRACE_S = 5.0
_POLL_S = 0.5
_QUOTA_CHECK_S = 0.5
_IDLE_QUOTA_CHECK_S = 1.0  # between runs: code can leave a thread or a child writing
_IDLE_QUOTA_MAX_S = 16.0  # the interval doubles up to this while the usage stays put

Outcome = Literal["ok", "error", "timeout", "aborted"]


class KernelStartError(RuntimeError):
    pass


@dataclass
class ExecutionOutput:
    outcome: Outcome
    output: KernelOutput
    kernel_broken: bool = False  # the kernel must be replaced before the next execution


def _connection_info(ip: str, key: str) -> dict[str, Any]:
    info: dict[str, Any] = {name: index + 1 for index, name in enumerate(PORTS)}
    info.update(transport="ipc", ip=ip, key=key, signature_scheme="hmac-sha256", kernel_name="")
    return info


class Kernel:
    """A kernel whose /mnt/data is `data_dir`; its sockets live in `runtime_dir`.

    `interrupt_grace_s`: how long a timed-out execution may take to stop after its interrupt
    before the kernel counts as hung.
    """

    def __init__(
        self,
        policy: SandboxPolicy,
        data_dir: Path,
        runtime_dir: Path,
        interrupt_grace_s: float = DEFAULT_INTERRUPT_GRACE_S,
    ) -> None:
        self.policy = policy
        self.data_dir = data_dir
        self.runtime_dir = runtime_dir
        self.interrupt_grace_s = interrupt_grace_s
        self._process: asyncio.subprocess.Process | None = None
        self._client: AsyncKernelClient | None = None
        self._pinned: dict[str, int] = {}  # channel -> fd of the socket (see kernel_sockets)
        self._log_fd: int | None = None  # the emulator's own fd of kernel.log
        self._cgroup = runtime_dir.name  # name of its pids cgroup, when there are cgroups
        self._running = False  # an execution watches the quota itself
        self._quota_watch: asyncio.Task[None] | None = None
        self._stopping = False  # no new lease while stop() is killing it

    @property
    def alive(self) -> bool:
        return not self._stopping and self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self, timeout: float = 60.0) -> None:
        self.runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            setup_code = await self._launch(timeout)
            await self._wait_ready(timeout)
            outcome = await self.execute(BOOTSTRAP_CODE + setup_code, timeout, store_history=False)
        except BaseException:
            await self.stop()  # also ends a cgroup made before the launch failed
            raise
        if outcome.outcome != "ok":
            await self.stop()
            raise KernelStartError(f"kernel set-up failed: {outcome.output.stderr.strip()}")
        self._quota_watch = asyncio.create_task(self._watch_quota_between_runs())

    async def _launch(self, timeout: float) -> str:
        """Start the kernel process and connect to it; returns the sandbox's set-up code."""
        cgroups = self.policy.cgroups
        procs = None
        if cgroups is not None:  # make() may wait for a predecessor's processes: not on the loop
            limit = self.policy.limits.max_processes
            procs = await asyncio.to_thread(cgroups.make, self._cgroup, limit)
        launch = self.policy.launch(self.data_dir, self.runtime_dir, procs)
        key = secrets.token_hex(32)
        kernel_info = _connection_info(launch.ipc_prefix_for_kernel, key)
        (self.runtime_dir / "kernel.json").write_text(json.dumps(kernel_info))
        log_flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
        self._log_fd = os.open(self.runtime_dir / "kernel.log", log_flags, 0o600)
        with open(self._log_fd, "wb", closefd=False) as log:
            self._process = await asyncio.create_subprocess_exec(
                *launch.argv,
                env=launch.env,
                cwd=launch.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._pinned = await pin_sockets(self.runtime_dir, self._process, timeout)
        except KernelSocketError as exc:
            raise self._start_error(str(exc)) from None
        client = PinnedKernelClient()
        client.pinned = self._pinned
        host_side = _connection_info(str(self.runtime_dir / "kernel"), key)
        client.load_connection_info(host_side)  # type: ignore[arg-type]
        client.start_channels(stdin=False, hb=False)  # no stdin; liveness = the process
        self._client = client
        return launch.setup_code

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
            try:
                with contextlib.suppress(queue.Empty):
                    reply = await client.get_shell_msg(timeout=_POLL_S)
                    answered = answered or reply["msg_type"] == "kernel_info_reply"
                with contextlib.suppress(queue.Empty):
                    await client.get_iopub_msg(timeout=_POLL_S if answered else 0.01)
                    subscribed = True
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # this task itself is being cancelled
                # stop() closed the sockets under us (shutdown while the kernel was starting).
                raise KernelStartError("the kernel was stopped while it was starting") from None

    def _start_error(self, reason: str) -> KernelStartError:
        log = log_tail(self._log_fd, 300).strip() if self._log_fd is not None else ""
        return KernelStartError(f"{reason}; its last output: {log or 'none'}")

    async def execute(
        self, code: str, timeout_s: float, *, store_history: bool = True
    ) -> ExecutionOutput:
        """Run `code`, collecting its output; past `timeout_s` the kernel is interrupted."""
        client = self._client
        if client is None or not self.alive:
            return ExecutionOutput("aborted", KernelOutput(), kernel_broken=True)
        self._running = True
        try:
            return await self._execute(client, code, timeout_s, store_history)
        finally:
            self._running = False

    async def _execute(
        self, client: AsyncKernelClient, code: str, timeout_s: float, store_history: bool
    ) -> ExecutionOutput:
        output = KernelOutput()
        started = time.monotonic()
        msg_id = client.execute(code, store_history=store_history, allow_stdin=False)
        deadline = started + timeout_s
        timed_out = False
        next_quota_check = started + _QUOTA_CHECK_S
        while True:
            now = time.monotonic()
            if now >= next_quota_check:
                next_quota_check = now + _QUOTA_CHECK_S
                if await self.over_quota():
                    return await self._stopped_over_quota(output)
            remaining = deadline - now
            if remaining <= 0 and not timed_out:
                timed_out = True
                self.interrupt()
                deadline = time.monotonic() + self.interrupt_grace_s
                continue
            if remaining <= 0:  # the interrupt did not help
                return ExecutionOutput("timeout", output, kernel_broken=True)
            try:
                msg = await client.get_iopub_msg(timeout=min(remaining, _POLL_S))
            except queue.Empty:
                if not self.alive:
                    return ExecutionOutput("aborted", output, kernel_broken=True)
                continue
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # this task itself is being cancelled
                # stop() closed the sockets under us (shutdown): the run is over, not cancelled.
                return ExecutionOutput("aborted", output, kernel_broken=True)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            msg_type, content = msg["msg_type"], msg["content"]
            if msg_type == "status" and content.get("execution_state") == "idle":
                break
            output.absorb(msg_type, content)
        output.duration_ms = int((time.monotonic() - started) * 1000)
        await self._drain_reply(msg_id)
        if await self.over_quota():
            return await self._stopped_over_quota(output)
        if timed_out:
            return ExecutionOutput("timeout", output)
        if output.error_name == "MemoryError":
            return ExecutionOutput("aborted", output, kernel_broken=True)
        return ExecutionOutput("error" if output.error_name else "ok", output)

    async def _drain_reply(self, msg_id: str) -> None:
        assert self._client is not None
        with contextlib.suppress(queue.Empty):
            while True:
                reply = await self._client.get_shell_msg(timeout=self.interrupt_grace_s)
                if reply["parent_header"].get("msg_id") == msg_id:
                    return

    async def _watch_quota_between_runs(self) -> None:
        """Stop the kernel once /mnt/data passes the quota while no run is watching it; the
        next run then starts a fresh kernel and reports the quota.

        Every second while the usage moves or a run happened; less often while it stays put."""
        try:
            await self._watch_quota(_IDLE_QUOTA_CHECK_S)
        except Exception:  # a task's exception would otherwise surface only at shutdown
            logger.exception("the quota watcher of kernel %s failed", self.runtime_dir.name)

    async def _watch_quota(self, interval: float) -> None:
        last_used = -1
        while self.alive:
            await asyncio.sleep(interval)
            if self._running or not self.alive:
                interval = _IDLE_QUOTA_CHECK_S
                continue
            used = await self.usage()
            # _running is read again after the scan: a run may have begun meanwhile.
            if used > self.policy.limits.disk_quota_bytes and not self._running:
                await self.stop()
                return
            steady = used == last_used
            interval = min(interval * 2, _IDLE_QUOTA_MAX_S) if steady else _IDLE_QUOTA_CHECK_S
            last_used = used

    async def usage(self) -> int:
        return await asyncio.to_thread(usage_bytes, self.data_dir)

    async def over_quota(self) -> bool:
        return await self.usage() > self.policy.limits.disk_quota_bytes

    async def _stopped_over_quota(self, output: KernelOutput) -> ExecutionOutput:
        """Past the quota the kernel is stopped: its code may still be writing."""
        await self.stop()
        message = quota_message(self.policy.limits.disk_quota_bytes)
        output.stderr_text.end_with(f"{message} The session's kernel was stopped.\n")
        output.error_name = output.error_name or "DiskQuotaExceeded"
        return ExecutionOutput("error", output, kernel_broken=True)

    def interrupt(self) -> None:
        # Message-mode interrupt: a signal to the outer process would not cross bubblewrap.
        if self._client is None:
            return
        self._client.control_channel.send(self._client.session.msg("interrupt_request", {}))

    async def stop(self) -> None:
        """Kill the kernel and everything it started; remove its sockets."""
        self._stopping = True
        watch, self._quota_watch = self._quota_watch, None
        if watch is not None and watch is not asyncio.current_task():
            watch.cancel()
        if self._client is not None:
            self._client.stop_channels()
            self._client = None
        close_pins(self._pinned)
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
        if self._process is not None:
            await kill_process_tree(self._process, self.policy)
        if self.policy.cgroups is not None:
            await asyncio.to_thread(self.policy.cgroups.end, self._cgroup)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
