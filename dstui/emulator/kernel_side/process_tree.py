"""A kernel's whole process tree, found through /proc; used on both sides of the kernel.

The emulator imports it; a kernel without a sandbox also gets its source at start (stdlib
only), becomes a child subreaper, so processes its code detaches (setsid, double fork) stay in
its tree, and on SIGTERM (the emulator died: parent-death signal) kills that whole tree.
"""

from __future__ import annotations

import os
import signal


def descendants(root: int) -> list[int]:
    """Every live (non-zombie) process below `root`, parents before children."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat_file:
                stat = stat_file.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) < 2 or fields[0] == b"Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    queue = list(children.get(root, []))
    while queue:
        pid = queue.pop(0)
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def kill_descendants(root: int, rounds: int = 20) -> int:
    """SIGKILL everything below `root` until nothing is left (new forks included); the count."""
    killed = 0
    for _ in range(rounds):
        found = descendants(root)
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed


def install_guard(subreaper: bool) -> None:
    """On SIGTERM, take every process this kernel started down with it, then itself."""
    if subreaper:
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            pass

    def end_everything(signum: int, frame: object) -> None:
        kill_descendants(os.getpid())
        os.killpg(0, signal.SIGKILL)

    signal.signal(signal.SIGTERM, end_everything)
