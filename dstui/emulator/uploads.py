"""Streaming multipart upload: the `file` part goes to disk chunk by chunk, size-capped.

Parsing and writing run on a worker thread, a batch of body chunks at a time. A body whose
Content-Type lies is accepted when it begins with a multipart delimiter line: Semantic Kernel's
SessionsPythonTool posts its uploads under the `application/json` that its shared client keeps
from code execution. The access log then warns that the live service may refuse such a body.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from dstui.api.constants import MAX_UPLOAD_BYTES
from dstui.emulator.access_log import note
from dstui.emulator.envelopes import VALIDATION_FAILED, ApiError
from dstui.emulator.file_errors import os_error, shown
from dstui.emulator.files import FileEntry, SessionFiles, file_io, file_name

_FORM_FIELD = "file"
_MULTIPART_OVERHEAD = 64 * 1024  # headers and boundaries around the file part
_MAX_BOUNDARY = 70  # RFC 2046, section 5.1.1
_BATCH_BYTES = 1024 * 1024  # body bytes handed to the writer thread at a time
_BOUNDARY_RE = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


def too_large(limit: int = MAX_UPLOAD_BYTES) -> ApiError:
    return ApiError(
        413,
        "PayloadTooLarge",
        f"The file exceeds the upload limit of {limit} bytes.",
        target="file",
    )


def _bad_form(message: str, target: str = "file") -> ApiError:
    return ApiError(400, VALIDATION_FAILED, message, target=target)


@dataclass
class _PartWriter:
    dir_fd: int
    limit: int
    # Called on the worker thread just before the commit with the bytes the replaced file
    # frees; raises to refuse the upload.
    check_room: Callable[[int], None] | None = None
    header_field: bytes = b""
    headers: dict[bytes, bytes] = field(default_factory=dict)
    temp_name: str | None = None
    fd: int | None = None
    target: str | None = None
    size: int = 0
    finished: bool = False

    def on_part_begin(self) -> None:
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        key = self.header_field.lower()
        self.headers[key] = self.headers.get(key, b"") + data[start:end]

    def on_header_end(self) -> None:
        self.header_field = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        if self.target is not None or options.get(b"name") != _FORM_FIELD.encode():
            return
        raw_name = options.get(b"filename")
        if raw_name is None:
            raise _bad_form("The 'file' part has no file name.")
        self.target = file_name(raw_name.decode("utf-8", "replace"))
        if self.check_room is not None:  # the file it replaces makes room
            self.limit = min(MAX_UPLOAD_BYTES, self.limit + self._replaced_bytes())
        self.temp_name = f".upload-{uuid.uuid4().hex}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            self.fd = os.open(self.temp_name, flags, 0o644, dir_fd=self.dir_fd)
        except OSError as exc:
            raise os_error(exc, self.target, "file") from None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.fd is None or self.finished:
            return
        self.size += end - start
        if self.size > self.limit:
            raise too_large(self.limit)
        view = memoryview(data)[start:end]
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            raise os_error(exc, self.target or "", "file") from None

    def on_part_end(self) -> None:
        if self.fd is not None and not self.finished:
            os.close(self.fd)
            self.fd = None
            self.finished = True

    def commit(self) -> FileEntry:
        """Move the complete part to its name (replacing a file there) and describe it."""
        if not self.finished or self.target is None or self.temp_name is None:
            raise _bad_form("The form has no complete 'file' part.")
        if self.check_room is not None:
            self.check_room(self._replaced_bytes())
        try:
            os.replace(self.temp_name, self.target, src_dir_fd=self.dir_fd, dst_dir_fd=self.dir_fd)
            info = os.stat(self.target, dir_fd=self.dir_fd, follow_symlinks=False)
        except IsADirectoryError:
            raise _bad_form("A directory has that name.") from None
        except OSError as exc:
            raise os_error(exc, self.target, "file") from None
        return FileEntry.from_stat(self.target, "", info)

    def _replaced_bytes(self) -> int:
        try:
            info = os.stat(self.target or "", dir_fd=self.dir_fd, follow_symlinks=False)
        except OSError:
            return 0
        return info.st_blocks * 512 if stat.S_ISREG(info.st_mode) else 0

    def discard(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temp_name, dir_fd=self.dir_fd)


class _Body:
    """The request body, with a look at its first bytes before it is parsed."""

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self._stream = stream
        self._head = b""

    async def peek(self, size: int) -> bytes:
        while len(self._head) < size:
            try:
                self._head += await anext(self._stream)
            except StopAsyncIteration:
                break
        return self._head

    async def batches(self) -> AsyncIterator[bytes]:
        pending = bytearray(self._head)
        self._head = b""
        async for chunk in self._stream:
            pending += chunk
            if len(pending) >= _BATCH_BYTES:
                yield bytes(pending)
                pending.clear()
        if pending:
            yield bytes(pending)


def _delimiter_boundary(head: bytes) -> bytes | None:
    """The boundary of a body that begins with a delimiter line `--<boundary>\\r\\n`."""
    line, crlf, _ = head.partition(b"\r\n")
    if not crlf or not line.startswith(b"--"):
        return None
    boundary = line[2:]
    return boundary if _BOUNDARY_RE.fullmatch(boundary) else None


async def _boundary(request: Request, body: _Body) -> bytes:
    header = request.headers.get("content-type", "")
    media_type, options = parse_options_header(header)
    boundary = options.get(b"boundary") if media_type == b"multipart/form-data" else None
    if not boundary:
        boundary = _delimiter_boundary(await body.peek(_MAX_BOUNDARY + 4))
        if boundary is None:
            raise _bad_form(
                "Uploads must be multipart/form-data with a boundary "
                f"(Content-Type: '{shown(header)}').",
                "Content-Type",
            )
        note(
            request.scope,
            "warning",
            f"upload sent as Content-Type '{shown(header)}' accepted as multipart/form-data "
            "(the boundary was taken from the body's first line); "
            "the live service may refuse it",
        )
    if len(boundary) > _MAX_BOUNDARY:
        raise _bad_form(
            f"The multipart boundary is {len(boundary)} characters long; "
            f"RFC 2046 allows at most {_MAX_BOUNDARY}.",
            "Content-Type",
        )
    return boundary


async def receive_upload(
    request: Request,
    files: SessionFiles,
    parts: list[str],
    limit: int = MAX_UPLOAD_BYTES,
    check_room: Callable[[int], None] | None = None,
) -> FileEntry:
    declared = request.headers.get("content-length", "")
    # With check_room, the limit grows by the size of the file the upload replaces.
    early_limit = MAX_UPLOAD_BYTES if check_room is not None else limit
    if (
        declared.isascii()
        and declared.isdigit()
        and (len(declared) > 18 or int(declared) > early_limit + _MULTIPART_OVERHEAD)
    ):
        raise too_large(early_limit)
    body = _Body(request.stream())
    boundary = await _boundary(request, body)
    dir_fd = await file_io(lambda: files.open_directory(parts, create=True))
    writer = _PartWriter(dir_fd, limit, check_room)
    try:
        parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": writer.on_part_begin,
                "on_header_field": writer.on_header_field,
                "on_header_value": writer.on_header_value,
                "on_header_end": writer.on_header_end,
                "on_headers_finished": writer.on_headers_finished,
                "on_part_data": writer.on_part_data,
                "on_part_end": writer.on_part_end,
            },
        )
        try:
            async for batch in body.batches():
                await file_io(parser.write, batch)
            await file_io(parser.finalize)
        except FormParserError as exc:
            raise _bad_form(f"The multipart body is malformed: {shown(str(exc), 120)}") from None
        return await file_io(writer.commit)
    except BaseException:
        writer.discard()  # quick and synchronous: it must run even when cancelled
        raise
    finally:
        os.close(dir_fd)
