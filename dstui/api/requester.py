"""One place where HTTP requests are sent: retries, error mapping, deadlines and logging (the
bearer token and its refresh after a 401 are `bearer.BearerAuth`'s). Everything above it works
with models; everything below is httpx."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from dstui import __version__
from dstui.api import jsonio
from dstui.api.auth import TokenProvider
from dstui.api.bearer import BearerAuth
from dstui.api.errors import (
    AuthenticationError,
    DynamicSessionsError,
    MalformedResponseError,
    RemoteTarget,
    RequestTimeoutError,
    RequestValidationError,
    ResponseTooLargeError,
    StalledTransferError,
    TransportError,
    UnexpectedStatusError,
    api_error_from_response,
    body_excerpt,
    parse_retry_after,
)
from dstui.api.limits import DEFAULT_LIMITS, ClientLimits
from dstui.api.observer import ExchangeObserver, ObservedAttempt
from dstui.api.retry import RetryPolicy, may_retry_exception, may_retry_status, never_sent
from dstui.api.validation import mask_identifier
from dstui.common.units import format_bytes

logger = logging.getLogger("dstui.api")

ERROR_BODY_LIMIT = 64 * 1024
_EXCERPT_BODY_LIMIT = 4 * 1024
_LOCATION_CHARS = 300
OK = frozenset({200})
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
Consumer = Callable[[httpx.Response, AsyncIterator[bytes]], Awaitable[T]]
"""Reads a successful answer's body from the given chunks (already paced by the transfer floor)."""

# What to say when a call that is not safe to repeat may have taken effect without an answer.
MAY_HAVE_HAPPENED = "Check (refresh the list, or look at the files) before repeating it."


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
    expected: frozenset[int] = OK  # the success statuses the operation documents
    deadline_s: float | None = None  # overrides the client's call deadline
    # For a call that is not safe to repeat: how the user can check whether it took effect.
    check_effect: str = MAY_HAVE_HAPPENED
    fallback: Fallback | None = None


@dataclass(frozen=True)
class Fallback:
    """Another body, sent once when the service refuses the first with this error code and
    thereby shows that it did nothing (e.g. an execution body wrapped the other way)."""

    error_code: str
    body: BodyFactory


@dataclass(frozen=True)
class Answer:
    """A successful answer, its body read in full (within the JSON size limit)."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    used_fallback: bool = False  # the call's Fallback body was the one accepted

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


@dataclass(frozen=True)
class RawAnswer:
    """Any answer of a raw request: its status, headers and the first bytes of its body."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    truncated: bool  # the body went on beyond what was kept


