"""One place where HTTP requests are sent: auth header, retries, 401 refresh, error mapping,
logging. Everything above it works with models; everything below is httpx."""

from __future__ import annotations

import logging
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from dstui import __version__
from dstui.api import jsonio
from dstui.api.auth import TokenProvider
from dstui.api.errors import (
    DynamicSessionsError,
    MalformedResponseError,
    RemoteTarget,
    RequestTimeoutError,
    RequestValidationError,
    TransportError,
    api_error_from_response,
    body_excerpt,
    parse_retry_after,
)
from dstui.api.retry import RetryPolicy, may_retry_exception, may_retry_status, never_sent
from dstui.api.validation import mask_identifier

logger = logging.getLogger("dstui.api")

ERROR_BODY_LIMIT = 64 * 1024
USER_AGENT = f"dstui/{__version__}"

_CA_FILE_HINT = (
    "Give the CA certificate that signed the endpoint's certificate (PEM): --ca-file or "
    "DSTUI_CA_FILE for the dstui command, verify=PATH for SessionsClient. "
    "`dstui emulator --tls` prints the path of its CA file."
)

T = TypeVar("T")

RequestBody = httpx.AsyncByteStream | bytes
BodyFactory = Callable[[], tuple[RequestBody, Mapping[str, str]]]
"""Builds a fresh body (and its headers) for each attempt, so streams can be re-sent."""


def json_body(payload: Any) -> BodyFactory:
    data = jsonio.dumps(payload)
    return lambda: (data, {"Content-Type": "application/json"})


@dataclass(frozen=True)
class Call:
    method: str
    url: httpx.URL
    what: str  # names the operation in error messages, e.g. "list sessions"
    idempotent: bool
    identifier: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: BodyFactory | None = None
    read_timeout: float | None = None
    remote: RemoteTarget | None = None  # the file or directory a file operation is about


def decode_json(response: httpx.Response, what: str) -> Any:
    try:
        return jsonio.loads(response.content)
    except jsonio.JSONDecodeError:
        excerpt = body_excerpt(response.content)
        raise MalformedResponseError(
            f"{what}: the answer is not JSON (HTTP {response.status_code}, "
            f"{response.headers.get('content-type', 'no content type')}): {excerpt!r}",
            status=response.status_code,
        ) from None


