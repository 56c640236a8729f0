"""Watching a directory of /mnt/data: what is new or changed since the last listing.

Plain logic, no widgets: the main screen lists the directory every few seconds (each listing
keeps the session alive, so watching is opt-in) and paints the marks this returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from dstui.api.models import RemoteFile
from dstui.config import WATCH_INTERVAL_DEFAULT_S

NEW = "new"
CHANGED = "changed"

_Fingerprint = tuple[bool, int | None, datetime | None]


def _fingerprint(entry: RemoteFile) -> _Fingerprint:
    return (entry.is_dir, entry.size, entry.last_modified)


@dataclass
class FileWatch:
    """One watched directory of one session."""

    identifier: str
    path: str
    interval_s: float = WATCH_INTERVAL_DEFAULT_S
    listings: int = 0
    removed: int = 0  # names gone in the last listing
    _last: dict[str, _Fingerprint] = field(default_factory=dict)

    def baseline(self, entries: Iterable[RemoteFile]) -> None:
        """The listing the user is looking at when watching starts: nothing is marked yet."""
        self._last = {entry.name: _fingerprint(entry) for entry in entries}

    def changes(self, entries: Iterable[RemoteFile]) -> dict[str, str]:
        """Names new or changed (size or modification time) since the last listing, which
        this listing then replaces; removed names simply disappear from the table."""
        current = {entry.name: _fingerprint(entry) for entry in entries}
        marks: dict[str, str] = {}
        for name, print_ in current.items():
            before = self._last.get(name)
            if before is None:
                marks[name] = NEW
            elif before != print_:
                marks[name] = CHANGED
        removed = len(set(self._last) - set(current))
        self._last = current
        self.listings += 1
        self.removed = removed
        return marks


def describe_changes(marks: dict[str, str], removed: int) -> str:
    """`2 new, 1 changed, 1 removed` or `no change`."""
    new = sum(1 for mark in marks.values() if mark == NEW)
    changed = len(marks) - new
    parts = [f"{new} new"] if new else []
    if changed:
        parts.append(f"{changed} changed")
    if removed:
        parts.append(f"{removed} removed")
    return ", ".join(parts) or "no change"
