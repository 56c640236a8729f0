"""A pids cgroup per kernel, where this host lets the emulator create one (cgroup v1 `pids`).

It bounds the number of processes a session may have (RLIMIT_NPROC does not hold for host
root) and lists every process the session started, however it detached, so all can be ended.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import time
from pathlib import Path

logger = logging.getLogger("dstui.emulator")

PIDS_HIERARCHY = Path("/sys/fs/cgroup/pids")
_PREFIX = "dstui-"
# Joins the cgroup named by $0, then becomes the rest of the command line.
JOIN_SCRIPT = 'echo $$ > "$0" && exec "$@"'


class PidsCgroups:
    """One parent cgroup per emulator run; one child per kernel, named by the caller."""

    def __init__(self, parent: Path) -> None:
        self.parent = parent

    @classmethod
    def create(cls, hierarchy: Path = PIDS_HIERARCHY) -> PidsCgroups | None:
        """None (with the reason logged at debug level) where no pids cgroup can be made."""
        if not (hierarchy / "cgroup.procs").is_file():
            return None
        _remove_orphans(hierarchy)
        parent = hierarchy / f"{_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            parent.mkdir()
        except OSError as exc:
            logger.debug("no pids cgroup: %s", exc)
            return None
        if not (parent / "pids.max").exists():
            with contextlib.suppress(OSError):
                parent.rmdir()
            return None
        return cls(parent)

    def make(self, name: str, max_processes: int) -> Path:
        """A fresh child cgroup limited to `max_processes`; returns its cgroup.procs file."""
        child = self.parent / name
        self.end(name)
        child.mkdir(exist_ok=True)  # a predecessor's may linger while its zombies are reaped
        (child / "pids.max").write_text(f"{max_processes}\n")
        return child / "cgroup.procs"

    def members(self, name: str) -> list[int]:
        try:
            text = (self.parent / name / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(line) for line in text.split()]

    def end(self, name: str, timeout_s: float = 5.0) -> None:
        """SIGKILL every process of the child cgroup until it is empty, then remove it."""
        child = self.parent / name
        if not child.is_dir():
            return
        deadline = time.monotonic() + timeout_s
        while (members := self.members(name)) and time.monotonic() < deadline:
            for pid in members:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)
        try:
            child.rmdir()
        except OSError as exc:  # zombies not yet reaped keep it busy for a moment
            logger.debug("cgroup %s not removed yet: %s", child, exc)

    def close(self) -> None:
        for child in list(self.parent.iterdir()) if self.parent.is_dir() else []:
            if child.is_dir():
                self.end(child.name)
        with contextlib.suppress(OSError):
            self.parent.rmdir()


def _remove_orphans(hierarchy: Path) -> None:
    """Empty cgroups left by emulators that were killed (their pid is in the name)."""
    for parent in hierarchy.glob(f"{_PREFIX}*-*"):
        pid_text = parent.name[len(_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            for child in [*(c for c in parent.iterdir() if c.is_dir()), parent]:
                child.rmdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
