"""One recorded HTTP exchange, and what it says about the data-plane API: the operation, the
session, an execution's code and outcome, a file's name, size and checksum.

Everything here works on plain values (bytes, dicts), so the proxy, the emulator and dstui's own
client all record the same way. Unknown or malformed traffic is still described, as such.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs, unquote

from dstui.common.secret_text import encodable, redact_known

EXCERPT_CHARS = 4096
RESPONSE_EXCERPT_CHARS = 64 * 1024
BODY_KEEP_BYTES = 1024 * 1024  # JSON bodies kept whole up to this size (for curl export)
CUT_MARK = "…[cut: {more} more characters]"
# Never recorded: credentials, whoever holds them.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-ms-token-aad-id-token"}
)
_ID_HEADERS = ("x-ms-client-request-id", "x-ms-request-id", "x-request-id")

_OPERATIONS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    # DOTALL and \Z: a file name may hold a newline (the path arrives percent-decoded)
    (method, re.compile(pattern + r"\Z", re.DOTALL), name)
    for method, pattern, name in (
        ("POST", r"/executions", "execute"),
        ("GET", r"/executions/(?P<execution>[^/]+)", "get-execution"),
        ("POST", r"/code/execute", "execute"),
        ("POST", r"/files/upload", "upload"),
        ("GET", r"/files/content/(?P<name>.+)", "download"),
        ("GET", r"/files/(?P<name>.+)/content", "download"),
        ("GET", r"/files", "list-files"),
        ("POST", r"/files", "upload"),
        ("GET", r"/files/(?P<name>.+)", "file-info"),
        ("DELETE", r"/files/(?P<name>.+)", "delete-file"),
        ("GET", r"/session", "get-session"),
        ("DELETE", r"/session", "delete-session"),
        ("GET", r"/listSessions", "list-sessions"),
        ("GET", r"/metadata", "metadata"),
        ("POST", r"/\.management/(?P<management>[A-Za-z]+)", "management"),
        ("POST", r"/x-dstui/(?P<extension>[A-Za-z]+)", "emulator-extension"),
    )
)


@dataclass
class Exchange:
    """What is stored for one request and its answer (never a credential, never a file body)."""

    started: float  # Unix time the request arrived or was sent
    source: str  # "proxy", "emulator" or "dstui"
    method: str
    path: str
    query: str = ""
    origin: str = ""  # scheme://host[:port] the request was meant for (the upstream for a proxy)
    operation: str = "unknown"
    api_version: str | None = None
    identifier: str | None = None
    status: int | None = None  # None: no complete answer
    duration_ms: float = 0.0
    bytes_sent: int = 0  # request body, client to server
    bytes_received: int = 0  # response body, server to client
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    timing: dict[str, str] = field(default_factory=dict)  # the X-Ms-* headers of the answer
    request_id: str | None = None
    operation_id: str | None = None
    request_body: str | None = None  # a JSON request body, whole (or cut, see body_cut)
    body_cut: bool = False
    response_body: str | None = None  # a JSON answer, excerpted
    error: str | None = None  # what went wrong on the wire, or why the exchange is odd
    code: str | None = None
    execution_id: str | None = None
    execution_status: str | None = None
    execution_type: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    result: str | None = None
    error_code: str | None = None  # the error envelope's code
    error_message: str | None = None
    file_direction: str | None = None  # "upload" or "download"
    file_name: str | None = None
    file_size: int | None = None
    file_sha256: str | None = None
    asked: str | None = None  # for session and management calls: what was asked
    parent: int | None = None  # for a poll: the exchange that started the execution
    id: int | None = None  # the store's row number, once stored

    def to_dict(self) -> dict[str, Any]:
        """Every field; the dicts (of strings) are copied. Not `asdict`: its deep copy cost
        more than all the rest of storing an exchange."""
        return {
            name: dict(value) if isinstance(value := getattr(self, name), dict) else value
            for name in _FIELD_NAMES
        }

    def scrub(self, secrets: Iterable[str] = ()) -> Exchange:
        """Make every text field safe to store and show: `secrets`, bearer and JWT shapes
        redacted (a server may echo a token back anywhere), lone surrogates replaced.
        A second pass without secrets would change nothing, so it is skipped (the flag is
        not a field: it is neither stored nor compared)."""
        known = tuple(sorted(set(secrets), key=len, reverse=True))
        if not known and self.__dict__.get("_scrubbed"):
            return self

        def clean(text: str) -> str:
            return redact_known(encodable(text), known)

        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, clean(value))
            elif isinstance(value, dict):
                setattr(
                    self,
                    name,
                    {k: clean(v) if isinstance(v, str) else v for k, v in value.items()},
                )
        self.__dict__["_scrubbed"] = True
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Exchange:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


_FIELD_NAMES = tuple(item.name for item in fields(Exchange))


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str | None:
    """At most `limit` characters; a cut is marked with how much was left out."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + CUT_MARK.format(more=len(text) - limit)


