"""Serving a uvicorn server on a bound socket, for the emulator and the proxy threads."""

from __future__ import annotations

import asyncio
import socket
import threading

import uvicorn


async def serve_on(
    server: uvicorn.Server, sock: socket.socket, ready: threading.Event, what: str
) -> None:
    """Serve until the server stops, setting `ready` once it listens. A server that ends before
    it listens (bad TLS files, a failed start-up) raises, so the starting thread sees why."""
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if not server.started:
        await serving
        raise RuntimeError(f"the {what} stopped before it was listening")
    ready.set()
    await serving
