"""The bearer-token policy as an httpx auth flow: attach the token, and after a 401 fetch a
fresh one and send the request once more. Retries and error mapping stay in the requester."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

import httpx

from dstui.api.auth import TokenProvider

# How much of a refused (401) answer is read before the request is sent again: httpx reads
# that body whole, and a hostile server could make it endless.
REFUSED_BODY_LIMIT = 64 * 1024

Rebuild = Callable[[], Awaitable[httpx.Request]]
"""A fresh copy of the request (a streamed upload cannot be sent twice from one stream)."""
OnRefused = Callable[[httpx.Response, httpx.Request], None]
"""Told of the refused answer and the request that will replace it (for logs and records)."""


class BearerAuth(httpx.Auth):
    """One per call: across that call's attempts the token is refreshed after a 401 once only,
    so a second 401 reaches the caller as an authentication error."""

    def __init__(
        self, provider: TokenProvider, *, rebuild: Rebuild, on_refused: OnRefused | None = None
    ) -> None:
        self._provider = provider
        self._rebuild = rebuild
        self._on_refused = on_refused
        self.refreshed = False

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await self._attach(request)
        response = yield request
        if response.status_code != 401 or self.refreshed:
            return
        self.refreshed = True
        response.stream = _Capped(response.stream, REFUSED_BODY_LIMIT)
        self._provider.invalidate()
        retry = await self._rebuild()
        if self._on_refused is not None:
            self._on_refused(response, retry)
        await self._attach(retry)
        yield retry

    async def _attach(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {await self._provider.get_token()}"


class _Capped(httpx.AsyncByteStream):
    """At most `limit` bytes of a body; the rest is never read."""

    def __init__(self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, limit: int) -> None:
        self._stream = stream
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if not isinstance(self._stream, httpx.AsyncByteStream):
            return
        left = self._limit
        async for chunk in self._stream:
            yield chunk[:left]
            left -= len(chunk)
            if left <= 0:
                return

    async def aclose(self) -> None:
        if isinstance(self._stream, httpx.AsyncByteStream):
            await self._stream.aclose()