def credentials_in(headers: Mapping[str, str] | list[tuple[str, str]]) -> list[str]:
    """The credentials a request carries (every Authorization header's, with and without its
    scheme; each cookie's value), to be redacted wherever they turn up again."""
    found: list[str] = []
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        key = name.lower()
        if key not in SECRET_HEADERS:
            continue
        value = value.strip()
        found.append(value)
        if key.endswith("authorization"):
            found.append(value.partition(" ")[2].strip())
        elif "cookie" in key:
            found += [c.partition("=")[2].strip() for c in value.split(";")]
    return found


def safe_headers(headers: Mapping[str, str] | list[tuple[str, str]]) -> dict[str, str]:
    """Headers with lower-case names, without any that carry credentials."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    kept: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        if key in SECRET_HEADERS:
            continue
        kept[key] = f"{kept[key]}, {value}" if key in kept else value
    return kept


def classify(method: str, path: str) -> tuple[str, dict[str, str]]:
    """The operation's name and the path's parts (execution id, file name) by the path's end,
    so an endpoint's own base path (a real pool's) does not matter."""
    for verb, pattern, name in _OPERATIONS:
        if verb != method.upper():
            continue
        match = pattern.search(path)
        if match:
            return name, {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
    return "unknown", {}


@dataclass
class WireFacts:
    """What was seen of one exchange on the wire, before it is described."""

    source: str
    started: float
    method: str
    path: str
    query: str
    request_headers: Mapping[str, str] | list[tuple[str, str]]  # a list keeps repeats
    origin: str = ""
    request_body: bytes = b""  # the first BODY_KEEP_BYTES of it
    bytes_sent: int = 0
    status: int | None = None
    response_headers: Mapping[str, str] | list[tuple[str, str]] = field(default_factory=dict)
    response_body: bytes = b""  # the first BODY_KEEP_BYTES of it
    bytes_received: int = 0
    duration_ms: float = 0.0
    error: str | None = None
    upload_name: str | None = None
    upload_size: int | None = None
    upload_sha256: str | None = None
    download_sha256: str | None = None
    secrets: tuple[str, ...] = ()  # credentials to redact besides the request's own


def describe(facts: WireFacts) -> Exchange:
    """The exchange these facts make; never raises on odd or malformed traffic."""
    request_headers = safe_headers(facts.request_headers)
    response_headers = safe_headers(facts.response_headers)
    query = parse_qs(facts.query, keep_blank_values=True)
    operation, parts = classify(facts.method, facts.path)
    exchange = Exchange(
        started=facts.started,
        source=facts.source,
        method=facts.method.upper(),
        path=facts.path,
        query=facts.query,
        origin=facts.origin,
        operation=operation,
        api_version=_first(query, "api-version"),
        identifier=_first(query, "identifier"),
        status=facts.status,
        duration_ms=round(facts.duration_ms, 2),
        bytes_sent=facts.bytes_sent,
        bytes_received=facts.bytes_received,
        request_headers=request_headers,
        response_headers=response_headers,
        timing={k: v for k, v in response_headers.items() if k.startswith("x-ms-")},
        request_id=next(
            (h.get(k) for k in _ID_HEADERS for h in (response_headers, request_headers) if k in h),
            None,
        ),
        operation_id=response_headers.get("operation-id") or request_headers.get("operation-id"),
        error=facts.error,
    )
    notes: list[str] = []
    if _is_json(request_headers) and facts.request_body:
        exchange.request_body = facts.request_body.decode("utf-8", "replace")
        exchange.body_cut = facts.bytes_sent > len(facts.request_body)
    if _is_json(response_headers) and facts.response_body:
        exchange.response_body = excerpt(
            facts.response_body.decode("utf-8", "replace"), RESPONSE_EXCERPT_CHARS
        )
    request_json = _json(facts.request_body, request_headers, notes, "request")
    response_json = _json(facts.response_body, response_headers, notes, "answer")
    if operation in ("execute", "get-execution"):
        _describe_execution(exchange, parts, request_json, response_json, notes)
    elif operation in ("upload", "download", "file-info", "delete-file"):
        _describe_file(exchange, facts, parts, response_json)
    elif operation in ("get-session", "delete-session", "list-sessions", "management"):
        exchange.asked = _asked(operation, parts, request_json, query)
    if facts.status is not None and facts.status >= 400:
        _describe_error(exchange, response_json)
    if operation == "unknown":
        notes.append(f"not a data-plane operation: {exchange.method} {facts.path}")
    if notes:
        exchange.error = "; ".join(filter(None, [exchange.error, *notes]))
    return exchange.scrub([*credentials_in(facts.request_headers), *facts.secrets])


def _first(query: Mapping[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _is_json(headers: Mapping[str, str]) -> bool:
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def _json(body: bytes, headers: Mapping[str, str], notes: list[str], what: str) -> Any:
    if not body or not _is_json(headers):
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        notes.append(f"the {what} is not valid JSON (or was cut at {len(body)} bytes)")
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _describe_execution(
    exchange: Exchange,
    parts: Mapping[str, str],
    request: Any,
    response: Any,
    notes: list[str],
) -> None:
    if isinstance(request, dict):
        inner = request.get("properties")
        body: dict[str, Any] = inner if isinstance(inner, dict) else request
        code = body.get("code") or body.get("shellCommand") or body.get("execCommandAndArgs")
        exchange.code = excerpt(_text(code), BODY_KEEP_BYTES)
        exchange.execution_type = _text(body.get("executionType"))
    elif exchange.operation == "execute" and exchange.method == "POST":
        notes.append("the execution request has no JSON object body")
    exchange.execution_id = parts.get("execution") or exchange.operation_id
    if not isinstance(response, dict):
        return
    legacy = response.get("properties")
    if isinstance(legacy, dict):
        result: Any = legacy
        exchange.execution_status = _text(legacy.get("status"))
        value = legacy.get("result", legacy.get("executionResult"))
    else:
        result = response.get("result") if isinstance(response.get("result"), dict) else {}
        exchange.execution_status = _text(response.get("status"))
        exchange.execution_id = _text(response.get("id")) or exchange.execution_id
        exchange.execution_type = _text(response.get("executionType")) or exchange.execution_type
        value = result.get("executionResult")
    exchange.stdout = excerpt(_text(result.get("stdout")))
    exchange.stderr = excerpt(_text(result.get("stderr")))
    exchange.result = excerpt(_text(value))


def _describe_file(
    exchange: Exchange, facts: WireFacts, parts: Mapping[str, str], response: Any
) -> None:
    exchange.file_name = parts.get("name")
    if exchange.operation == "upload":
        exchange.file_direction = "upload"
        answered_name, answered_size = _uploaded(response)
        exchange.file_name = facts.upload_name or answered_name or exchange.file_name
        exchange.file_size = facts.upload_size if facts.upload_size is not None else answered_size
        exchange.file_sha256 = facts.upload_sha256
    elif exchange.operation == "download":
        exchange.file_direction = "download"
        if facts.status == 200:
            exchange.file_size = facts.bytes_received
            exchange.file_sha256 = facts.download_sha256
    query = parse_qs(facts.query)
    directory = _first(query, "path")
    if directory and exchange.file_name and "/" not in exchange.file_name:
        exchange.file_name = f"{directory.rstrip('/')}/{exchange.file_name}"


def _uploaded(response: Any) -> tuple[str | None, int | None]:
    """The name and size the upload's answer reports (either API shape)."""
    entry = response
    if isinstance(response, dict) and isinstance(response.get("value"), list):
        first = response["value"][0] if response["value"] else {}
        entry = first.get("properties", first) if isinstance(first, dict) else {}
    if not isinstance(entry, dict):
        return None, None
    name = entry.get("name", entry.get("filename"))
    size = entry.get("sizeInBytes", entry.get("size"))
    return (
        name if isinstance(name, str) else None,
        size if isinstance(size, int) and not isinstance(size, bool) else None,
    )


def _asked(operation: str, parts: Mapping[str, str], request: Any, query: Any) -> str:
    if operation == "management":
        target = request.get("identifier") if isinstance(request, dict) else None
        target = target or _first(query, "identifier")
        return f"{parts.get('management', '?')}" + (f" for {target}" if target else "")
    if operation == "list-sessions":
        return "list sessions" + (" (next page)" if "$skiptoken" in str(query) else "")
    return {"get-session": "read the session", "delete-session": "delete the session"}[operation]


def _describe_error(exchange: Exchange, response: Any) -> None:
    envelope = response.get("error") if isinstance(response, dict) else None
    if isinstance(envelope, dict):
        exchange.error_code = _text(envelope.get("code"))
        exchange.error_message = excerpt(_text(envelope.get("message")), 1000)
    exchange.error_code = exchange.error_code or exchange.response_headers.get("x-ms-error-code")
