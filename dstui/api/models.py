"""Immutable models of the API's answers, parsed tolerantly from every shape the sources show."""

from __future__ import annotations

import base64
import binascii
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from itertools import repeat
from operator import attrgetter
from typing import Any

import msgspec

from dstui.api import jsonio
from dstui.api.constants import SESSION_GUID_HEADER, TIMING_HEADERS
from dstui.api.errors import MalformedResponseError, body_excerpt


def parse_datetime(value: object) -> datetime | None:
    """RFC 3339 text to a datetime (msgspec, as for whole pages: fractions beyond microseconds
    round), other ISO 8601 forms via fromisoformat; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return msgspec.convert(value, datetime)
    except msgspec.ValidationError:
        pass
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _require_dict(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise MalformedResponseError(
            f"expected a JSON object for {what}, got {type(data).__name__}"
        )
    return data


def _optional_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return None
    return None


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Session:
    identifier: str
    created_at: datetime | None
    last_accessed_at: datetime | None
    expires_at: datetime | None
    etag: str | None

    @classmethod
    def from_json(cls, data: object) -> Session:
        """`/session` and `/listSessions` say `expireAt`; `/.management/*` say `expiresAt`."""
        if not isinstance(data, dict):
            raise MalformedResponseError("a session in the answer is not a JSON object")
        identifier = data.get("identifier")
        if type(identifier) is not str:
            raise MalformedResponseError("a session in the answer has no identifier")
        expires = data.get("expireAt") or data.get("expiresAt")
        etag = data.get("etag")
        return cls(
            identifier,
            parse_datetime(data.get("createdAt")),
            parse_datetime(data.get("lastAccessedAt")),
            parse_datetime(expires),
            etag if type(etag) is str else None,
        )


class _WireSession(msgspec.Struct, rename="camel", gc=False):
    """One entry of either session list, as the service spells it (typed decoding)."""

    identifier: str
    created_at: datetime | None = None
    last_accessed_at: datetime | None = None
    expire_at: datetime | None = None
    expires_at: datetime | None = None
    etag: str | None = None


class _WirePage(msgspec.Struct, rename="camel"):
    sessions: list[_WireSession] | None = None
    value: list[_WireSession] | None = None
    next_link: str | None = None
    count: int | None = None


_PAGE_DECODER = msgspec.json.Decoder(_WirePage)
_WIRE_FIELDS = attrgetter(
    "identifier", "created_at", "last_accessed_at", "expire_at", "expires_at", "etag"
)
# A page's sessions are built column by column: the slots are set directly, as the generated
# frozen __init__ does, but without a Python-level call per session (a pool lists thousands).
_new_object = object.__new__
_SESSION_SETTERS = tuple(Session.__dict__[f.name].__set__ for f in fields(Session))


def _sessions_from_wire(items: list[_WireSession]) -> tuple[Session, ...]:
    if not items:
        return ()
    identifiers, created, accessed, expire_at, expires_at, etags = zip(
        *map(_WIRE_FIELDS, items), strict=True
    )
    expiry = expire_at
    if None in expire_at:
        expiry = tuple(
            a if a is not None else b for a, b in zip(expire_at, expires_at, strict=True)
        )
    sessions = list(map(_new_object, repeat(Session, len(items))))
    columns = (identifiers, created, accessed, expiry, etags)
    for setter, column in zip(_SESSION_SETTERS, columns, strict=True):
        deque(map(setter, sessions, column), maxlen=0)
    return tuple(sessions)


@dataclass(frozen=True, slots=True)
class SessionPage:
    sessions: tuple[Session, ...]
    next_link: str | None
    count: int | None

    @classmethod
    def from_json(cls, data: object) -> SessionPage:
        """`GET /listSessions` → `sessions`; `POST /.management/listSessions` → `value`/`count`."""
        body = _require_dict(data, "a session list")
        items = body.get("sessions")
        if items is None:
            items = body.get("value")
        if items is None:
            items = []
        if not isinstance(items, list):
            raise MalformedResponseError("the session list is not a JSON array")
        from_json = Session.from_json
        sessions = tuple([from_json(item) for item in items])
        next_link = body.get("nextLink")
        return cls(
            sessions,
            next_link if isinstance(next_link, str) and next_link else None,
            _optional_int(body.get("count")),
        )

    @classmethod
    def from_bytes(cls, body: bytes) -> SessionPage:
        """Decode a response body straight into a page: typed decoding when every entry is
        well-formed (the common case, several times faster), else entry-by-entry tolerance."""
        try:
            wire = _PAGE_DECODER.decode(body)
        except msgspec.ValidationError:
            return cls.from_json(jsonio.loads(body))
        except msgspec.DecodeError:
            raise MalformedResponseError(
                f"the session list is not JSON: {body_excerpt(body)!r}"
            ) from None
        items = wire.sessions if wire.sessions is not None else wire.value
        return cls(
            _sessions_from_wire(items or []),
            wire.next_link or None,
            wire.count,
        )


class ExecutionStatus(StrEnum):
    NOT_STARTED = "NotStarted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_terminal(self) -> bool:
        return self not in (ExecutionStatus.NOT_STARTED, ExecutionStatus.RUNNING)

    @classmethod
    def parse(cls, value: object) -> ExecutionStatus:
        """Accepts both enums, any case, and a Shell pool's exit code ("0" succeeded)."""
        if isinstance(value, int) and not isinstance(value, bool):
            return cls.SUCCEEDED if value == 0 else cls.FAILED
        if not isinstance(value, str):
            raise MalformedResponseError(f"execution status is not a string: {value!r}")
        text = value.strip()
        code = _exit_code(text)
        if code is not None:
            return cls.SUCCEEDED if code == 0 else cls.FAILED
        status = _STATUS_ALIASES.get(text.lower())
        if status is None:
            raise MalformedResponseError(f"unknown execution status {text[:40]!r}")
        return status