def decode_json(response: Answer, what: str) -> Any:
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
        limits: ClientLimits = DEFAULT_LIMITS,
        observer: ExchangeObserver | None = None,
        plain_http: bool = False,
    ) -> None:
        self._auth = auth
        self._observer = observer
        self._retry = retry
        self._limits = limits
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._client = httpx.AsyncClient(
            transport=transport,
            verify=_ssl_verify(verify, plain_http=plain_http),
            timeout=self._timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    @property
    def retry(self) -> RetryPolicy:
        return self._retry

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def limits(self) -> ClientLimits:
        return self._limits

    async def send(self, call: Call) -> Answer:
        """The successful answer (a status the call expects), its body read up to the JSON size
        limit, all within the call deadline. Errors are raised as DynamicSessionsError
        subclasses."""
        limit = self._limits.json_max_bytes

        async def read(response: httpx.Response, chunks: AsyncIterator[bytes]) -> Answer:
            body = await _read_capped(chunks, limit, call.what)
            used_fallback = response.request.extensions.get(_FALLBACK_SENT, False)
            return Answer(response.status_code, response.headers, body, used_fallback)

        return await self._within_deadline(call, read, streamed=False)

    async def receive(self, call: Call, consume: Consumer[T]) -> T:
        """What `consume` makes of the successful answer's body (the response is closed
        afterwards). The deadline covers the answer's headers; the body must keep up the
        transfer floor instead, so a large download on a slow link may take its time.

        A body cut off mid-way is retried like a connection failure: idempotent calls only,
        since the answer shows the request arrived. `consume` starts afresh on every attempt
        and must undo what a broken attempt left behind."""
        return await self._within_deadline(call, consume, streamed=True)

    async def send_raw(self, call: Call, max_bytes: int) -> RawAnswer:
        """One attempt whose every HTTP status is an answer (a custom container's app speaks
        for itself); at most `max_bytes` of the body are kept. Transport failures and the
        deadline raise as for send(); a 401 still refreshes the token once."""
        client_request_id = str(uuid.uuid4())

        async def rebuild() -> httpx.Request:
            return await self._build(call, client_request_id, call.body)

        auth = BearerAuth(self._auth, rebuild=rebuild) if self._auth is not None else None
        request = await rebuild()
        seen = ObservedAttempt(self._observer, request) if self._observer else None
        began = time.perf_counter()
        seconds = self._deadline_s(call)
        try:
            async with asyncio.timeout(seconds):
                response = await self._client.send(request, stream=True, auth=auth)
                if seen is not None:
                    seen.answered(response)
                try:
                    kept, truncated = await _read_prefix(response, max_bytes)
                finally:
                    await response.aclose()
        except httpx.HTTPError as exc:
            _report_failure(seen, exc)
            raise _transport_error(call, exc) from exc
        except TimeoutError:
            raise RequestTimeoutError(
                f"{call.what}: no complete answer from {call.url.host} within {seconds:.0f} s",
                hint=None if call.idempotent else _maybe_done(call),
            ) from None
        if seen is not None:
            seen.report(body=kept)
        self._log(call, str(response.status_code), began, 0, None)
        return RawAnswer(response.status_code, response.headers, kept, truncated)

    def _deadline_s(self, call: Call) -> float:
        if call.deadline_s is not None:
            return call.deadline_s
        # A single read may take the whole per-read timeout; the deadline is never shorter.
        return max(self._limits.call_deadline_s, self._timeout.read or 0.0)

    async def _within_deadline(self, call: Call, consume: Consumer[T], *, streamed: bool) -> T:
        seconds = self._deadline_s(call)
        try:
            async with asyncio.timeout(seconds) as scope:
                return await self._attempts(call, consume, scope, seconds, streamed=streamed)
        except TimeoutError:
            if not scope.expired():
                raise
            hint = None if call.idempotent else _maybe_done(call)
            raise RequestTimeoutError(
                f"{call.what}: no complete answer from {call.url.host} within {seconds:.0f} s "
                "(the call's overall deadline)",
                hint=hint,
            ) from None

    async def _attempts(
        self,
        call: Call,
        consume: Consumer[T],
        scope: asyncio.Timeout,
        deadline_s: float,
        *,
        streamed: bool,
    ) -> T:
        started = self._retry.clock()
        failures = 0
        body = call.body
        client_request_id = str(uuid.uuid4())
        loop = asyncio.get_running_loop()
        began = time.perf_counter()
        seen: ObservedAttempt | None = None

        async def rebuild() -> httpx.Request:
            return await self._build(call, client_request_id, body)

        def refused(response: httpx.Response, retry: httpx.Request) -> None:
            nonlocal seen, began
            if seen is not None and self._observer is not None:
                seen.answered(response)
                seen.report()
                seen = ObservedAttempt(self._observer, retry)
            self._log(call, "401, refreshing the token", began, failures, 0.0)
            began = time.perf_counter()

        auth = (
            BearerAuth(self._auth, rebuild=rebuild, on_refused=refused)
            if self._auth is not None
            else None
        )
        while True:
            if streamed:  # a retry after a long transfer gets its own deadline for the headers
                scope.reschedule(loop.time() + deadline_s)
            request = await rebuild()
            began = time.perf_counter()
            answered = False
            seen = ObservedAttempt(self._observer, request) if self._observer else None
            try:
                response = await self._client.send(request, stream=True, auth=auth)
                answered = True
                if seen is not None:
                    seen.answered(response)
                if response.status_code < 400:
                    if response.status_code not in call.expected:
                        raise await _unexpected_status(call, response, client_request_id)
                    if streamed:
                        scope.reschedule(None)
                    result = await self._deliver(call, response, consume, seen)
                    self._log(call, str(response.status_code), began, failures, None)
                    return result
            except httpx.TransportError as exc:
                _report_failure(seen, exc)
                failures += 1
                delay = (
                    self._retry.next_delay(failures, started)
                    if may_retry_exception(exc, idempotent=call.idempotent)
                    else None
                )
                self._log(call, f"{type(exc).__name__}", began, failures, delay)
                if delay is None:
                    raise _transport_error(call, exc, mid_body=answered) from exc
                await self._retry.wait_before_retry(delay)
                continue
            except httpx.DecodingError as exc:
                _report_failure(seen, exc)
                raise _transport_error(call, exc) from exc
            except AuthenticationError:
                raise  # no token: the attempt never left, so there is nothing to record
            except BaseException as exc:  # an unexpected status, a body too large or stalled
                _report_failure(seen, exc)
                raise
            api_error = await _api_error(call, response, seen, client_request_id)
            fallback = call.fallback
            if fallback and body is not fallback.body and api_error.code == fallback.error_code:
                body = fallback.body
                self._log(
                    call, f"{api_error.status} {api_error.code}, other body", began, failures, 0.0
                )
                continue
            failures += 1
            delay = None
            if may_retry_status(response.status_code, idempotent=call.idempotent):
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                delay = self._retry.next_delay(failures, started, retry_after)
            self._log(call, str(response.status_code), began, failures, delay)
            if delay is None:
                raise api_error
            await self._retry.wait_before_retry(delay)

    async def _deliver(
        self,
        call: Call,
        response: httpx.Response,
        consume: Consumer[T],
        seen: ObservedAttempt | None,
    ) -> T:
        """What `consume` makes of a successful answer's body, read at the transfer floor."""
        paced = self._paced(call, response)
        chunks = seen.counted(paced) if seen is not None else paced
        try:
            result = await consume(response, chunks)
        finally:
            await chunks.aclose()  # a consumer may stop early (a preview)
            await paced.aclose()
            await response.aclose()
        if seen is not None:
            seen.report(body=result.content if isinstance(result, Answer) else None)
        return result

    async def _paced(self, call: Call, response: httpx.Response) -> AsyncGenerator[bytes, None]:
        """The body's chunks; StalledTransferError when a window brings too few bytes."""
        window = self._limits.transfer_window_s
        floor = self._limits.transfer_min_bytes
        window_started = time.monotonic()
        in_window = 0
        async for chunk in response.aiter_bytes():
            in_window += len(chunk)
            now = time.monotonic()
            if now - window_started >= window:
                if in_window < floor:
                    raise StalledTransferError(
                        f"{call.what}: the answer from {call.url.host} slowed to "
                        f"{format_bytes(in_window)} in {now - window_started:.0f} s (at least "
                        f"{format_bytes(floor)} per {window:.0f} s are needed); stopped"
                    )
                window_started, in_window = now, 0
            yield chunk

    async def _build(
        self, call: Call, client_request_id: str, body: BodyFactory | None
    ) -> httpx.Request:
        headers = {"x-ms-client-request-id": client_request_id, **call.headers}
        content: RequestBody | None = None
        if body is not None:
            content, body_headers = body()
            headers.update(body_headers)
        timeout = self._timeout
        if call.read_timeout is not None:
            timeout = httpx.Timeout(
                self._timeout.read, connect=self._timeout.connect, read=call.read_timeout
            )
        try:
            request = self._client.build_request(
                call.method, call.url, headers=headers, content=content, timeout=timeout
            )
        except (httpx.InvalidURL, UnicodeEncodeError) as exc:
            raise RequestValidationError(f"{call.what}: cannot build the request: {exc}") from None
        if call.fallback is not None and body is call.fallback.body:
            request.extensions[_FALLBACK_SENT] = True
        return request

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


def _ssl_verify(verify: bool | str, *, plain_http: bool = False) -> bool | ssl.SSLContext:
    """A CA bundle path (e.g. the emulator's) becomes a context that trusts only it; httpx
    deprecates plain paths. With True, httpx trusts certifi's bundle, or SSL_CERT_FILE if set.

    A plain-http endpoint (loopback only) never shakes hands: its links must stay on its own
    origin. It gets a context that trusts nothing instead of the bundle, whose loading costs
    tens of milliseconds at start-up."""
    if plain_http and verify is True:
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, with no CA: any TLS fails
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
            f"{call.check_effect}"
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
            f"{call.what}: the answer from {host} broke off mid-way: {detail}",
            hint=maybe_done or _INTERRUPTED_HINT,
        )
    return TransportError(f"{call.what}: could not talk to {host}: {detail}", hint=maybe_done)


