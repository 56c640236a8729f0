"""A plain account of each HTTP exchange the client has with the pool, for whoever wants to
record it (`SessionsClient(observer=...)`). The API layer knows nothing of where it goes.

It never holds the Authorization header, nor any token a server echoes back (redacted from
bodies, headers and errors, since a record outlives the process). Bodies are held only when
they are small JSON (requests the client builds in memory, answers read whole); a file's bytes
are only counted and hashed.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import httpx

from dstui.api.errors import redact

logger = logging.getLogger("dstui.api")

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


@dataclass(frozen=True)
class SentExchange:
    started: float  # Unix time the attempt began
    method: str
    url: str
    request_headers: Mapping[str, str]  # without Authorization
    request_body: bytes | None  # an in-memory body (JSON); None for a streamed upload
    request_size: int | None  # Content-Length when known
    status: int | None  # None: no answer (a transport failure)
    response_headers: Mapping[str, str]
    response_body: bytes | None  # an answer read whole (JSON, error bodies)
    response_size: int
    response_sha256: str | None  # a streamed answer's checksum (downloads)
    duration_ms: float
    error: str | None  # how the attempt failed on the wire, if it did


ExchangeObserver = Callable[[SentExchange], None]


class ObservedAttempt:
    """Collects one attempt's facts and hands them to the observer exactly once."""

    def __init__(self, observer: ExchangeObserver, request: httpx.Request) -> None:
        self._observer = observer
        self._request = request
        self._started = time.time()
        self._began = time.perf_counter()
        self._response: httpx.Response | None = None
        self._size = 0
        self._digest: hashlib._Hash | None = None
        self._reported = False

    def answered(self, response: httpx.Response) -> None:
        self._response = response

    async def counted(self, chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
        """The same chunks, counted and hashed on their way through."""
        self._digest = hashlib.sha256()
        async for chunk in chunks:
            self._size += len(chunk)
            self._digest.update(chunk)
            yield chunk

    def report(self, *, body: bytes | None = None, error: str | None = None) -> None:
        if self._reported:
            return
        self._reported = True
        request, response = self._request, self._response
        stream = request.stream
        in_memory = isinstance(stream, httpx.ByteStream)
        length = request.headers.get("content-length")
        exchange = SentExchange(
            started=self._started,
            method=request.method,
            url=str(request.url),
            request_headers=_safe(request.headers),
            request_body=_redacted(bytes(request.content)) if in_memory else None,
            request_size=int(length) if length and length.isdigit() else None,
            status=response.status_code if response is not None else None,
            response_headers=_safe(response.headers) if response is not None else {},
            response_body=_redacted(body),
            response_size=len(body) if body is not None else self._size,
            response_sha256=self._digest.hexdigest() if self._digest and body is None else None,
            duration_ms=(time.perf_counter() - self._began) * 1000,
            error=redact(error) if error is not None else None,
        )
        try:
            self._observer(exchange)
        except Exception as exc:  # recording must never break a call, nor print a traceback
            logger.warning("the request observer failed: %s: %s", type(exc).__name__, exc)
            logger.debug("the request observer's failure", exc_info=True)


def _safe(headers: httpx.Headers) -> dict[str, str]:
    return {
        k.lower(): redact(v) for k, v in headers.multi_items() if k.lower() not in _SECRET_HEADERS
    }


def _redacted(body: bytes | None) -> bytes | None:
    """`body` with known tokens replaced; the original bytes when it holds none."""
    if not body:
        return body
    text = body.decode("utf-8", "replace")
    clean = redact(text)
    return body if clean == text else clean.encode()