_STATUS_ALIASES = {
    "notstarted": ExecutionStatus.NOT_STARTED,
    "running": ExecutionStatus.RUNNING,
    "succeeded": ExecutionStatus.SUCCEEDED,
    "success": ExecutionStatus.SUCCEEDED,
    "failed": ExecutionStatus.FAILED,
    "failure": ExecutionStatus.FAILED,
    "canceled": ExecutionStatus.CANCELED,
    "cancelled": ExecutionStatus.CANCELED,
}


@dataclass(frozen=True, slots=True)
class ImageResult:
    format: str
    base64_data: str

    def data(self) -> bytes:
        try:
            return base64.b64decode(self.base64_data, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise MalformedResponseError("the image result is not valid base64") from exc

    @classmethod
    def from_result(cls, value: object) -> ImageResult | None:
        """`{"type": "image", "format": "png", "base64_data": ...}` or None for anything else."""
        if (
            isinstance(value, dict)
            and str(value.get("type", "")).lower() == "image"
            and isinstance(value.get("base64_data"), str)
        ):
            return cls(str(value.get("format") or "png"), value["base64_data"])
        return None


_EXIT_CODE = re.compile(r"-?[0-9]{1,10}")  # ASCII digits only ("²".isdigit() is True)


def _exit_code(status: object) -> int | None:
    """A Shell pool's status: the exit code as a string ("0", "137")."""
    if isinstance(status, int) and not isinstance(status, bool):
        return status
    if isinstance(status, str) and _EXIT_CODE.fullmatch(status.strip()):
        return int(status)
    return None


@dataclass(frozen=True, slots=True)
class Execution:
    id: str
    identifier: str
    status: ExecutionStatus
    stdout: str
    stderr: str
    result: Any
    image: ImageResult | None
    duration_ms: int | None
    stdout_truncated: bool
    stderr_truncated: bool
    timings: Mapping[str, str]
    session_guid: str | None
    operation_location: str | None
    exit_code: int | None = None  # Shell pools report the process exit code as the status
    execution_type: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is ExecutionStatus.SUCCEEDED

    @classmethod
    def from_json(
        cls,
        data: object,
        *,
        headers: Mapping[str, str] | None = None,
        identifier: str = "",
        output_max_length: int | None = None,
        operation_location: str | None = None,
    ) -> Execution:
        """Parse the new flat resource or the old `properties` envelope.

        `headers` are the response headers (any case); `output_max_length` is the cap the
        request asked for, used to flag streams that reached it.
        """
        body = _require_dict(data, "an execution")
        props = body.get("properties")
        if isinstance(props, dict) and "status" not in body:
            # Old shape: everything sits flat inside `properties`.
            result_obj: Mapping[str, Any] = props
            status_value = props.get("status")
            value = props.get("result", props.get("executionResult"))
        else:
            raw_result = body.get("result")
            result_obj = raw_result if isinstance(raw_result, dict) else {}
            status_value = body.get("status")
            value = result_obj.get("executionResult", result_obj.get("result"))
        # One plain lowercase dict: lookups on httpx.Headers are comparatively slow.
        headers = {name.lower(): value for name, value in headers.items()} if headers else {}
        stdout = _optional_str(result_obj.get("stdout")) or ""
        stderr = _optional_str(result_obj.get("stderr")) or ""
        image = ImageResult.from_result(value)
        execution_id = body.get("id") or headers.get("operation-id") or ""
        cap = output_max_length
        return cls(
            id=str(execution_id),
            identifier=str(body.get("identifier") or body.get("sessionId") or identifier),
            status=ExecutionStatus.parse(status_value),
            stdout=stdout,
            stderr=stderr,
            result=None if image is not None else value,
            image=image,
            duration_ms=_optional_int(result_obj.get("executionTimeInMilliseconds")),
            stdout_truncated=cap is not None and len(stdout) >= cap,
            stderr_truncated=cap is not None and len(stderr) >= cap,
            timings={name: headers[name] for name in TIMING_HEADERS if name in headers},
            session_guid=headers.get(SESSION_GUID_HEADER),
            operation_location=operation_location,
            exit_code=_exit_code(status_value),
            execution_type=_optional_str(body.get("executionType")),
        )


@dataclass(frozen=True, slots=True)
class RemoteFile:
    name: str
    is_dir: bool
    size: int | None
    last_modified: datetime | None
    content_type: str | None
    directory: str = ""

    @classmethod
    def from_json(cls, data: object) -> RemoteFile:
        """New `SessionResourceFile`, old `{"$id", "properties": {filename, size, ...}}`."""
        entry = _require_dict(data, "a file entry")
        props = entry.get("properties")
        if isinstance(props, dict):
            entry = props
        name = entry.get("name") or entry.get("filename")
        if not isinstance(name, str) or not name:
            raise MalformedResponseError("a file entry in the answer has no name")
        kind = str(entry.get("type") or "file").lower()
        size = entry.get("sizeInBytes", entry.get("size"))
        modified = entry.get("lastModifiedAt") or entry.get("lastModifiedTime")
        content_type = entry.get("contentType") or entry.get("mime_type")
        directory = entry.get("directory")
        return cls(
            name=name,
            is_dir=kind == "directory",
            size=_optional_int(size),
            last_modified=parse_datetime(modified or entry.get("last_modified_time")),
            content_type=_optional_str(content_type),
            directory=directory if isinstance(directory, str) else "",
        )

    @property
    def relative_path(self) -> str:
        """Path below the listed directory (`directory/name`, or `name` at the top level)."""
        return (
            f"{self.directory.strip('/')}/{self.name}" if self.directory.strip("/") else self.name
        )


def parse_file_list(data: object) -> list[RemoteFile]:
    """`{"value": [...]}` in both shapes (a bare list is tolerated too)."""
    items = data.get("value") if isinstance(data, dict) else data
    if items is None:
        items = []
    if not isinstance(items, list):
        raise MalformedResponseError("the file list is not a JSON array")
    return [RemoteFile.from_json(item) for item in items]


def parse_uploaded_file(data: object) -> RemoteFile:
    """New shape answers one file object; the old one a `value` list with one entry."""
    if isinstance(data, dict) and isinstance(data.get("value"), list):
        files = parse_file_list(data)
        if not files:
            raise MalformedResponseError("the upload answer lists no file")
        return files[0]
    return RemoteFile.from_json(data)


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str

    @classmethod
    def from_json(cls, data: object) -> Package:
        entry = _require_dict(data, "a package")
        return cls(str(entry.get("name") or ""), str(entry.get("version") or ""))


@dataclass(frozen=True, slots=True)
class KernelInfo:
    name: str
    version: str
    project_url: str | None
    description: str | None

    @classmethod
    def from_json(cls, data: object) -> KernelInfo:
        entry = _require_dict(data, "the kernel description")
        return cls(
            str(entry.get("name") or ""),
            str(entry.get("version") or ""),
            _optional_str(entry.get("projectUrl")),
            _optional_str(entry.get("description")),
        )


def _packages(value: object) -> tuple[Package, ...]:
    return tuple(Package.from_json(item) for item in value) if isinstance(value, list) else ()


@dataclass(frozen=True, slots=True)
class PoolMetadata:
    runtimes: tuple[Package, ...]
    packages: tuple[Package, ...]
    created_at: datetime | None
    last_updated_at: datetime | None
    kernel: KernelInfo | None = field(default=None)
    # Sent only by dstui's local emulator (`dstuiEmulator.sandbox`): "bwrap (bundled 0.11.0)".
    emulator_sandbox: str | None = field(default=None)

    @classmethod
    def from_json(cls, data: object) -> PoolMetadata:
        body = _require_dict(data, "the pool metadata")
        kernel = body.get("jupyterKernel")
        emulator = body.get("dstuiEmulator")
        sandbox = emulator.get("sandbox") if isinstance(emulator, dict) else None
        return cls(
            runtimes=_packages(body.get("runtimes")),
            packages=_packages(body.get("preInstalledPackages")),
            created_at=parse_datetime(body.get("createdAt")),
            last_updated_at=parse_datetime(body.get("lastUpdatedAt")),
            kernel=KernelInfo.from_json(kernel) if isinstance(kernel, dict) else None,
            emulator_sandbox=sandbox if isinstance(sandbox, str) else None,
        )