_INTERRUPTED_HINT = (
    "The transfer was interrupted part-way and nothing was kept; try again. If it keeps "
    "happening, a proxy may be cutting long transfers."
)
# Marks a request that carries the call's fallback body (read back from the answer).
_FALLBACK_SENT = "dstui.fallback_sent"
# Statuses with which a gateway may fail after the session already acted on the request.
_MAYBE_DONE_STATUSES = frozenset({500, 502, 503, 504})


def _maybe_done(call: Call) -> str:
    return f"The request may have reached the pool and taken effect. {call.check_effect}"


def _report_failure(seen: ObservedAttempt | None, exc: BaseException) -> None:
    if seen is not None:
        seen.report(error=f"{type(exc).__name__}: {exc}".rstrip(": "))


async def _api_error(
    call: Call, response: httpx.Response, seen: ObservedAttempt | None, client_request_id: str
) -> DynamicSessionsError:
    """The error an answer of 400 or more stands for, its body read only so far."""
    body = await _read_bounded(response)
    if seen is not None:
        seen.report(body=body)
    status = response.status_code
    error = api_error_from_response(
        status, response.headers, body, what=call.what, remote=call.remote
    )
    if error.request_id is None:
        error.request_id = client_request_id
    if not call.idempotent and status in _MAYBE_DONE_STATUSES:
        # A `dstui proxy` refusal keeps its own advice (which hop failed) in front.
        own = error.hint if (error.code or "").startswith("Proxy") else None
        error.hint = " ".join(filter(None, (own, _maybe_done(call))))
    return error


