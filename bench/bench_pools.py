"""Listing sessions across pools: 50 emulated pools x 600 sessions, through the client's
cross-pool engine (dstui.api.prune.scan_pools), loopback only.

One emulator child process hosts every pool (`EmulatorServer(arm_pools=...)`, as `dstui
emulator --arm` does), each below its own pool endpoint; sessions are seeded in the emulator's
own loop (no kernels). The client runs in this process, so the server's work does not share its
GIL: time to the first page, time to complete, and the longest stall of the client's loop.

Run: .venv/bin/python bench/bench_pools.py [--pools 50] [--sessions 600] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import timedelta
from typing import Any

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.api.prune import PoolScan, PoolTarget, PruneCriteria, scan_pools
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.emulator.arm_pools import ArmPoolSpec

TOKEN = "bench-pools-token"
TIME_BOX_S = 120.0


def start_pools(pools: int, sessions: int) -> EmulatorServer:
    specs = [ArmPoolSpec(name=f"bench{index:03d}", max_sessions=sessions) for index in range(pools)]
    config = EmulatorConfig(token=TOKEN, ready_sessions=0, cooldown_s=86400.0, sandbox="none")
    server = EmulatorServer(config, arm_pools=specs)
    server.start()
    return server


def seed(server: EmulatorServer, sessions: int) -> float:
    """Open `sessions` sessions in every hosted pool, on the emulator's loop."""

    async def fill() -> None:
        for hosted in server.hosted:
            for number in range(sessions):
                hosted.state.pool.open(f"{hosted.spec.name}-s{number:04d}")
            await asyncio.sleep(0)

    began = time.perf_counter()
    loop = server._loop  # the emulator's own loop (bench only)
    assert loop is not None
    asyncio.run_coroutine_threadsafe(fill(), loop).result(TIME_BOX_S)
    return time.perf_counter() - began


def serve(pools: int, sessions: int) -> None:
    """The child: host and seed the pools, print their endpoints, serve until stdin closes."""
    server = start_pools(pools, sessions)
    try:
        seeded = seed(server, sessions)
        names = [(hosted.spec.name, hosted.endpoint) for hosted in server.hosted]
        print(json.dumps({"seeded_s": seeded, "pools": names}), flush=True)
        sys.stdin.read()
    finally:
        server.stop()


def start_child(pools: int, sessions: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--pools", str(pools), "--sessions", str(sessions)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        child.kill()
        raise SystemExit("the emulator child did not start")
    return child, json.loads(line)


class StallMeter:
    """The longest gap between 5 ms ticks of the loop, minus the tick itself."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - 0.005)
            last = now

    def __enter__(self) -> StallMeter:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._task is not None
        self._task.cancel()


async def one_run(
    pools: list[tuple[str, str]], concurrency: int, *, trace_memory: bool = False
) -> dict[str, float]:
    """One listing of every pool; with `trace_memory`, the traced peak instead of honest
    timings (tracemalloc slows allocation down)."""
    first_page: list[float] = []
    began = time.perf_counter()

    def on_page(pool: PoolScan) -> None:
        if not first_page:
            first_page.append(time.perf_counter() - began)

    clients = [SessionsClient(endpoint, auth=StaticTokenProvider(TOKEN)) for _, endpoint in pools]
    try:
        targets = [PoolTarget(p[0], c) for p, c in zip(pools, clients, strict=True)]
        everything = PruneCriteria(idle_longer_than=timedelta(0))  # the worst case: all kept
        if trace_memory:
            tracemalloc.start()
        with StallMeter() as meter:
            async with asyncio.timeout(TIME_BOX_S):
                result = await scan_pools(
                    targets, everything, concurrency=concurrency, on_page=on_page
                )
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
        tracemalloc.stop()
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    total = time.perf_counter() - began
    errors = [pool.error for pool in result.pools if pool.error]
    if errors:
        raise SystemExit(f"{len(errors)} pools failed, e.g. {errors[0]}")
    return {
        "first_page_s": first_page[0] if first_page else float("nan"),
        "complete_s": total,
        "rows": float(result.listed),
        "pages": float(sum(pool.pages for pool in result.pools)),
        "stall_ms": meter.longest * 1000,
        "peak_mib": peak / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="5 pools x 100 sessions, 1 run")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.pools, args.sessions)
        return
    if args.quick:
        args.pools, args.sessions, args.runs = 5, 100, 1
    deadline = time.perf_counter() + TIME_BOX_S
    child, hosted = start_child(args.pools, args.sessions)
    pools = [(name, endpoint) for name, endpoint in hosted["pools"]]
    try:
        print(
            f"{args.pools} pools x {args.sessions} sessions seeded in {hosted['seeded_s']:.1f} s "
            "(one emulator child process)"
        )
        for concurrency in (8, 16):
            runs = []
            for _ in range(args.runs):
                if time.perf_counter() > deadline:
                    print("time box reached; stopping")
                    return
                runs.append(asyncio.run(one_run(pools, concurrency)))
            med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            print(
                f"concurrency {concurrency:>2}: {med['rows']:.0f} rows in "
                f"{med['pages']:.0f} pages; "
                f"first page {med['first_page_s'] * 1000:.0f} ms, complete "
                f"{med['complete_s']:.2f} s ({med['rows'] / med['complete_s']:.0f} rows/s), "
                f"longest client loop stall {med['stall_ms']:.0f} ms (median of {len(runs)})"
            )
        traced = asyncio.run(one_run(pools, 8, trace_memory=True))
        print(
            f"memory: traced Python peak while holding all {traced['rows']:.0f} rows selected: "
            f"{traced['peak_mib']:.1f} MiB (a separate, traced run)"
        )
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()
