"""The name, size and SHA-256 of the file in a multipart upload, read as the body streams past
(nothing but a small window is kept)."""

from __future__ import annotations

import hashlib
import re

_MAX_HEAD_BYTES = 16 * 1024
_BOUNDARY_RE = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_FILENAME_RE = re.compile(rb'filename="((?:[^"\\]|\\.)*)"|filename=([^;\r\n]+)', re.IGNORECASE)


def boundary_of(content_type: str) -> str | None:
    if not content_type.lower().startswith("multipart/"):
        return None
    match = _BOUNDARY_RE.search(content_type)
    return match.group(1) if match else None


def sniffed_boundary(first_bytes: bytes) -> str | None:
    """The boundary of a multipart body sent under another content type (Semantic Kernel
    uploads under `application/json`): its first line is `--BOUNDARY`."""
    line, sep, _ = first_bytes.partition(b"\r\n")
    if not sep or not line.startswith(b"--") or not 2 < len(line) <= 72:
        return None
    boundary = line[2:].decode("latin-1")
    return boundary if boundary.isprintable() and " " not in boundary else None


class FilePartDigest:
    """Feed it the body's chunks; it finds the first part's filename and hashes its content."""

    def __init__(self, boundary: str) -> None:
        self._delimiter = b"\r\n--" + boundary.encode("latin-1")
        self._head = bytearray()
        self._window = bytearray()
        self._in_content = False
        self.done = False
        self.failed = False  # the body does not look like the multipart it claims to be
        self.name: str | None = None
        self.size = 0
        self._hash = hashlib.sha256()

    @property
    def sha256(self) -> str | None:
        return self._hash.hexdigest() if self.done else None

    def feed(self, chunk: bytes) -> None:
        if self.done or self.failed or not chunk:
            return
        if not self._in_content:
            self._head += chunk
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                self.failed = len(self._head) > _MAX_HEAD_BYTES
                return
            self._read_part_head(bytes(self._head[:end]))
            chunk = bytes(self._head[end + 4 :])
            self._head.clear()
            self._in_content = True
        # Only the last len(delimiter) - 1 bytes are held back: the delimiter may straddle
        # two chunks, and it is not part of the file.
        data = bytes(self._window) + chunk if self._window else chunk
        found = data.find(self._delimiter)
        if found >= 0:
            self._take(data, found)
            self.done = True
            self._window.clear()
            return
        keep = min(len(data), len(self._delimiter) - 1)
        self._take(data, len(data) - keep)
        self._window[:] = data[len(data) - keep :]

    def _take(self, data: bytes, count: int) -> None:
        with memoryview(data) as view:
            self._hash.update(view[:count])
        self.size += count

    def _read_part_head(self, head: bytes) -> None:
        match = _FILENAME_RE.search(head)
        if match is None:
            return
        raw = match.group(1) if match.group(1) is not None else match.group(2).strip()
        self.name = raw.decode("utf-8", "replace").replace('\\"', '"').replace("%22", '"')
