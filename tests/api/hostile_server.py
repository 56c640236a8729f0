"""A tiny HTTP/1.1 server on loopback that misbehaves on purpose, for the client's tests.

Each test gives a `Scenario`: an async function that receives the parsed request and a writer
and writes whatever bytes it likes (redirects, endless bodies, slow drips). The server runs in
the test's own event loop and is closed, with every connection, when the test ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

_MAX_HEAD_BYTES = 64 * 1024


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(urlsplit(self.target).query).items()}


Scenario = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class HostileServer:
    scenario: Scenario
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/pool"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Abort every connection, so each handler ends on its next read or write."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                self.requests.append(request)
                await self.scenario(request, writer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, RuntimeError):
            return  # the client went away (RuntimeError: writing to a closed transport)
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    if len(head) > _MAX_HEAD_BYTES:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    return Request(method, target, headers, body)


def head(status: int, headers: dict[str, str] | None = None, *, reason: str = "X") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def response(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None, *, reason: str = "X"
) -> bytes:
    all_headers = {"Content-Length": str(len(body)), **(headers or {})}
    return head(status, all_headers, reason=reason) + body


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> bytes:
    body = json.dumps(value).encode()
    return response(status, body, {"Content-Type": "application/json", **(headers or {})})


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@contextlib.asynccontextmanager
async def hostile(scenario: Scenario) -> AsyncIterator[HostileServer]:
    server = HostileServer(scenario)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@contextlib.contextmanager
def threaded(scenario: Scenario) -> Iterator[HostileServer]:
    """The same server on its own event loop in a thread, for synchronous tests (the CLI's
    `main` runs its own event loop)."""
    loop = asyncio.new_event_loop()
    server = HostileServer(scenario)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="hostile-server", daemon=True)
    thread.start()
    assert ready.wait(5), "the hostile server did not start"
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
