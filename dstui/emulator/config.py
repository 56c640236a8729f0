"""Settings of one emulator run (the `dstui emulator` flags map onto these fields)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dstui.emulator.kernels import DEFAULT_INTERRUPT_GRACE_S
from dstui.emulator.sandbox import SessionLimits

SandboxMode = Literal["auto", "bwrap", "none"]
ContainerType = Literal["PythonLTS", "Shell", "CustomContainer"]
CONTAINER_TYPES: tuple[ContainerType, ...] = ("PythonLTS", "Shell", "CustomContainer")


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0
    token: str | None = None  # None => a random token per start (when auth is on)
    auth: bool = True
    cooldown_s: float = 300.0
    max_sessions: int = 600
    ready_sessions: int = 2
    egress: bool = False
    sandbox: SandboxMode = "auto"
    data_dir: Path | None = None  # None => a temp dir removed at stop
    faults: str | None = None
    seed: int | None = None
    tls: bool = False
    kernel_python: str | None = None  # None => the emulator's own interpreter
    memory_limit_mb: int = 4096  # address-space limit of each kernel (RLIMIT_AS)
    cpu_limit_s: int | None = None  # total CPU seconds of each kernel (RLIMIT_CPU)
    # processes + threads per session (pids cgroup, or RLIMIT_NPROC)
    max_processes: int = SessionLimits.max_processes
    tmp_size_mb: int = SessionLimits.tmp_size_mb  # the sandbox's /tmp (a tmpfs: host memory)
    disk_quota_mb: int = SessionLimits.disk_quota_mb  # what a session's /mnt/data may hold
    # after a timeout's interrupt, before the kernel is replaced
    interrupt_grace_s: float = DEFAULT_INTERRUPT_GRACE_S
    pool_name: str = "emulator"
    container_type: ContainerType = "PythonLTS"
    container_command: str | None = None  # CustomContainer: the app, started per session
    target_port: int | None = None  # CustomContainer: the port the app listens on
    max_json_bytes: int = 16 * 1024 * 1024
