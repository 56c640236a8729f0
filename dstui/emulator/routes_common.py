"""Pieces used by both API shapes: an execution, a named file, session views and pages."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Coroutine
from email.utils import format_datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlencode

from starlette.responses import Response, StreamingResponse

from dstui.api.constants import (
    OPERATION_ID_HEADER,
    OPERATION_LOCATION_HEADER,
    SESSION_GUID_HEADER,
    SESSIONS_PAGE_SIZE,
)
from dstui.emulator.dispatch import Call
from dstui.emulator.envelopes import NOT_SUPPORTED, ApiError, ResponseAborted, timestamp
from dstui.emulator.execution_record import ExecutionRecord
from dstui.emulator.executions import (
    new_record,
    parse_execution_request,
    run_execution,
)
from dstui.emulator.file_errors import shown
from dstui.emulator.files import (
    FileEntry,
    SessionFiles,
    content_type,
    directory_parts,
    file_io,
    file_name,
    modified_at,
)
from dstui.emulator.pool import Session, SessionPool
from dstui.emulator.shell import parse_shell_request, run_shell_execution

logger = logging.getLogger("dstui.emulator")
RequestT = TypeVar("RequestT", contravariant=True)
_CHUNK = 1024 * 1024


def open_files(call: Call) -> tuple[SessionFiles, list[str]]:
    """The files of the request's session (opened, so its cooldown restarts) and the directory
    its `path` query names."""
    session, _ = call.open_session()
    parts = directory_parts(call.request.query_params.get("path"))
    return SessionFiles(session.container.data_dir), parts


def execution_headers(record: ExecutionRecord) -> dict[str, str]:
    return {**record.timings, SESSION_GUID_HEADER: record.session_guid}


async def execute(call: Call) -> tuple[ExecutionRecord, dict[str, str], bool]:
    """Parse and run (or, if asynchronous on the new shape, start) an execution."""
    if call.state.config.container_type == "Shell":
        return await _execute_shell(call)
    session, created = call.open_session()
    request = parse_execution_request(await call.json_body())
    operation_id = call.request.headers.get(OPERATION_ID_HEADER)
    record = new_record(session, request.execution_type, operation_id)
    asynchronous = request.execution_type == "Asynchronous" and not call.legacy
    return await _run(call, (session, created), request, record, run_execution, asynchronous)


async def _execute_shell(call: Call) -> tuple[ExecutionRecord, dict[str, str], bool]:
    if call.legacy:  # the old `code/execute` shape (contract §6.3)
        raise ApiError(
            400,
            NOT_SUPPORTED,
            f"Shell execution is not supported in API version {call.api_version}.",
            target="api-version",
        )
    session, created = call.open_session()
    request = parse_shell_request(await call.json_body())
    operation_id = call.request.headers.get(OPERATION_ID_HEADER)
    record = new_record(session, request.execution_type, operation_id)
    record.echo_type = request.echo_type
    asynchronous = request.execution_type == "Asynchronous"
    return await _run(call, (session, created), request, record, run_shell_execution, asynchronous)


class _Runner(Protocol[RequestT]):
    """run_execution or run_shell_execution: fills `record` as the run goes."""

    def __call__(
        self,
        pool: SessionPool,
        session: Session,
        request: RequestT,
        record: ExecutionRecord,
        *,
        new_allocation: bool,
        received_at: float,
    ) -> Coroutine[Any, Any, None]: ...


async def _run(
    call: Call,
    opened: tuple[Session, bool],
    request: RequestT,
    record: ExecutionRecord,
    runner: _Runner[RequestT],
    asynchronous: bool,
) -> tuple[ExecutionRecord, dict[str, str], bool]:
    session, created = opened
    run = runner(
        call.state.pool,
        session,
        request,
        record,
        new_allocation=created,
        received_at=call.received_at,
    )
    return await _run_or_start(call, record, run, asynchronous=asynchronous)


async def _run_or_start(
    call: Call, record: ExecutionRecord, run: Coroutine[Any, Any, None], *, asynchronous: bool
) -> tuple[ExecutionRecord, dict[str, str], bool]:
    """Wait for the run, or start it in the background (True: the answer says Running)."""
    query = urlencode({"api-version": call.api_version, "identifier": record.identifier})
    headers = {
        OPERATION_ID_HEADER: record.id,
        OPERATION_LOCATION_HEADER: f"/executions/{quote(record.id, safe='')}?{query}",
    }
    if asynchronous:
        call.state.spawn(run)
        return record, headers, True
    await run
    return record, {**headers, **execution_headers(record)}, False


async def _read_chunks(fd: int, size: int, name: str) -> AsyncIterator[bytes]:
    """Exactly the `size` bytes the Content-Length announced. A file that shrinks or fails to
    read midway (code in the session can truncate it) cuts the response off instead."""
    remaining = size
    try:
        while remaining > 0:
            try:
                chunk = await file_io(os.read, fd, min(_CHUNK, remaining))
            except OSError as exc:
                problem = f"could not be read: {exc.strerror or exc}"
            else:
                if chunk:
                    remaining -= len(chunk)
                    yield chunk
                    continue
                problem = "shrank while it was sent"
            logger.warning("download of '%s' cut off: the file %s", shown(name), problem)
            raise ResponseAborted(problem)
    finally:
        # Synchronous: on a client disconnect this generator is cancelled, and an awaited
        # close would never run (one leaked fd per aborted download).
        os.close(fd)


def _named_file(call: Call) -> tuple[SessionFiles, list[str], str]:
    """`open_files` and the route's `{name}`, checked to be a single entry name."""
    files, parts = open_files(call)
    return files, parts, file_name(call.params["name"])


