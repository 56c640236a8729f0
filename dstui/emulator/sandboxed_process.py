"""A process other than a kernel in a session's sandbox: a Shell command or a custom container.

It gets the kernels' isolation and limits (see sandbox.py) and, like a kernel, leads its own
process group, so stopping it ends everything it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from pathlib import Path

from dstui.emulator.kernel_side.process_tree import kill_descendants
from dstui.emulator.sandbox import SandboxPolicy


async def kill_process_tree(process: asyncio.subprocess.Process, policy: SandboxPolicy) -> None:
    """Kill a sandboxed process started with start_new_session, and everything it started.
    No Popen.kill() after this: its poll() could reap the child under asyncio's watcher."""
    if process.returncode is not None:
        return
    if policy.kind == "none" and policy.cgroups is None:
        # Frozen, it can start nothing new while its (detached) descendants are killed; as a
        # child subreaper it is still the ancestor of them all.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(process.pid, signal.SIGSTOP)
        await asyncio.to_thread(kill_descendants, process.pid)
    # It leads its own process group; bubblewrap's PID namespace ends with it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()


class SandboxedProcess:
    """`argv` run with /mnt/data = `data_dir` (also the working directory); `runtime_dir` is
    its own scratch directory (and pids cgroup name), removed by stop()."""

    def __init__(
        self,
        policy: SandboxPolicy,
        data_dir: Path,
        runtime_dir: Path,
        argv: list[str],
        *,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.policy = policy
        self.data_dir = data_dir
        self.runtime_dir = runtime_dir
        self.argv = argv
        self.extra_env = extra_env or {}
        self.process: asyncio.subprocess.Process | None = None
        self._cgroup: str | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self, *, pipes: bool) -> asyncio.subprocess.Process:
        """Start it; with `pipes`, stdin, stdout and stderr are pipes, else all /dev/null."""
        self.runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        cgroups = self.policy.cgroups
        procs = None
        if cgroups is not None:
            self._cgroup = self.runtime_dir.name
            limit = self.policy.limits.max_processes
            procs = await asyncio.to_thread(cgroups.make, self._cgroup, limit)
        launch = self.policy.command_launch(self.data_dir, self.runtime_dir, procs, self.argv)
        stream = asyncio.subprocess.PIPE if pipes else asyncio.subprocess.DEVNULL
        try:
            self.process = await asyncio.create_subprocess_exec(
                *launch.argv,
                env={**launch.env, **self.extra_env},
                cwd=launch.cwd,
                stdin=stream,
                stdout=stream,
                stderr=stream,
                start_new_session=True,
            )
        except BaseException:
            await self.stop()
            raise
        return self.process

    async def stop(self) -> None:
        """Kill the process and everything it started; remove its runtime dir. Idempotent."""
        if self.process is not None:
            await kill_process_tree(self.process, self.policy)
        cgroup, self._cgroup = self._cgroup, None
        if cgroup is not None and self.policy.cgroups is not None:
            await asyncio.to_thread(self.policy.cgroups.end, cgroup)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
