"""The command line that starts one kernel: bubblewrap isolation, resource limits, no orphans."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dstui.api.constants import MOUNT_ROOT

logger = logging.getLogger("dstui.emulator")

SandboxKind = Literal["bwrap", "none"]
# Where the kernel's connection file and ipc sockets appear inside the sandbox.
SANDBOX_RUNTIME_DIR = "/run/dstui-kernel"
SANDBOX_HOME = "/root"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
# Hidden even though /etc is visible: credentials and host keys.
_SECRET_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-")
_SECRET_DIRS = ("/etc/ssh", "/etc/ssl/private")
# Run in every kernel at start. Without bubblewrap the kernel's parent-death signal is SIGTERM,
# so it can take its process group (every process the session's code started) down with it;
# under bubblewrap the PID namespace already ends with the sandbox.
KERNEL_GUARD_CODE = """
def _dstui_die_with_the_emulator():
    import os, signal
    signal.signal(signal.SIGTERM, lambda *_: os.killpg(0, signal.SIGKILL))

_dstui_die_with_the_emulator()
del _dstui_die_with_the_emulator
"""
_NOT_ISOLATED_WARNING = (
    "bubblewrap is not in use: kernel sessions are NOT isolated from each other or from this "
    "machine (separate working directories only). Install bubblewrap for isolation."
)


class SandboxUnavailable(RuntimeError):
    pass


def bwrap_works() -> bool:
    """True when bubblewrap is installed and can create the namespaces the kernels need."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    probe = [bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def resolve_sandbox(mode: str) -> SandboxKind:
    """Pick bubblewrap or no sandbox for `auto|bwrap|none`; warns loudly when not isolated."""
    if mode == "none":
        logger.warning(_NOT_ISOLATED_WARNING)
        return "none"
    if bwrap_works():
        return "bwrap"
    if mode == "bwrap":
        raise SandboxUnavailable("--sandbox bwrap was asked for, but bubblewrap does not work here")
    logger.warning(_NOT_ISOLATED_WARNING)
    return "none"


@dataclass(frozen=True)
class KernelLaunch:
    argv: list[str]
    env: dict[str, str]
    cwd: str
    ipc_prefix_for_kernel: str  # the connection file's `ip` as the kernel sees it


@dataclass(frozen=True)
class SandboxPolicy:
    kind: SandboxKind
    egress: bool
    python: str
    python_prefixes: tuple[str, ...]
    memory_limit_mb: int
    cpu_limit_s: int | None

    def launch(self, data_dir: Path, runtime_dir: Path) -> KernelLaunch:
        """How to start a kernel whose /mnt/data is `data_dir`, talking through `runtime_dir`."""
        if self.kind == "bwrap":
            inner_runtime = SANDBOX_RUNTIME_DIR
            sandbox = self._bwrap_args(data_dir, runtime_dir)
            home, cwd = SANDBOX_HOME, str(runtime_dir)
        else:
            inner_runtime = str(runtime_dir)
            sandbox = []
            home = str(runtime_dir / "home")
            os.makedirs(home, exist_ok=True)
            cwd = str(data_dir)
        connection_file = f"{inner_runtime}/kernel.json"
        kernel = [self.python, "-m", "ipykernel_launcher", "-f", connection_file]
        env = _kernel_env(home)
        return KernelLaunch(
            argv=[*self._guard_args(), *sandbox, *kernel],
            env=env,
            cwd=cwd,
            ipc_prefix_for_kernel=f"{inner_runtime}/kernel",
        )

    def _guard_args(self) -> list[str]:
        """Limits and a parent-death signal, so no kernel outlives the emulator (even SIGKILLed)."""
        args: list[str] = []
        setpriv, prlimit = shutil.which("setpriv"), shutil.which("prlimit")
        if setpriv:
            # The kernel leads its own process group (see Kernel.start): SIGTERM lets it kill
            # that group (KERNEL_GUARD_CODE); bubblewrap's PID namespace needs no help.
            death_signal = "KILL" if self.kind == "bwrap" else "TERM"
            args += [setpriv, "--pdeathsig", death_signal]
        if prlimit:
            args += [prlimit, f"--as={self.memory_limit_mb * 1024 * 1024}"]
            if self.cpu_limit_s:
                args.append(f"--cpu={self.cpu_limit_s}")
            args.append("--")
        return args

    def _bwrap_args(self, data_dir: Path, runtime_dir: Path) -> list[str]:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable("bubblewrap disappeared")
        args = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc"]
        args += ["--unshare-uts", "--hostname", "session", "--unshare-cgroup-try"]
        args += ["--cap-drop", "ALL"]
        if not self.egress:
            args.append("--unshare-net")
        for path in _SYSTEM_DIRS:
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                args += ["--ro-bind", path, path]
        empty = runtime_dir / "empty"
        empty.touch(mode=0o444)
        for path in _SECRET_FILES:
            if os.path.exists(path):
                args += ["--ro-bind", str(empty), path]
        for path in _SECRET_DIRS:
            if os.path.isdir(path):
                args += ["--tmpfs", path]
        args += ["--proc", "/proc", "--dev", "/dev"]
        # Private, writable scratch space; home directories of the host stay out of sight.
        args += ["--tmpfs", "/tmp", "--tmpfs", "/root", "--tmpfs", "/home", "--tmpfs", "/run"]
        for prefix in self.python_prefixes:
            if not _under_any(prefix, ("/usr", "/bin", "/lib", "/lib64")):
                args += ["--ro-bind", prefix, prefix]
        args += ["--bind", str(data_dir), MOUNT_ROOT]
        args += ["--bind", str(runtime_dir), SANDBOX_RUNTIME_DIR]
        args += ["--chdir", MOUNT_ROOT, "--"]
        return args


def _under_any(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


def _kernel_env(home: str) -> dict[str, str]:
    """A clean environment: nothing of the emulator's (tokens, Azure settings) leaks in."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "MPLBACKEND": "Agg",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
    }
