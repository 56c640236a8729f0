"""The proxy's write coalescing and its upstream streams, on real loopback sockets: the bytes
arrive whole and in order, in fewer writes, and a reader that does not keep up pauses the
upstream instead of buffering it."""

from __future__ import annotations

import asyncio
import select
import socket
import struct
import sys
import threading
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
import trustme

from dstui.api import RetryPolicy, SessionsClient, StaticTokenProvider
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.proxy import ProxyOptions, ProxyServer
from dstui.proxy import server as proxy_server
from dstui.proxy.coalesce import _READ_LIMIT, UpstreamBackend, _CorkedTransport

NO_RETRY = RetryPolicy(max_attempts=1)


class CountingTransport:
    """Delegates to a real transport, counting the writes that reach it."""

    def __init__(self, inner: asyncio.Transport) -> None:
        self.inner = inner
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def echo_server(answer: bytes) -> tuple[asyncio.Server, list[bytes]]:
    """Answers every request (head and a Content-Length body) with `answer`."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            seen.append(head + await reader.readexactly(length))
            writer.write(answer)
            await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, seen


async def test_a_small_request_leaves_in_one_write_and_its_answer_comes_back() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    server, seen = await echo_server(answer)
    port = server.sockets[0].getsockname()[1]
    backend = UpstreamBackend()
    stream = await backend.connect_tcp("127.0.0.1", port)
    counting = CountingTransport(stream._transport)  # type: ignore[attr-defined]
    stream._transport = counting  # type: ignore[attr-defined]

    class OneStream(httpcore.AsyncNetworkBackend):
        async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
            return stream

    async with httpcore.AsyncConnectionPool(network_backend=OneStream()) as pool:
        for number in range(3):  # one kept-alive connection, three requests
            body = b'{"code": "%d"}' % number
            response = await pool.request(
                "POST",
                f"http://127.0.0.1:{port}/executions",
                headers={"content-type": "application/json"},
                content=body,
            )
            assert (response.status, response.content) == (200, b"hello")
    server.close()
    assert len(counting.writes) == 3  # head and body together, once per request
    assert all(w.endswith(b'{"code": "%d"}' % n) for n, w in enumerate(counting.writes))
    assert seen == counting.writes  # the upstream got exactly those bytes


async def test_a_reader_that_lags_pauses_the_upstream() -> None:
    big = b"x" * (8 * _READ_LIMIT)

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(big)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(flood, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stream = await UpstreamBackend().connect_tcp("127.0.0.1", port)
    await asyncio.sleep(0.3)  # the upstream sends as fast as it can; nobody reads
    receiver = stream._receiver  # type: ignore[attr-defined]
    assert receiver.reading_paused
    assert len(receiver.buffer) < 2 * _READ_LIMIT
    received = bytearray()
    while chunk := await stream.read(65536, timeout=5):
        received += chunk
    assert received == big  # paused, resumed, nothing lost
    await stream.aclose()
    server.close()


async def test_reads_time_out_and_a_closed_upstream_is_an_error() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)  # the held head leaves before the read, so this wakes
        await asyncio.sleep(0.2)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # linger 0: a reset, not a clean end

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stream = await UpstreamBackend().connect_tcp("127.0.0.1", port)
    await stream.write(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(httpcore.ReadTimeout):
        await stream.read(100, timeout=0.05)
    with pytest.raises(httpcore.ReadError):
        await stream.read(100, timeout=2)
    with pytest.raises(httpcore.WriteError):
        await stream.write(b"more")
        await stream.write(b"and more")
    server.close()
    with pytest.raises(httpcore.ConnectError):
        await UpstreamBackend().connect_tcp("127.0.0.1", port, timeout=2)


@pytest.mark.parametrize("poll", [True, False], ids=["poll", "select"])
async def test_an_idle_connection_the_upstream_closed_is_not_reused(
    poll: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpcore asks is_readable before reusing a connection; select where there is no poll."""
    if not poll:
        monkeypatch.delattr(select, "poll")
    ended = asyncio.Event()

    async def closer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await ended.wait()
        writer.close()

    server = await asyncio.start_server(closer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stream = await UpstreamBackend().connect_tcp("127.0.0.1", port)
    assert stream.get_extra_info("is_readable") is False
    ended.set()
    for _ in range(100):
        if stream.get_extra_info("is_readable"):
            break
        await asyncio.sleep(0.01)
    assert stream.get_extra_info("is_readable") is True
    await stream.aclose()
    server.close()


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


async def test_writes_of_one_loop_step_leave_together_and_a_close_sends_them_first() -> None:
    fake = FakeTransport()
    corked = _CorkedTransport(fake, asyncio.get_running_loop())  # type: ignore[arg-type]
    corked.write(b"HTTP/1.1 200 OK\r\n\r\n")
    corked.write(b"")
    corked.write(b"body")
    assert fake.writes == []
    await asyncio.sleep(0)
    assert fake.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    corked.write(b"last")
    corked.close()
    assert fake.writes[-1] == b"last" and fake.closed
    await asyncio.sleep(0)
    assert len(fake.writes) == 2  # nothing sent twice


async def test_an_https_upstream_is_verified_and_used(tmp_path: Path) -> None:
    """The TLS handshake runs on the proxy's own upstream streams (start_tls)."""
    with EmulatorServer(EmulatorConfig(ready_sessions=0, tls=True)) as upstream:
        assert upstream.token is not None and upstream.ca_file is not None
        trusted = ProxyServer(
            ProxyOptions(upstream=upstream.endpoint, verify=str(upstream.ca_file))
        )
        other_ca = tmp_path / "other.pem"
        other_ca.write_bytes(trustme.CA().cert_pem.bytes())
        untrusted = ProxyServer(ProxyOptions(upstream=upstream.endpoint, verify=str(other_ca)))
        trusted.start()
        untrusted.start()
        try:
            auth = StaticTokenProvider(upstream.token)
            async with SessionsClient(trusted.endpoint, auth=auth, retry=NO_RETRY) as client:
                for _ in range(2):
                    assert (await client.execute("tls-0001", "6 * 7")).result == 42
            async with httpx.AsyncClient() as raw:
                answer = await raw.get(f"{untrusted.endpoint}/metadata")
            assert answer.status_code == 502
            assert answer.json()["error"]["code"] == "ProxyUpstreamUnreachable"
            assert "certificate" in answer.json()["error"]["message"].lower()
        finally:
            trusted.stop()
            untrusted.stop()


async def test_without_uvloop_the_proxy_runs_on_asyncios_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """uvloop is optional (not installed on Windows): the proxy must not need it."""
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` now raises ImportError
    loops: list[str] = []
    original = proxy_server.asyncio.run

    def spy(main: Any) -> None:
        loops.append(threading.current_thread().name)  # the thread whose loop asyncio runs
        original(main)

    monkeypatch.setattr(proxy_server.asyncio, "run", spy)
    with EmulatorServer(EmulatorConfig(ready_sessions=0)) as upstream:
        assert upstream.token is not None
        with ProxyServer(ProxyOptions(upstream=upstream.endpoint)) as proxy:
            auth = StaticTokenProvider(upstream.token)
            async with SessionsClient(proxy.endpoint, auth=auth, retry=NO_RETRY) as client:
                page = await client.list_sessions_page()
    assert len(page.sessions) == 0
    assert "dstui-proxy" in loops
