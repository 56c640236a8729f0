"""Streaming multipart upload: the `file` part goes to disk chunk by chunk, size-capped."""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from dstui.api.constants import MAX_UPLOAD_BYTES
from dstui.emulator.envelopes import VALIDATION_FAILED, ApiError
from dstui.emulator.files import FileEntry, SessionFiles, file_name

_FORM_FIELD = "file"
_MULTIPART_OVERHEAD = 64 * 1024  # headers and boundaries around the file part


def too_large(limit: int = MAX_UPLOAD_BYTES) -> ApiError:
    return ApiError(
        413,
        "PayloadTooLarge",
        f"The file exceeds the upload limit of {limit} bytes.",
        target="file",
    )


@dataclass
class _PartWriter:
    dir_fd: int
    limit: int
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
            raise ApiError(
                400, VALIDATION_FAILED, "The 'file' part has no file name.", target="file"
            )
        self.target = file_name(raw_name.decode("utf-8", "replace"))
        self.temp_name = f".upload-{uuid.uuid4().hex}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        self.fd = os.open(self.temp_name, flags, 0o644, dir_fd=self.dir_fd)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.fd is None or self.finished:
            return
        self.size += end - start
        if self.size > self.limit:
            raise too_large(self.limit)
        view = memoryview(data)[start:end]
        while view:
            view = view[os.write(self.fd, view) :]

    def on_part_end(self) -> None:
        if self.fd is not None and not self.finished:
            os.close(self.fd)
            self.fd = None
            self.finished = True

    def discard(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.temp_name is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp_name, dir_fd=self.dir_fd)


async def receive_upload(
    request: Request, files: SessionFiles, parts: list[str], limit: int = MAX_UPLOAD_BYTES
) -> FileEntry:
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise ApiError(
            400, VALIDATION_FAILED, "Uploads must be multipart/form-data.", target="Content-Type"
        )
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
        raise too_large(limit)
    with files.directory(parts, create=True) as dir_fd:
        writer = _PartWriter(dir_fd, limit)
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
            try:
                async for chunk in request.stream():
                    parser.write(chunk)
                parser.finalize()
            except MultipartParseError:
                raise ApiError(
                    400, VALIDATION_FAILED, "The multipart body is malformed.", target="file"
                ) from None
            if not writer.finished or writer.target is None or writer.temp_name is None:
                raise ApiError(
                    400, VALIDATION_FAILED, "The form has no complete 'file' part.", target="file"
                )
            try:
                os.replace(writer.temp_name, writer.target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except IsADirectoryError:
                raise ApiError(
                    400, VALIDATION_FAILED, "A directory has that name.", target="file"
                ) from None
        except BaseException:
            writer.discard()
            raise
        info = os.stat(writer.target, dir_fd=dir_fd, follow_symlinks=False)
    return FileEntry.from_stat(writer.target, "", info)
