"""One exception family for everything the client can raise, each with an actionable hint."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from dstui.api.constants import (
    DYNAMIC_APIS_NOT_ALLOWED,
    ERROR_CODE_HEADER,
    MAX_UPLOAD_BYTES,
    MOUNT_ROOT,
    OPERATION_ID_HEADER,
    REQUEST_ID_HEADERS,
    SESSION_NOT_FOUND_CODE,
    SESSION_PROPERTIES_MISSING,
    TOKEN_AUDIENCE,
)
from dstui.api.display import escape_controls
from dstui.common.secret_text import SECRET_MIN_CHARS, redact_known
from dstui.common.units import format_bytes

_EXCERPT_CHARS = 200
_TAG_RE = re.compile(r"<[^>]{0,500}>")
_SPACE_RE = re.compile(r"\s+")


# Every token this process has held (static, the emulator's, each one a credential returned):
# a server may echo one back in a shape no pattern recognises.
_KNOWN_SECRETS: set[str] = set()


def remember_secret(secret: str) -> None:
    """Redact `secret` from every message from now on."""
    secret = secret.strip()
    if len(secret) >= SECRET_MIN_CHARS:
        _KNOWN_SECRETS.add(secret)


def redact(text: str) -> str:
    """Replace every known token, and anything that looks like a bearer token, with a
    placeholder."""
    return redact_known(text, _KNOWN_SECRETS)


def safe_text(text: str) -> str:
    """What may be printed: tokens redacted, control characters escaped."""
    return escape_controls(redact(text), keep_newlines=True)


def body_excerpt(body: bytes | str, limit: int = _EXCERPT_CHARS) -> str:
    """A short, plain, single-line excerpt of a response body (markup stripped, never rendered)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = _SPACE_RE.sub(" ", _TAG_RE.sub(" ", text)).strip()
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return redact(text)


class DynamicSessionsError(Exception):
    """Base of every dstui.api error. str() is the message followed by the hint."""

    default_hint: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        error_code_header: str | None = None,
        request_id: str | None = None,
        operation_id: str | None = None,
        trace_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = escape_controls(redact(message))
        self.status = status
        # The code and trace id come from the body, whatever a server put there.
        self.code = escape_controls(code) if code is not None else None
        self.error_code_header = error_code_header
        self.request_id = request_id
        self.operation_id = operation_id
        self.trace_id = escape_controls(trace_id) if trace_id is not None else None
        self.hint = escape_controls(redact(hint if hint is not None else self.default_hint))
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        ids = [
            f"{label} {value}"
            for label, value in (
                ("request id", self.request_id),
                ("operation id", self.operation_id),
                ("trace id", self.trace_id),
            )
            if value
        ]
        if ids:
            parts.append(f"({', '.join(ids)})")
        if self.hint:
            parts.append(f"Hint: {self.hint}")
        return " ".join(parts)


class RequestValidationError(DynamicSessionsError, ValueError):
    """Refused on the client side before anything was sent."""

    default_hint = "Fix the value and try again; nothing was sent to the service."


class ApiError(DynamicSessionsError):
    """The service answered with an HTTP error status."""

    default_hint = "The service rejected the request; see the message for details."


class BadRequestError(ApiError):
    default_hint = (
        "The service rejected the request as invalid; check the identifier and api-version."
    )


class AuthenticationError(ApiError):
    default_hint = (
        f"The token was missing, expired or for the wrong audience: it must be issued for "
        f"{TOKEN_AUDIENCE} (scope {TOKEN_AUDIENCE}/.default). Sign in again, e.g. `az login`."
    )


# The local emulator names itself in its 401s; its token is not an Azure one.
EMULATOR_REALM = 'realm="dstui-emulator"'
EMULATOR_TOKEN_HINT = (
    "This is dstui's local emulator, not Azure: send the token its start-up banner printed "
    "(`export DSTUI_TOKEN=…` with --auth token); `az login` does not help here."
)


class PermissionDeniedError(ApiError):
    default_hint = (
        "Your identity needs the 'Azure ContainerApps Session Executor' role on this session "
        "pool; new role assignments can take several minutes to apply, then sign in again."
    )


class NotFoundError(ApiError):
    default_hint = (
        "Check the pool management endpoint and api-version; the session may also have "
        "expired or been deleted (its files are gone with it)."
    )


class SessionNotFoundError(NotFoundError):
    default_hint = (
        "The session has expired or was stopped; running code with this identifier "
        "starts a new, empty session."
    )