class Requester:
    def __init__(
        self,
        *,
        auth: TokenProvider | None,
        retry: RetryPolicy,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None,
        verify: bool | str,
    ) -> None:
        self._auth = auth
        self._retry = retry
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._client = httpx.AsyncClient(
            transport=transport,
            verify=_ssl_verify(verify),
            timeout=self._timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    @property
    def retry(self) -> RetryPolicy:
        return self._retry

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, call: Call) -> httpx.Response:
        """The successful (2xx/3xx) response, its body read. Errors are raised as
        DynamicSessionsError subclasses."""
        return await self.receive(call, _read)

    async def receive(self, call: Call, consume: Callable[[httpx.Response], Awaitable[T]]) -> T:
        """What `consume` makes of the successful response, whose body it reads (the response
        is closed afterwards). A body cut off mid-way is retried like a connection failure:
        idempotent calls only, since the answer shows the request arrived. `consume` starts
        afresh on every attempt and must undo what a broken attempt left behind."""
        started = self._retry.clock()
        failures = 0
        refreshed = False
        client_request_id = str(uuid.uuid4())
        while True:
            request = await self._build(call, client_request_id)
            began = time.perf_counter()
            answered = False
            try:
                response = await self._client.send(request, stream=True)
                answered = True
                if response.status_code < 400:
                    try:
                        result = await consume(response)
                    finally:
                        await response.aclose()
                    self._log(call, str(response.status_code), began, failures, None)
                    return result
            except httpx.TransportError as exc:
                error = _transport_error(call, exc, mid_body=answered)
                failures += 1
                delay = (
                    self._retry.next_delay(failures, started)
                    if may_retry_exception(exc, idempotent=call.idempotent)
                    else None
                )
                self._log(call, f"{type(exc).__name__}", began, failures, delay)
                if delay is None:
                    raise error from exc
                await self._retry.sleep(delay)
                continue
            except httpx.DecodingError as exc:
                raise _transport_error(call, exc) from exc
            status = response.status_code
            if status == 401 and self._auth is not None and not refreshed:
                self._log(call, "401, refreshing the token", began, failures, 0.0)
                await response.aclose()
                self._auth.invalidate()
                refreshed = True
                continue
            body = await _read_bounded(response)
            api_error = api_error_from_response(
                status, response.headers, body, what=call.what, remote=call.remote
            )
            if api_error.request_id is None:
                api_error.request_id = client_request_id
            failures += 1
            delay = None
            if may_retry_status(status, idempotent=call.idempotent):
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                delay = self._retry.next_delay(failures, started, retry_after)
            self._log(call, str(status), began, failures, delay)
            if delay is None:
                raise api_error
            await self._retry.sleep(delay)

    async def _build(self, call: Call, client_request_id: str) -> httpx.Request:
        headers = {"x-ms-client-request-id": client_request_id, **call.headers}
        content: RequestBody | None = None
        if call.body is not None:
            content, body_headers = call.body()
            headers.update(body_headers)
        if self._auth is not None:
            headers["Authorization"] = f"Bearer {await self._auth.get_token()}"
        timeout = self._timeout
        if call.read_timeout is not None:
            timeout = httpx.Timeout(
                self._timeout.read, connect=self._timeout.connect, read=call.read_timeout
            )
        return self._client.build_request(
            call.method, call.url, headers=headers, content=content, timeout=timeout
        )

    def _log(
        self, call: Call, outcome: str, began: float, failures: int, delay: float | None
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        retry_note = f", retrying in {delay:.2f} s" if delay is not None else ""
        logger.debug(
            "%s %s%s -> %s in %.0f ms (failures %d%s)",
            call.method,
            call.url.path,
            f" [session {mask_identifier(call.identifier)}]" if call.identifier else "",
            outcome,
            (time.perf_counter() - began) * 1000,
            failures,
            retry_note,
        )


def _ssl_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """A CA bundle path (e.g. the emulator's) becomes a context that trusts only it; httpx
    deprecates plain paths. With True, httpx trusts certifi's bundle, or SSL_CERT_FILE if set."""
    if not isinstance(verify, str):
        return verify
    try:
        return ssl.create_default_context(cafile=verify)
    except OSError as exc:  # ssl.SSLError is one too: not PEM, no certificate in it
        reason = exc.strerror or str(exc)
        raise RequestValidationError(
            f"cannot use the CA file {verify}: {reason}", hint=_CA_FILE_HINT
        ) from None


def _untrusted_certificate(exc: BaseException) -> bool:
    """True when the TLS handshake failed because the server's certificate is not trusted."""
    cause: BaseException | None = exc
    for _ in range(8):  # httpx and httpcore each wrap the ssl error once
        if cause is None:
            return False
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _transport_error(
    call: Call, exc: httpx.HTTPError, *, mid_body: bool = False
) -> DynamicSessionsError:
    host = call.url.host
    # A call that is not safe to repeat and may have reached the pool: say so, since the
    # usual "retry" or "check the network" advice would invite a blind second upload or run.
    maybe_done = None
    if not call.idempotent and not never_sent(exc):
        maybe_done = (
            f"The request may have reached {host} and taken effect; its answer was lost. "
            "Check (refresh the list, or look at the files) before repeating it."
        )
    if isinstance(exc, httpx.TimeoutException):
        phase = type(exc).__name__.removesuffix("Timeout").lower() or "request"
        return RequestTimeoutError(
            f"{call.what}: no answer from {host} in time ({phase} timeout)", hint=maybe_done
        )
    if isinstance(exc, httpx.DecodingError):
        return MalformedResponseError(f"{call.what}: the answer could not be decoded: {exc}")
    detail = str(exc) or type(exc).__name__
    if _untrusted_certificate(exc):
        return TransportError(
            f"{call.what}: the certificate of {host} is not trusted: {detail}",
            hint=_CA_FILE_HINT,
        )
    if mid_body:
        return TransportError(
            f"{call.what}: the answer from {host} broke off mid-way: {detail}", hint=maybe_done
        )
    return TransportError(f"{call.what}: could not talk to {host}: {detail}", hint=maybe_done)


async def _read(response: httpx.Response) -> httpx.Response:
    await response.aread()
    return response


async def _read_bounded(response: httpx.Response, limit: int = ERROR_BODY_LIMIT) -> bytes:
    """At most `limit` bytes of an error body (an HTML proxy page can be large)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
    except httpx.HTTPError:
        pass
    finally:
        await response.aclose()
    return b"".join(chunks)[:limit]
