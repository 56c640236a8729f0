"""Fewer, fuller writes on both of the proxy's connections.

Each `send` on a loopback socket wakes the process at the other end; on a small virtual
machine that wake-up is the dearest part of a request. httpcore writes a request's head and
its body separately, and uvicorn writes a response's head, body and end separately, so the
peer woke two or three times per message. Here:

- upstream, a request's head is held until its body's first bytes (or the wait for the
  answer) and leaves with them (`UpstreamBackend`, an httpcore network backend on asyncio's
  own transports, which also spares anyio's layer on every read and write);
- towards the client, the writes made in one step of the event loop leave as one
  (`CorkedH11Protocol`, uvicorn's h11 protocol on a corked transport).

Bytes, their order and their framing are unchanged; only the syscalls are fewer.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any, cast

import httpcore
from uvicorn.protocols.http.h11_impl import H11Protocol

_HOLD_LIMIT = 64 * 1024  # a head larger than this goes out at once
_READ_LIMIT = 256 * 1024  # the upstream's unread bytes at which reading pauses


class _Receiver(asyncio.Protocol):
    """Collects what the upstream sends, for _UpstreamStream.read; reading pauses while
    READ_LIMIT bytes wait (a slow client must not make the proxy hold a whole download)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self.error: BaseException | None = None
        self.reading_paused = False
        self.writing_paused = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= _READ_LIMIT and not self.reading_paused and self.transport:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # the transport closes itself

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self.error = exc
        self.writing_paused = False
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    async def wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self.reading_paused and len(self.buffer) < _READ_LIMIT // 2 and self.transport:
            self.reading_paused = False
            self.transport.resume_reading()
        return data


class _UpstreamStream(httpcore.AsyncNetworkStream):
    """One upstream connection on asyncio's own transport (anyio's layer costs time on every
    read and write). A new request's head is held until its body's first bytes or the wait
    for the answer, and leaves with them."""

    def __init__(self, transport: asyncio.Transport, receiver: _Receiver) -> None:
        self._transport = transport
        self._receiver = receiver
        self._held = b""
        self._new_request = True

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self._held:
            buffer, self._held = self._held + buffer, b""
        elif self._new_request and 0 < len(buffer) <= _HOLD_LIMIT:
            self._held, self._new_request = buffer, False
            return
        if buffer:
            self._new_request = False
            await self._send(buffer, timeout)

    async def _send(self, data: bytes, timeout: float | None) -> None:
        receiver = self._receiver
        if receiver.closed or self._transport.is_closing():
            raise httpcore.WriteError(_closed_reason(receiver))
        self._transport.write(data)
        try:
            async with asyncio.timeout(timeout):
                while receiver.writing_paused and not receiver.closed:
                    await receiver.wait()
        except TimeoutError:
            raise httpcore.WriteTimeout("the upstream stopped taking data") from None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._held:
            held, self._held = self._held, b""
            await self._send(held, timeout)
        self._new_request = True
        receiver = self._receiver
        try:
            async with asyncio.timeout(timeout):
                while not receiver.buffer and not receiver.closed:
                    await receiver.wait()
        except TimeoutError:
            raise httpcore.ReadTimeout("the upstream sent nothing in time") from None
        if receiver.buffer:
            return receiver.take(max_bytes)
        if receiver.error is not None:
            raise httpcore.ReadError(_closed_reason(receiver))
        return b""

    async def aclose(self) -> None:
        self._held = b""
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._receiver, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout("the TLS handshake took too long") from None
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from None
        assert transport is not None
        self._receiver.transport = transport
        return _UpstreamStream(transport, self._receiver)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        if info == "is_readable":  # an idle connection with something to read was closed
            receiver = self._receiver
            return bool(receiver.buffer) or receiver.closed or _readable(self._transport)
        return None


def _closed_reason(receiver: _Receiver) -> str:
    return f"the upstream connection closed ({receiver.error or 'end of stream'})"


def _readable(transport: asyncio.Transport) -> bool:
    """What httpcore asks before reusing a connection: the socket has data or an end."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.fileno() < 0:
        return True
    if not hasattr(select, "poll"):  # Windows
        readable, _, _ = select.select([sock.fileno()], [], [], 0)
        return bool(readable)
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))


class UpstreamBackend(httpcore.AsyncNetworkBackend):
    """httpcore's connections to the upstream, as _UpstreamStream."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                transport, receiver = await loop.create_connection(
                    _Receiver, host, port, local_addr=local
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} in time") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from None
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in socket_options or ():
                sock.setsockopt(*option)
        return _UpstreamStream(transport, receiver)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("the proxy forwards over TCP only")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _CorkedTransport:
    """A transport whose writes within one event-loop step are sent together, at the end of
    the step (or before a close). Everything else is the real transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def writelines(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()  # a close sends what was written first, as asyncio's own does
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CorkedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, writing through a _CorkedTransport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        corked = _CorkedTransport(transport, asyncio.get_running_loop())
        super().connection_made(corked)  # type: ignore[arg-type]