class PayloadTooLargeError(ApiError):
    default_hint = (
        f"Uploads are limited to {format_bytes(MAX_UPLOAD_BYTES)} per file; "
        "split or compress the file."
    )


class RateLimitedError(ApiError):
    # 429 is documented for a pool at maxConcurrentSessions; any 429 also means "not now".
    default_hint = (
        "The pool refused for now, usually because it is at its concurrent-session limit: "
        "retry in a moment, delete idle sessions, or raise the pool's maxConcurrentSessions."
    )

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    default_hint = (
        "The service failed on its side; retry in a moment and quote the request id if it persists."
    )


class UnexpectedStatusError(ApiError):
    """A status the operation does not document (a redirect, a 204 where data was due)."""

    default_hint = (
        "dstui never follows redirects: the usual cause is a login page or a proxy between "
        "dstui and the pool. Check the endpoint (and any HTTP(S)_PROXY setting)."
    )


class TransportError(DynamicSessionsError):
    """No HTTP answer: connection refused or dropped, DNS failure, TLS failure."""

    default_hint = "Could not talk to the endpoint; check the URL, network, proxy and DNS."


class RequestTimeoutError(TransportError):
    default_hint = "The service did not answer in time; retry, or raise the client timeout."


class MalformedResponseError(DynamicSessionsError):
    """The answer was not the JSON the contract describes."""

    default_hint = (
        "The answer was not the expected JSON; a proxy or a wrong endpoint may be in the way."
    )


class ResponseTooLargeError(MalformedResponseError):
    """An answer longer than any legitimate one: read no further."""


class EndlessPagingError(MalformedResponseError):
    """The server keeps handing out new pages past every sensible bound."""

    default_hint = (
        "A faulty server or a proxy rewriting nextLink may be in the way; nothing partial "
        "was returned. List the first page only, or check the endpoint."
    )


class StalledTransferError(TransportError):
    """A transfer still trickling, too slowly to ever finish."""

    default_hint = (
        "The transfer was interrupted and nothing was kept; retry later, or check the "
        "network or proxy between dstui and the pool."
    )


class LocalFileError(DynamicSessionsError, OSError):
    """A local file could not be read or written (permissions, disk full, a directory)."""

    default_hint = "Check the local path, its permissions and the free disk space."


class DestinationExistsError(DynamicSessionsError, FileExistsError):
    # Neutral: each front end says how to allow replacing it (--force, the TUI's Overwrite).
    default_hint = "Choose another destination, or allow replacing the existing file."


_CODE_HINTS = {
    SESSION_PROPERTIES_MISSING: (
        "The service expected the other request body shape (flat vs 'properties'-wrapped), "
        "or a Shell pool was sent Python code."
    ),
    "SessionRequestValidationFailed": (
        "Check the session identifier, the api-version and the endpoint."
    ),
    "SessionRequestNotSupported": (
        "This operation is not supported by this api-version or pool type."
    ),
    DYNAMIC_APIS_NOT_ALLOWED: (
        "This is a custom-container pool: it has no session list or file API. Use its "
        ".management calls (list, show, stop a session) or send requests to a session's app."
    ),
}
# `dstui proxy`'s own refusals: the generic hint of their status (sign in to Azure again, the
# service failed) would send the user the wrong way.
_PROXY_HINTS = {
    "ProxyUnauthorized": (
        "This proxy runs with --auth and lends its own credential: send the bearer token it "
        "printed when it started (e.g. DSTUI_TOKEN=... with --auth token), not an Azure token."
    ),
    "ProxyUpstreamAuthFailed": (
        "The proxy could not get a token for its upstream: fix the proxy's own --auth "
        "credential where it runs (e.g. `az login`), then restart it."
    ),
    "ProxyUpstreamUnreachable": (
        "The proxy is up but its upstream is not: check that the pool or emulator given to "
        "`dstui proxy --upstream` is running and reachable."
    ),
}


@dataclass(frozen=True)
class RemoteTarget:
    """The file (or, with no name, the directory) a file operation is about."""

    directory: str  # relative to /mnt/data as normalize_remote_path gives it; "" is the root
    name: str | None = None

    @property
    def directory_path(self) -> str:
        return "/".join(part for part in (MOUNT_ROOT, self.directory) if part)

    @property
    def path(self) -> str:
        return "/".join(part for part in (self.directory_path, self.name) if part)


