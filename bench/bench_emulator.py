"""Emulator benchmarks, side by side in one run (prints a table; not a test).

    .venv/bin/python bench/bench_emulator.py [--sessions 100] [--concurrent 50] [--listed 10000]

Measures: warm round trip of print(1); first execution on a new identifier with a ready pool
beside a cold kernel start; memory per idle session with N sessions alive; N concurrent
executions; one listSessions page of 300 out of 10,000 sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import psutil

from dstui.emulator import EmulatorConfig, EmulatorServer

NEW = "2025-10-02-preview"
Row = tuple[str, str, str]


@contextmanager
def emulator(**settings: object) -> Iterator[tuple[EmulatorServer, httpx.Client]]:
    server = EmulatorServer(EmulatorConfig(**settings))  # type: ignore[arg-type]
    server.start()
    headers = {"Authorization": f"Bearer {server.token}"} if server.token else {}
    try:
        with httpx.Client(base_url=server.endpoint, headers=headers, timeout=120) as client:
            yield server, client
    finally:
        server.stop()


def execute(client: httpx.Client, identifier: str, code: str) -> dict[str, object]:
    response = client.post(
        "/executions", params={"api-version": NEW, "identifier": identifier}, json={"code": code}
    )
    response.raise_for_status()
    body: dict[str, object] = response.json()
    if body["status"] != "Succeeded":
        raise RuntimeError(f"execution failed: {body}")
    return body


def timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def wait_ready(server: EmulatorServer, count: int, timeout: float = 60) -> None:
    assert server.state is not None
    deadline = time.monotonic() + timeout
    while server.state.pool.ready_count < count:
        if time.monotonic() > deadline:
            raise RuntimeError("ready pool did not fill")
        time.sleep(0.05)


def kernel_memory(server: EmulatorServer) -> tuple[int, float, float]:
    """Kernels alive, and their summed RSS and USS (MiB) over each process tree."""
    assert server.state is not None
    kernels = rss = uss = 0
    for session in server.state.pool.sessions.values():
        kernel = session.container.kernel
        if kernel is None or kernel.pid is None or not kernel.alive:
            continue
        kernels += 1
        root = psutil.Process(kernel.pid)
        for process in [root, *root.children(recursive=True)]:
            info = process.memory_full_info()
            rss += info.rss
            uss += info.uss
    return kernels, rss / 2**20, uss / 2**20


def bench_latency(rounds: int) -> list[Row]:
    rows: list[Row] = []
    with emulator(ready_sessions=2) as (server, client):
        execute(client, "bench-warm", "x = 1")
        warm = [timed_ms(lambda: execute(client, "bench-warm", "print(1)")) for _ in range(rounds)]
        rows.append(
            (
                "warm round trip, print(1)",
                f"{statistics.median(warm):.1f} ms",
                f"p95 {sorted(warm)[int(rounds * 0.95) - 1]:.1f} ms, target <= 15 ms",
            )
        )
        first = []
        for index in range(10):
            wait_ready(server, 1)
            first.append(timed_ms(lambda i=index: execute(client, f"bench-new-{i}", "print(1)")))
        rows.append(
            (
                "first execution, ready pool",
                f"{statistics.median(first):.1f} ms",
                "median of 10, target <= 150 ms",
            )
        )
    with emulator(ready_sessions=0) as (server, client):
        cold = [
            timed_ms(lambda i=i: execute(client, f"bench-cold-{i}", "print(1)")) for i in range(5)
        ]
        rows.append(
            (
                "first execution, cold kernel start",
                f"{statistics.median(cold):.1f} ms",
                "median of 5, no ready pool",
            )
        )
    return rows


async def _concurrent(
    endpoint: str, headers: dict[str, str], identifiers: list[str]
) -> tuple[int, float]:
    async with httpx.AsyncClient(base_url=endpoint, headers=headers, timeout=120) as client:

        async def one(identifier: str) -> bool:
            response = await client.post(
                "/executions",
                params={"api-version": NEW, "identifier": identifier},
                json={"code": "sum(range(200_000))"},
            )
            return response.status_code == 200 and response.json()["status"] == "Succeeded"

        started = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in identifiers), return_exceptions=True)
        elapsed = time.perf_counter() - started
    return sum(1 for r in results if r is not True), elapsed


def bench_many_sessions(sessions: int, concurrent: int) -> list[Row]:
    with emulator(ready_sessions=0, max_sessions=sessions + 10) as (server, client):
        identifiers = [f"bench-idle-{i:03d}" for i in range(sessions)]
        started = time.perf_counter()
        failed, _ = asyncio.run(_concurrent(server.endpoint, dict(client.headers), identifiers))
        spawn_s = time.perf_counter() - started
        time.sleep(1.0)
        kernels, rss, uss = kernel_memory(server)
        errors, elapsed = asyncio.run(
            _concurrent(server.endpoint, dict(client.headers), identifiers[:concurrent])
        )
    return [
        (
            f"{sessions} sessions alive",
            f"{kernels} kernels",
            f"requested at once, all up in {spawn_s:.1f} s, {failed} failed",
        ),
        (
            "memory per idle session",
            f"{rss / max(kernels, 1):.1f} MiB RSS",
            f"{uss / max(kernels, 1):.1f} MiB USS (unshared)",
        ),
        (f"{concurrent} concurrent executions", f"{errors} errors", f"all done in {elapsed:.2f} s"),
    ]


async def _register(endpoint: str, headers: dict[str, str], count: int) -> None:
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(
        base_url=endpoint, headers=headers, limits=limits, timeout=60
    ) as client:
        semaphore = asyncio.Semaphore(16)

        async def one(index: int) -> None:
            async with semaphore:
                response = await client.get(
                    "/files", params={"api-version": NEW, "identifier": f"listed-{index:05d}"}
                )
                response.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(count)))


def bench_listing(listed: int) -> list[Row]:
    with emulator(ready_sessions=0, max_sessions=listed + 10) as (server, client):
        started = time.perf_counter()
        asyncio.run(_register(server.endpoint, dict(client.headers), listed))
        register_s = time.perf_counter() - started
        pages = [0, 300, listed // 2, listed - 300]
        new_shape, management = [], []
        for round_index in range(40):
            skip = pages[round_index % len(pages)]
            new_shape.append(
                timed_ms(
                    lambda s=skip: client.get(
                        "/listSessions", params={"api-version": NEW, "skip": s}
                    ).raise_for_status()
                )
            )
            management.append(
                timed_ms(
                    lambda s=skip: client.post(
                        "/.management/listSessions", params={"api-version": NEW, "skip": s}
                    ).raise_for_status()
                )
            )
    return [
        (
            f"register {listed} sessions (GET /files)",
            f"{register_s:.1f} s",
            f"{listed / register_s:.0f} new sessions/s over HTTP",
        ),
        (
            f"listSessions page of 300 / {listed}",
            f"{statistics.median(new_shape):.1f} ms",
            "median of 40, target <= 50 ms",
        ),
        (
            f".management/listSessions page / {listed}",
            f"{statistics.median(management):.1f} ms",
            "median of 40",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--listed", type=int, default=10_000)
    args = parser.parse_args()
    rows = [
        *bench_latency(args.rounds),
        *bench_many_sessions(args.sessions, args.concurrent),
        *bench_listing(args.listed),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    header = ("measurement", "result", "notes")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