async def _read_capped(chunks: AsyncIterator[bytes], limit: int, what: str) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ResponseTooLargeError(
                f"{what}: the answer is larger than {format_bytes(limit)}, more than any "
                "legitimate answer; stopped reading it"
            )
        parts.append(chunk)
    return b"".join(parts)


async def _unexpected_status(
    call: Call, response: httpx.Response, client_request_id: str
) -> UnexpectedStatusError:
    """A 2xx/3xx the operation does not document; redirects are never followed."""
    status = response.status_code
    location = response.headers.get("location")
    excerpt = body_excerpt(await _read_bounded(response, _EXCERPT_BODY_LIMIT))
    text = f"{call.what}: unexpected HTTP {status} {response.reason_phrase}".rstrip()
    if location:
        text += f" to {location[:_LOCATION_CHARS]}"
    if excerpt:
        text += f": {excerpt!r}"
    hint = None  # a redirect: the default hint names the login page or proxy
    if not 300 <= status < 400:
        hint = (
            f"{call.what} does not answer {status}: a proxy or a wrong endpoint may be in "
            "the way. Nothing was kept."
        )
    return UnexpectedStatusError(text, status=status, request_id=client_request_id, hint=hint)


async def _read_prefix(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The first `limit` bytes of the body, and whether there was more (not read further)."""
    kept = bytearray()
    async for chunk in response.aiter_bytes():
        kept += chunk
        if len(kept) > limit:
            return bytes(kept[:limit]), True
    return bytes(kept), False


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