# The service answers a missing file with a bare 404 (no published error code), and so it does
# after the session expired: a file call with a dead identifier lands in a new, empty session.
_SESSION_GONE_NOTE = (
    "The service answers the same when the session has expired or was deleted, taking its "
    "files with it; this identifier then names a new, empty session."
)


def _missing_kind(code: str | None) -> str | None:
    """What a not-found error code names as missing ("directory", "file"), None if it does not."""
    lowered = (code or "").lower()
    if "notfound" not in lowered:
        return None
    if "directory" in lowered or "folder" in lowered:
        return "directory"
    return "file" if "file" in lowered else None


def not_found_hint(target: RemoteTarget, code: str | None) -> str:
    """The hint for a file operation's 404: what is missing first, the session only when the
    error code does not say which."""
    missing = _missing_kind(code)
    if missing == "directory" or target.name is None:
        hint = (
            f"There is no directory {target.directory_path} in this session; "
            "check the path against the parent directory's listing."
        )
    else:
        hint = (
            f"There is no file {target.path} in this session; "
            "check the name and directory against a fresh file list."
        )
    return hint if missing else f"{hint} {_SESSION_GONE_NOTE}"


def session_gone_hint(target: RemoteTarget) -> str:
    """The hint when the service says the session itself is gone during a file operation."""
    return (
        f"The service says the session has expired or was stopped; its files, {target.path} "
        "among them, went with it. Running code with this identifier starts a new, empty session."
    )


_STATUS_CLASSES: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
}


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_fields(body: bytes) -> tuple[str | None, str | None, str | None, bool]:
    """(code, message, traceId, parsed_as_json) from an error body of any shape."""
    if not body.strip():
        return None, None, None, True
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None, None, False
    if not isinstance(data, dict):
        return None, str(data) if isinstance(data, str) else None, None, True
    error = data.get("error")
    source: Mapping[str, Any] = error if isinstance(error, dict) else data
    code = source.get("code")
    message = source.get("message") or data.get("message")
    trace = source.get("traceId") or data.get("traceId")
    return (
        str(code) if code is not None else None,
        str(message) if message is not None else None,
        str(trace) if trace is not None else None,
        True,
    )


def api_error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    what: str = "request",
    remote: RemoteTarget | None = None,
) -> ApiError:
    """Map an HTTP error answer to the matching ApiError subclass.

    `headers` must be case-insensitive (httpx.Headers is); `what` names the operation and
    `remote` the file or directory it is about, which a not-found hint then names.
    """
    code, message, trace_id, is_json = _error_fields(body)
    header_code = headers.get(ERROR_CODE_HEADER)
    code = code or header_code
    request_id = next((headers[h] for h in REQUEST_ID_HEADERS if headers.get(h)), None)
    if not message:
        message = f"non-JSON answer: {body_excerpt(body)!r}" if not is_json and body.strip() else ""
    text = f"{what} failed: HTTP {status}"
    if code:
        text += f" {code}"
    if message:
        text += f": {message}"

    cls: type[ApiError]
    if code == SESSION_NOT_FOUND_CODE:
        cls = SessionNotFoundError
    elif status >= 500:
        cls = ServerError
    else:
        cls = _STATUS_CLASSES.get(status, ApiError)
    hint = _CODE_HINTS.get(code or "") if cls in (BadRequestError, ApiError) else None
    hint = _PROXY_HINTS.get(code or "", hint)
    if cls is AuthenticationError and EMULATOR_REALM in headers.get("www-authenticate", ""):
        hint = EMULATOR_TOKEN_HINT
    if remote is not None and cls is SessionNotFoundError:
        hint = session_gone_hint(remote)
    elif remote is not None and cls is NotFoundError:
        hint = not_found_hint(remote, code)
    elif remote is not None and cls is BadRequestError:
        # The identifier was checked before sending: what the service refused is the file.
        hint = (
            f"The service refused {remote.path}; its message says why. Only regular files "
            "and directories under /mnt/data can be listed, read or written."
        )
    common: dict[str, Any] = {
        "status": status,
        "code": code,
        "error_code_header": header_code,
        "request_id": request_id,
        "operation_id": headers.get(OPERATION_ID_HEADER),
        "trace_id": trace_id,
        "hint": hint,
    }
    if cls is RateLimitedError:
        return RateLimitedError(
            text, retry_after=parse_retry_after(headers.get("retry-after")), **common
        )
    return cls(text, **common)