async def stat_named_file(call: Call) -> FileEntry:
    files, parts, name = _named_file(call)
    return await file_io(files.stat, parts, name)


async def delete_named_file(call: Call) -> None:
    files, parts, name = _named_file(call)
    await file_io(files.delete, parts, name)


async def list_entries(call: Call, *, recursive: bool = False) -> list[FileEntry]:
    files, parts = open_files(call)
    return await file_io(lambda: files.entries(parts, recursive=recursive))


async def get_file_content(call: Call) -> Response:
    """The file's bytes, streamed; the same in both API shapes."""
    files, parts, name = _named_file(call)
    fd, info = await file_io(files.open_read, parts, name)
    headers = {
        "Content-Length": str(info.st_size),
        "Last-Modified": format_datetime(modified_at(info), usegmt=True),
    }
    chunks = _read_chunks(fd, info.st_size, name)
    return StreamingResponse(chunks, headers=headers, media_type=content_type(name))


def session_view(call: Call, session: Session, *, management: bool) -> dict[str, Any]:
    expires = timestamp(call.state.pool.expires_at(session))
    view = {
        "identifier": session.identifier,
        "createdAt": timestamp(session.created_at),
        "lastAccessedAt": timestamp(session.last_accessed_at),
        "etag": session.etag,
    }
    view["expiresAt" if management else "expireAt"] = expires
    return view


async def delete_existing_session(call: Call) -> Session:
    session = call.existing_session()
    await call.state.pool.delete(session.identifier)
    return session


def session_page(
    call: Call, route: str, *, management: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """The views of one page of live sessions (`skip` query) and the next page's link, if any."""
    skip = call.skip()
    page, more = call.state.pool.page(skip, SESSIONS_PAGE_SIZE)
    views = [session_view(call, session, management=management) for session in page]
    if not more:
        return views, None
    query = {"skip": str(skip + SESSIONS_PAGE_SIZE)}
    # As documented, the management nextLink carries no api-version; clients add it back.
    if not management:
        query["api-version"] = call.api_version
    base = str(call.request.base_url).rstrip("/")
    return views, f"{base}{route}?{urlencode(query)}"
