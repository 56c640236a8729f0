"""Reading a small file the user named (a pool list, a token file) without reading a huge one."""

from __future__ import annotations

from pathlib import Path


class UnreadableFile(Exception):
    """Why the file could not be used, worded to follow its name: `cannot read it (…)`."""


def read_at_most(path: Path, max_bytes: int, too_large: str) -> bytes:
    """The file's bytes; `UnreadableFile(too_large)` past `max_bytes` (read no further)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableFile(f"cannot read it ({exc.strerror or exc})") from None
    if len(raw) > max_bytes:
        raise UnreadableFile(too_large)
    return raw
