"""The command line that starts one kernel: bubblewrap isolation, resource limits, no orphans."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from dstui.api.constants import MOUNT_ROOT
from dstui.emulator.kernel_side import mnt_data, process_tree
from dstui.emulator.pids_cgroup import JOIN_SCRIPT, PidsCgroups
from dstui.emulator.sandbox_resolution import (
    SandboxChoice,
    SandboxKind,
    SandboxUnavailable,
    resolve_sandbox,
)

__all__ = [
    "CommandLaunch",
    "KernelLaunch",
    "SandboxChoice",
    "SandboxKind",
    "SandboxPolicy",
    "SandboxUnavailable",
    "SessionLimits",
    "resolve_sandbox",
]

# Where the kernel's connection file and ipc sockets appear inside the sandbox.
SANDBOX_RUNTIME_DIR = "/run/dstui-kernel"
SANDBOX_HOME = "/root"
SANDBOX_UID = 1000  # the kernel's uid inside bubblewrap's user namespace
_MIB = 1024 * 1024
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
# Hidden even though /etc is visible: credentials and host keys.
_SECRET_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-")
_SECRET_DIRS = ("/etc/ssh", "/etc/ssl/private")
# Small writable scratch mounts besides /tmp (whose size is configurable).
_SMALL_TMPFS = ("/root", "/home", "/run", "/dev/shm")
_SMALL_TMPFS_BYTES = 64 * _MIB


def _module_source(module: object) -> str:
    path = getattr(module, "__file__", None)
    assert path is not None
    return Path(path).read_text()


# Sent to every kernel at start, each into a private namespace so nothing leaks into the user's.
_RUN_PRIVATELY = """
_dstui_ns = {{"__name__": {name!r}}}
exec(compile({source!r}, {name!r}, "exec"), _dstui_ns)
_dstui_ns[{function!r}](*{args!r})
del _dstui_ns
"""


@dataclass(frozen=True)
class SessionLimits:
    max_processes: int = 512  # tasks (processes and threads): pids cgroup, else RLIMIT_NPROC
    tmp_size_mb: int = 512  # the sandbox's /tmp tmpfs
    disk_quota_mb: int = 1024  # what /mnt/data may hold (also RLIMIT_FSIZE)

    @property
    def disk_quota_bytes(self) -> int:
        return self.disk_quota_mb * _MIB


@dataclass(frozen=True)
class CommandLaunch:
    argv: list[str]
    env: dict[str, str]
    cwd: str  # the host-side directory the process starts in


@dataclass(frozen=True)
class KernelLaunch:
    argv: list[str]
    env: dict[str, str]
    cwd: str
    ipc_prefix_for_kernel: str  # the connection file's `ip` as the kernel sees it
    setup_code: str  # run once the kernel answers, before any user code


@dataclass(frozen=True)
class SandboxPolicy:
    choice: SandboxChoice
    egress: bool
    python: str
    python_prefixes: tuple[str, ...]
    memory_limit_mb: int
    cpu_limit_s: int | None
    limits: SessionLimits = SessionLimits()
    cgroups: PidsCgroups | None = None

    @property
    def kind(self) -> SandboxKind:
        return self.choice.kind

    @property
    def rlimits_applied(self) -> bool:
        """Whether kernels start under prlimit (RLIMIT_AS, _FSIZE, _CPU, _NPROC)."""
        return shutil.which("prlimit") is not None

    @property
    def process_limit(self) -> str:
        """How the process count is bounded here (for the banner and /metadata)."""
        count = self.limits.max_processes
        if self.cgroups is not None:
            return f"{count} (pids cgroup)"
        nproc_holds = self.choice.user_namespace and os.geteuid() != 0
        if self.kind == "bwrap" and nproc_holds and self.rlimits_applied:
            return f"{count} (RLIMIT_NPROC in the sandbox's user namespace)"
        if not self.rlimits_applied:
            return "none (no pids cgroup here, and no prlimit)"
        return "none (no pids cgroup here, and RLIMIT_NPROC would not hold)"

    def launch(self, data_dir: Path, runtime_dir: Path, cgroup_procs: Path | None) -> KernelLaunch:
        """How to start a kernel whose /mnt/data is `data_dir`, talking through `runtime_dir`."""
        inner_runtime = SANDBOX_RUNTIME_DIR if self.kind == "bwrap" else str(runtime_dir)
        connection_file = f"{inner_runtime}/kernel.json"
        kernel = [self.python, "-m", "ipykernel_launcher", "-f", connection_file]
        command = self.command_launch(data_dir, runtime_dir, cgroup_procs, kernel)
        return KernelLaunch(
            argv=command.argv,
            env={**command.env, **_PYTHON_ENV},
            cwd=str(runtime_dir) if self.kind == "bwrap" else str(data_dir),
            ipc_prefix_for_kernel=f"{inner_runtime}/kernel",
            setup_code=self._setup_code(data_dir),
        )

    def command_launch(
        self,
        data_dir: Path,
        runtime_dir: Path,
        cgroup_procs: Path | None,
        command: list[str],
    ) -> CommandLaunch:
        """How to run `command` in a session's sandbox: /mnt/data is `data_dir`, also the
        working directory (a kernel, a Shell command, a custom container's app)."""
        if self.kind == "bwrap":
            sandbox = self._bwrap_args(data_dir, runtime_dir)
            prlimit = shutil.which("prlimit")
            if self.cgroups is None and self.choice.user_namespace and prlimit:
                command = [prlimit, f"--nproc={self.limits.max_processes}", "--", *command]
            home = SANDBOX_HOME
        else:
            sandbox = []
            home = str(runtime_dir / "home")
            os.makedirs(home, exist_ok=True)
        join = ["/bin/sh", "-c", JOIN_SCRIPT, str(cgroup_procs)] if cgroup_procs else []
        return CommandLaunch(
            argv=[*join, *self._guard_args(), *sandbox, *command],
            env=_clean_env(home),
            cwd=str(data_dir),
        )

    def _setup_code(self, data_dir: Path) -> str:
        # Without a PID namespace the kernel must hunt down what its code started itself.
        no_namespace = self.kind == "none"
        code = _private_call(process_tree, "install_guard", no_namespace)
        if no_namespace:
            code += _private_call(mnt_data, "install", str(data_dir), MOUNT_ROOT)
        return code

    def _guard_args(self) -> list[str]:
        """Limits and a parent-death signal, so no kernel outlives the emulator (even SIGKILLed)."""
        args: list[str] = []
        setpriv, prlimit = shutil.which("setpriv"), shutil.which("prlimit")
        if setpriv:
            # The kernel leads its own process group (see Kernel.start): SIGTERM lets it kill
            # its whole tree (process_tree.install_guard); bubblewrap's PID namespace needs no
            # help.
            death_signal = "KILL" if self.kind == "bwrap" else "TERM"
            args += [setpriv, "--pdeathsig", death_signal]
        if prlimit:
            args += [prlimit, f"--as={self.memory_limit_mb * _MIB}"]
            args.append(f"--fsize={self.limits.disk_quota_bytes}")
            if self.cpu_limit_s:
                args.append(f"--cpu={self.cpu_limit_s}")
            args.append("--")
        return args

    def _bwrap_args(self, data_dir: Path, runtime_dir: Path) -> list[str]:
        bwrap = self.choice.executable
        if bwrap is None or not os.path.exists(bwrap):
            raise SandboxUnavailable(f"bubblewrap disappeared from {bwrap}")
        args = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc"]
        args += ["--unshare-uts", "--hostname", "session", "--unshare-cgroup-try"]
        if self.choice.user_namespace:
            uid = str(SANDBOX_UID)
            args += ["--unshare-user", "--uid", uid, "--gid", uid]
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
                args += ["--size", str(_MIB), "--tmpfs", path]
        args += ["--proc", "/proc", "--dev", "/dev"]
        # Private, bounded scratch space; home directories of the host stay out of sight.
        args += ["--size", str(self.limits.tmp_size_mb * _MIB), "--tmpfs", "/tmp"]
        for path in _SMALL_TMPFS:
            args += ["--size", str(_SMALL_TMPFS_BYTES), "--tmpfs", path]
        for prefix in self.python_prefixes:
            if not _under_any(prefix, ("/usr", "/bin", "/lib", "/lib64")):
                args += ["--ro-bind", prefix, prefix]
        args += ["--bind", str(data_dir), MOUNT_ROOT]
        args += ["--bind", str(runtime_dir), SANDBOX_RUNTIME_DIR]
        args += ["--chdir", MOUNT_ROOT, "--"]
        return args


def _private_call(module: object, function: str, *args: object) -> str:
    name = f"<dstui {getattr(module, '__name__', 'setup')}>"
    return _RUN_PRIVATELY.format(
        name=name, source=_module_source(module), function=function, args=args
    )


def _under_any(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


def _clean_env(home: str) -> dict[str, str]:
    """A clean environment: nothing of the emulator's (tokens, Azure settings) leaks in."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}


_PYTHON_ENV = {
    "PYTHONUNBUFFERED": "1",
    "MPLBACKEND": "Agg",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "JUPYTER_PLATFORM_DIRS": "1",
}
