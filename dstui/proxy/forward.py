"""The proxy's ASGI app: guards (Host, its own token), then forwarding to the one upstream.

Requests go on as they came (method, raw path, query, headers, body, streamed both ways); only
the Host header names the upstream and hop-by-hop headers are left out. The answer comes back
as the upstream sent it, its body undecoded. The proxy's own refusals use the API's error
envelope, with codes starting `Proxy`, so they cannot be mistaken for the pool's.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator

import httpcore
import httpx
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from dstui.api.auth import TokenProvider
from dstui.api.errors import AuthenticationError
from dstui.emulator.security import host_allowed
from dstui.recording.exchange import BODY_KEEP_BYTES

logger = logging.getLogger("dstui.proxy")

# RFC 9110 §7.6.1 connection-specific headers, and Host (rewritten for the upstream).
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    }
)
# An execution may take 220 s; an upload or download streams as long as bytes keep coming.
_TIMEOUTS = {"connect": 15.0, "read": 300.0, "write": 300.0, "pool": 60.0}
_RECORD_REST_TIMEOUT_S = 5.0  # a failed request's remaining body, read for the record
UPSTREAM_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)


class ClientGone(Exception):
    """The client disconnected before its request body was whole."""


class UpstreamBroke(Exception):
    """The upstream's answer broke off mid-body; the client's connection is cut to match."""


def _envelope(status: int, code: str, message: str, extra: dict[str, str] | None = None) -> ASGIApp:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-ms-error-code", code.encode()),
        *((k.encode(), v.encode()) for k, v in (extra or {}).items()),
    ]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


class ProxyGuard:
    """Loopback Host headers only (no DNS rebinding), origin-form targets only (no open
    proxy), and with `token` set, that bearer token from every client."""

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        refusal: ASGIApp | None = None
        if scope["method"] == "CONNECT" or not raw_path.startswith(b"/"):
            refusal = _envelope(
                400,
                "ProxyNotAnOpenProxy",
                "This proxy forwards only to its one upstream; give a path, not a URL.",
            )
        elif not host_allowed(headers.get("host"), "127.0.0.1"):
            refusal = _envelope(
                421, "ProxyInvalidHostHeader", "The Host header does not name a loopback address."
            )
        elif self.token is not None and not self._authorized(headers.get("authorization", "")):
            refusal = _envelope(
                401,
                "ProxyUnauthorized",
                "This proxy attaches its own credential; send the bearer token it printed.",
                {"www-authenticate": 'Bearer realm="dstui-proxy"'},
            )
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, authorization: str) -> bool:
        assert self.token is not None
        scheme, _, credential = authorization.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credential.strip().encode(), self.token
        )


class Forwarder:
    """Sends each request to `upstream` (scheme, host and port; the client's path is kept).

    It speaks httpcore, httpx's own transport, directly: a proxy needs none of httpx's
    conveniences (cookies, redirects, URL merging), and each one costs time on every request.
    """

    def __init__(
        self, pool: httpcore.AsyncConnectionPool, upstream: httpx.URL, auth: TokenProvider | None
    ) -> None:
        self.pool = pool
        self.auth = auth
        # The last tokens attached upstream: the recorder redacts them wherever they come back.
        self.attached_tokens: deque[str] = deque(maxlen=4)
        self.scheme = upstream.raw_scheme
        self.host = upstream.raw_host
        self.port = upstream.port
        self.host_header = upstream.netloc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = _RequestBody(receive)
        try:
            request = await self._request(scope, body)
        except AuthenticationError as exc:  # its message is redacted: no token in it
            logger.warning("the upstream credential failed: %s", exc.message)
            await body.read_rest_for_the_record()
            await _envelope(
                502,
                "ProxyUpstreamAuthFailed",
                f"The proxy could not get a token for the upstream: {exc.message}",
            )(scope, receive, send)
            return
        try:
            response = await self.pool.handle_async_request(request)
        except ClientGone:
            logger.info("client went away mid-request: %s %s", scope["method"], scope["path"])
            return
        except UPSTREAM_ERRORS as exc:
            detail = str(exc) or type(exc).__name__
            host = self.host_header.decode("ascii", "replace")
            await body.read_rest_for_the_record()
            await _envelope(
                502, "ProxyUpstreamUnreachable", f"The proxy could not reach {host}: {detail}"
            )(scope, receive, send)
            return
        try:
            await _relay(response, send)
        finally:
            await response.aclose()

    async def _request(self, scope: Scope, body: _RequestBody) -> httpcore.Request:
        headers: list[tuple[bytes, bytes]] = [
            (name, value) for name, value in scope["headers"] if name.lower() not in _HOP_BY_HOP
        ]
        headers.insert(0, (b"host", self.host_header))
        if self.auth is not None:  # the client's token is the proxy's own: not forwarded
            headers = [(k, v) for k, v in headers if k.lower() != b"authorization"]
            token = await self.auth.get_token()
            if token not in self.attached_tokens:
                self.attached_tokens.append(token)
            headers.append((b"authorization", f"Bearer {token}".encode("latin-1")))
        names = {name.lower() for name, _ in scope["headers"]}
        content: AsyncIterator[bytes] | None = None
        if b"transfer-encoding" in names:  # re-framed by this hop, as the client framed it
            # It wins over a Content-Length (RFC 9112 §6.3), which must then not go on.
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"transfer-encoding", b"chunked"))
            content = body.chunks()
        elif b"content-length" in names:
            content = body.chunks()
        else:
            await body.drain()
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        return httpcore.Request(
            scope["method"].encode("ascii"),
            httpcore.URL(
                scheme=self.scheme,
                host=self.host,
                port=self.port,
                target=raw_path + (b"?" + query if query else b""),
            ),
            headers=headers,
            content=content,
            extensions={"timeout": _TIMEOUTS},
        )


async def _relay(response: httpcore.Response, send: Send) -> None:
    headers = [(k, v) for k, v in response.headers if k.lower() not in _HOP_BY_HOP]
    start = {"type": "http.response.start", "status": response.status, "headers": headers}
    # The head waits for the body's first chunk, and one chunk is held back so the last goes
    # out with the end of the message: a small answer then leaves in one write (see
    # coalesce.CorkedH11Protocol), not three.
    held: bytes | None = None
    stream = response.stream
    assert isinstance(stream, AsyncIterable)
    try:
        async for chunk in stream:
            if held is None:
                await send(start)
            else:
                await send({"type": "http.response.body", "body": held, "more_body": True})
            held = chunk
    except UPSTREAM_ERRORS as exc:
        if held is None:
            await send(start)  # the status came whole: the client sees it, then the cut
        raise UpstreamBroke(f"the upstream's answer broke off: {exc}") from None
    if held is None:
        await send(start)
    await send({"type": "http.response.body", "body": held or b""})


class _RequestBody:
    """The client's request body, read only as the upstream takes it.

    When the upstream fails before taking it (connection refused, no token), the rest is read
    anyway, up to what a recording keeps, so the recorder still sees what was asked.
    """

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.whole = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.whole:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            self.whole = not message.get("more_body", False)
            chunk = message.get("body", b"")
            if chunk:
                yield chunk

    async def drain(self) -> None:
        """Read a body-less request's (empty) body, so the tap sees it complete."""
        while not self.whole:
            message = await self.receive()
            self.whole = message["type"] != "http.request" or not message.get("more_body", False)

    async def read_rest_for_the_record(self) -> None:
        read = 0
        try:
            async with asyncio.timeout(_RECORD_REST_TIMEOUT_S):
                async for chunk in self.chunks():
                    read += len(chunk)
                    if read > BODY_KEEP_BYTES:
                        return
        except (ClientGone, TimeoutError):
            return
