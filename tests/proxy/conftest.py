"""Fixtures for the proxy tests: proxies (and dedicated emulators) that are stopped afterwards."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dstui.proxy import ProxyOptions, ProxyServer
from dstui.recording import Exchange, RecordingStore


@pytest.fixture
def make_proxy(tmp_path: Path) -> Iterator[Callable[..., ProxyServer]]:
    """`make_proxy(upstream, **options)`: a started proxy recording into tmp_path."""
    started: list[ProxyServer] = []

    def make(upstream: str, **options: Any) -> ProxyServer:
        options.setdefault("record", tmp_path / f"proxy-{len(started)}.sqlite3")
        server = ProxyServer(ProxyOptions(upstream=upstream, **options))
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def recording_bytes(path: Path) -> bytes:
    """The recording file and its WAL and shared-memory side files, as bytes."""
    return b"".join(
        side.read_bytes()
        for side in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        if side.exists()
    )


def wait_for_rows(store: RecordingStore, count: int, timeout_s: float = 10.0) -> list[Exchange]:
    """The newest `count` exchanges once that many are stored (each is written just after its
    answer's last byte, so a client may finish a moment before the row lands)."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = store.recent(count)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)
