"""Serving a uvicorn server on a bound socket, for the emulator and the proxy threads."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence

import uvicorn


async def serve_on(
    server: uvicorn.Server,
    sock: socket.socket | Sequence[socket.socket],
    ready: threading.Event,
    what: str,
) -> None:
    """Serve until the server stops, setting `ready` once it listens (on every socket given).
    A server that ends before it listens (bad TLS files, a failed start-up) raises, so the
    starting thread sees why."""
    sockets = [sock] if isinstance(sock, socket.socket) else list(sock)
    serving = asyncio.create_task(server.serve(sockets=sockets))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if not server.started:
        await serving
        raise RuntimeError(f"the {what} stopped before it was listening")
    ready.set()
    await serving
