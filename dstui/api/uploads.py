"""A multipart/form-data body that streams one file from disk in bounded chunks."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from dstui.api.errors import RequestValidationError

UPLOAD_CHUNK_SIZE = 256 * 1024


def _quote_filename(name: str) -> str:
    # Same escaping browsers use for multipart filenames (HTML5): quote, backslash, newlines.
    return name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartFileStream(httpx.AsyncByteStream):
    """Field `file` with the file's bytes. The file is opened when the body is iterated, so a
    fresh stream per attempt re-reads it from the start (retries after 401 or 429)."""

    def __init__(
        self,
        path: Path,
        *,
        filename: str,
        size: int,
        chunk_size: int = UPLOAD_CHUNK_SIZE,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        self._path = path
        self._size = size
        self._chunk_size = chunk_size
        self._progress = progress
        boundary = secrets.token_hex(16)
        self._head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{_quote_filename(filename)}"'
            "\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self.headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(self._head) + size + len(self._tail)),
        }

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._head
        sent = 0
        if self._progress is not None:
            self._progress(0, self._size)
        with self._path.open("rb") as handle:
            while sent < self._size:
                chunk = handle.read(min(self._chunk_size, self._size - sent))
                if not chunk:
                    raise RequestValidationError(
                        f"{self._path} shrank while it was being uploaded",
                        hint="Upload a file that is not being written to.",
                    )
                sent += len(chunk)
                yield chunk
                if self._progress is not None:
                    self._progress(sent, self._size)
        yield self._tail


def has_unstated_size(path: Path) -> bool:
    """A file whose stat says 0 bytes but that reads some (procfs, sysfs): its length, which a
    multipart Content-Length needs, is only known once it is read."""
    try:
        with path.open("rb") as handle:
            return handle.read(1) != b""
    except OSError:
        return False
