"""Routing by path *and* api-version, with the service's errors for everything that misses."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from dstui.api.constants import (
    IDENTIFIER_RE,
    KNOWN_API_VERSIONS,
    supports_session_management,
    uses_legacy_shape,
)
from dstui.emulator.envelopes import (
    NOT_SUPPORTED,
    SESSION_NOT_FOUND,
    VALIDATION_FAILED,
    ApiError,
    error_response,
)
from dstui.emulator.file_errors import shown
from dstui.emulator.pool import Session
from dstui.emulator.state import EmulatorState

logger = logging.getLogger("dstui.emulator")

Shape = Literal["legacy", "new", "new-management", "any"]
Handler = Callable[["Call"], Awaitable[Response]]
_PARAM_RE = re.compile(r"\{(\w+)\}")
MAX_JSON_DEPTH = 64  # the deepest execution body is 3 levels; this leaves room for extensions
MAX_SKIP = 1_000_000_000


def json_problem(value: Any, depth_limit: int) -> str | None:
    """What makes parsed JSON unusable: nesting deeper than `depth_limit`, or a string with a
    lone UTF-16 surrogate (`"\\ud800"`), which is not text. Iterative, so it cannot recurse."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "The JSON body holds a lone UTF-16 surrogate escape, which is not text."
            continue
        if isinstance(item, dict):
            item = [*item.keys(), *item.values()]
        if isinstance(item, list):
            if depth > depth_limit:
                return f"The JSON body nests deeper than {depth_limit} levels."
            pending.extend((c, depth + 1) for c in item if isinstance(c, (str, dict, list)))
    return None


@dataclass(frozen=True)
class RouteSpec:
    method: str
    template: str
    handler: Handler
    shape: Shape
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        pieces, position = [], 0
        for param in _PARAM_RE.finditer(self.template):
            pieces.append(re.escape(self.template[position : param.start()]))
            pieces.append(f"(?P<{param.group(1)}>[^/]+)")
            position = param.end()
        pieces.append(re.escape(self.template[position:]))
        object.__setattr__(self, "pattern", re.compile("".join(pieces)))

    def applies_to(self, api_version: str) -> bool:
        if self.shape == "any":
            return True
        if self.shape == "legacy":
            return uses_legacy_shape(api_version)
        if self.shape == "new-management":
            return supports_session_management(api_version)
        return not uses_legacy_shape(api_version)


@dataclass
class Call:
    """One request after routing: its api-version, path parameters and the shared state."""

    request: Request
    state: EmulatorState
    api_version: str
    params: dict[str, str]
    received_at: float

    @property
    def legacy(self) -> bool:
        return uses_legacy_shape(self.api_version)

    def identifier(self) -> str:
        value = self.request.query_params.get("identifier")
        if not value:
            raise ApiError(
                400,
                VALIDATION_FAILED,
                "The 'identifier' query parameter is required.",
                target="identifier",
            )
        if IDENTIFIER_RE.match(value) is None:
            raise ApiError(
                400,
                VALIDATION_FAILED,
                "The identifier must have 4 to 128 letters, digits or allowed symbols.",
                target="identifier",
            )
        return value

    def open_session(self) -> tuple[Session, bool]:
        """The data-plane session, created implicitly on first use (cooldown reset)."""
        return self.state.pool.open(self.identifier())

    def existing_session(self) -> Session:
        """A management read: never creates a session, never extends its cooldown."""
        identifier = self.identifier()
        session = self.state.pool.find(identifier)
        if session is None:
            raise ApiError(
                400,
                SESSION_NOT_FOUND,
                "No session with this identifier exists in the pool.",
                target="identifier",
            )
        return session

    def flag(self, name: str) -> bool:
        return self.request.query_params.get(name, "").lower() in ("true", "1")

    def skip(self) -> int:
        raw = self.request.query_params.get("skip", "0")
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_SKIP:
            raise ApiError(
                400,
                VALIDATION_FAILED,
                f"'skip' must be a whole number from 0 to {MAX_SKIP}, not '{shown(raw, 40)}'.",
                target="skip",
            )
        return int(raw)

    async def json_body(self) -> Any:
        limit = self.state.config.max_json_bytes
        body = bytearray()
        async for chunk in self.request.stream():
            body += chunk
            if len(body) > limit:
                raise ApiError(
                    413, "PayloadTooLarge", f"The body exceeds {limit} bytes.", target="body"
                )
        problem: str | None
        try:
            value = json.loads(body)
        except RecursionError:
            value, problem = None, f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels."
        except ValueError as exc:
            where = (
                f" ({exc.msg} at position {exc.pos})"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            raise ApiError(
                400, VALIDATION_FAILED, f"The body is not valid JSON{where}.", target="body"
            ) from None
        else:
            problem = json_problem(value, MAX_JSON_DEPTH)
        if problem is not None:
            raise ApiError(400, VALIDATION_FAILED, problem, target="body")
        return value


class Dispatcher:
    """The innermost ASGI app: finds the route for path, method and api-version, runs it."""

    def __init__(self, state: EmulatorState, routes: Sequence[RouteSpec]) -> None:
        self.state = state
        self.routes = list(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self._handle(request)
        except ApiError as error:
            if error.status >= 500:
                logger.warning("%s %s: %s", request.method, scope["path"], error.message)
            response = error_response(error)
        except ClientDisconnect:
            return  # the client left while sending its body: nobody to answer
        except OSError as exc:  # a file system error no route turned into a precise answer
            # Not a named file's error (the file routes map those): no file name to pretend.
            logger.warning("%s %s: %s", request.method, scope["path"], exc)
            reason = exc.strerror or type(exc).__name__
            response = error_response(
                ApiError(
                    500, "InternalServerError", f"The emulator met a file system error: {reason}."
                )
            )
        except Exception:
            logger.exception("unexpected error in %s %s", request.method, scope["path"])
            response = error_response(
                ApiError(500, "InternalServerError", "The emulator failed to handle the request.")
            )
        await response(scope, receive, send)

    async def _handle(self, request: Request) -> Response:
        received_at = time.monotonic()
        path = request.scope["path"].rstrip("/") or "/"
        matches = [(r, m) for r in self.routes if (m := r.pattern.fullmatch(path)) is not None]
        if not matches:
            raise ApiError(
                400,
                VALIDATION_FAILED,
                f"There is no operation at '{shown(path)}'.",
                target="path",
            )
        api_version = request.query_params.get("api-version")
        if not api_version:
            raise ApiError(
                400,
                VALIDATION_FAILED,
                "The 'api-version' query parameter is required.",
                target="api-version",
            )
        if api_version not in KNOWN_API_VERSIONS:
            raise ApiError(
                400,
                VALIDATION_FAILED,
                f"Unsupported api-version '{shown(api_version, 40)}'. "
                f"Supported: {', '.join(KNOWN_API_VERSIONS)}.",
                target="api-version",
            )
        with_method = [(r, m) for r, m in matches if r.method == request.method]
        if not with_method:
            raise ApiError(
                400,
                VALIDATION_FAILED,
                f"Method {shown(request.method, 20)} is not allowed on '{shown(path)}'.",
                target="method",
            )
        fitting = [(r, m) for r, m in with_method if r.applies_to(api_version)]
        if not fitting:
            raise ApiError(
                400,
                NOT_SUPPORTED,
                f"{request.method} '{shown(path)}' is not supported in api-version {api_version}.",
                target="api-version",
            )
        route, match = fitting[0]
        call = Call(request, self.state, api_version, match.groupdict(), received_at)
        return await route.handler(call)
