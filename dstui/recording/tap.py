"""An ASGI middleware that records every exchange passing through it, as it completes.

Used in front of the proxy's forwarder and the emulator's routes. It only watches: messages go
on unchanged, bodies are seen chunk by chunk (the first MiB of a JSON body is kept, a file is
only counted and hashed), and a failure to record never fails the request.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dstui.recording.exchange import BODY_KEEP_BYTES, WireFacts, describe
from dstui.recording.multipart import FilePartDigest, boundary_of, sniffed_boundary
from dstui.recording.store import RecordingStore


class _Body:
    """One direction's body: its size, its first bytes if it is JSON (never a file's), and
    optionally its SHA-256."""

    def __init__(self, *, keep: bool, hashed: bool = False) -> None:
        self.size = 0
        self.keep = keep
        self.kept = bytearray()
        self.digest = hashlib.sha256() if hashed else None

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.keep and len(self.kept) < BODY_KEEP_BYTES:
            self.kept += chunk[: BODY_KEEP_BYTES - len(self.kept)]
        if self.digest is not None:
            self.digest.update(chunk)


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def _served_origin(scope: Scope) -> str:
    """The address the request actually reached, never its Host header (a refused request
    from anywhere may claim any host); "" when the server does not say."""
    server = scope.get("server")
    if not server or server[1] is None:
        return ""
    host, port = server
    host = f"[{host}]" if ":" in host else host
    return f"{scope.get('scheme', 'http')}://{host}:{port}"


class RecordingMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        store: RecordingStore,
        *,
        source: str,
        origin: str | None = None,
        secrets: Callable[[], tuple[str, ...]] = tuple,
    ) -> None:
        self.app = app
        self.store = store
        self.source = source
        self.origin = origin  # None: the address the request was served on
        self.secrets = secrets  # credentials the app itself added (a proxy's upstream token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_wall, started = time.time(), time.perf_counter()
        request_headers = Headers(scope=scope)
        request_type = request_headers.get("content-type", "")
        boundary = boundary_of(request_type)
        upload = FilePartDigest(boundary) if boundary else None
        request, response = _Body(keep=_is_json(request_type)), _Body(keep=False, hashed=True)
        status: int | None = None
        response_headers: list[tuple[str, str]] = []
        complete = {"request": False, "response": False}
        problems: list[str] = []

        async def watched_receive() -> Message:
            nonlocal upload
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if request.size == 0 and upload is None and (found := sniffed_boundary(chunk)):
                    upload, request.keep = FilePartDigest(found), False
                request.add(chunk)
                if upload is not None:
                    upload.feed(chunk)
                complete["request"] = not message.get("more_body", False)
            elif message["type"] == "http.disconnect" and not complete["response"]:
                problems.append(
                    "the client went away "
                    + ("before its request was whole" if not complete["request"] else "early")
                )
            return message

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers.extend(
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
                )
                content_type = next(
                    (v for k, v in response_headers if k.lower() == "content-type"), ""
                )
                response.keep = _is_json(content_type)
            elif message["type"] == "http.response.body":
                response.add(message.get("body", b""))
                complete["response"] = not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, watched_receive, watched_send)
        except BaseException as exc:
            problems.append(f"the answer was aborted ({type(exc).__name__})")
            raise
        finally:
            if not complete["response"] and not problems:
                problems.append("the answer did not reach its end")
            facts = WireFacts(
                source=self.source,
                started=started_wall,
                method=scope["method"],
                path=scope["path"],
                query=scope.get("query_string", b"").decode("latin-1"),
                origin=self.origin or _served_origin(scope),
                request_headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request_headers.raw
                ],
                request_body=bytes(request.kept),
                bytes_sent=request.size,
                status=status if complete["response"] else None,
                response_headers=response_headers,
                response_body=bytes(response.kept),
                bytes_received=response.size,
                duration_ms=(time.perf_counter() - started) * 1000,
                error="; ".join(dict.fromkeys(problems)) or None,
                upload_name=upload.name if upload else None,
                upload_size=upload.size if upload and upload.done else None,
                upload_sha256=upload.sha256 if upload else None,
                download_sha256=response.digest.hexdigest() if response.digest else None,
                secrets=self.secrets(),
            )
            if status is not None and not complete["response"]:
                facts.error = f"{facts.error} (HTTP {status} started)"
            self._record(facts)

    def _record(self, facts: WireFacts) -> None:
        self.store.add_soon(lambda: describe(facts))
