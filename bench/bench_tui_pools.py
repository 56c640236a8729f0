"""Sessions across pools in the TUI (the `A` view): 50 pools x 600 sessions, headless Pilot.

Both sides talk to the same in-process backend: SessionsClient over an httpx.MockTransport
that serves pre-built listSessions JSON pages (300 a page, nextLink on the pool's own
endpoint), so the client's real parsing is measured and nothing leaves the process.

Measured, side by side in one run:
- the client alone: every pool's pages fetched and parsed, 8 pools at a time (as the view);
- the TUI: opening the view (push to painted, before any listing), then from the start of
  the listing the time to the first row on screen and to all rows loaded, and the longest
  event-loop stall while loading (a 2 ms heartbeat task in the app's loop);
- filtering 30,000 loaded rows: typing a filter, then clearing it (every row back), with the
  longest stall while it happens.
Targets: stalls <= 100 ms; TUI load <= 2x the client alone.

Run: .venv/bin/python bench/bench_tui_pools.py [--pools 50] [--sessions 600] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.api.arm_models import SessionPoolResource
from dstui.api.fake_arm import FakeArm, FakePoolSpec
from dstui.api.fake_pool import FakePool, frozen_clock
from dstui.api.protocol import SessionPoolAPI
from dstui.tui.app import DstuiApp
from dstui.tui.pool_directory import PoolDirectory
from dstui.tui.screens.across_pools import LIST_CONCURRENCY, AcrossPoolsScreen
from dstui.tui.settings import AppSettings

PAGE = 300
SIZE = (140, 45)


def pool_specs(pools: int) -> list[FakePoolSpec]:
    return [
        FakePoolSpec(f"pool{index:02d}", f"group{index % 5}", "westus2", max_sessions=600)
        for index in range(pools)
    ]


def page_bodies(endpoint: str, tag: str, sessions: int) -> list[bytes]:
    bodies = []
    for start in range(0, sessions, PAGE):
        entries = [
            {
                "identifier": f"{tag}-{i:04d}-0f8fad5b-d9cb-469f",
                "createdAt": f"2026-01-15T08:{i % 60:02d}:00Z",
                "lastAccessedAt": f"2026-01-15T09:{i % 60:02d}:30Z",
                "expireAt": f"2026-01-15T10:{i % 60:02d}:30Z",
                "etag": f"9334cb07-aafd-45a0-90bd-{i:012d}",
            }
            for i in range(start, min(start + PAGE, sessions))
        ]
        more = start + PAGE < sessions
        link = f"{endpoint}/listSessions?skip={start + PAGE}" if more else None
        bodies.append(json.dumps({"sessions": entries, "nextLink": link}).encode())
    return bodies


class Backend:
    """listSessions for every pool, answered from memory."""

    def __init__(self, pools: list[SessionPoolResource], sessions: int) -> None:
        self.bodies: dict[str, list[bytes]] = {}
        for pool in pools:
            endpoint = pool.pool_management_endpoint or ""
            self.bodies[httpx.URL(endpoint).path] = page_bodies(endpoint, pool.name, sessions)
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        base = request.url.path.removesuffix("/listSessions")
        skip = int(parse_qs(request.url.query.decode()).get("skip", ["0"])[0])
        body = self.bodies[base][skip // PAGE]
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    def client(self, endpoint: str) -> SessionsClient:
        return SessionsClient(
            endpoint, auth=StaticTokenProvider("bench-token"), transport=self.transport
        )


async def client_alone(backend: Backend, pools: list[SessionPoolResource]) -> tuple[float, int]:
    gate = asyncio.Semaphore(LIST_CONCURRENCY)
    count = 0

    async def one(pool: SessionPoolResource) -> None:
        nonlocal count
        async with gate, backend.client(pool.pool_management_endpoint or "") as client:
            async for page in client.iter_session_pages():
                count += len(page.sessions)

    started = time.perf_counter()
    await asyncio.gather(*(one(pool) for pool in pools))
    return time.perf_counter() - started, count


class Heartbeat:
    """The longest gap between 2 ms sleeps of a task in the loop: the loop's longest stall."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.002)
            self.longest = max(self.longest, time.perf_counter() - before - 0.002)

    def start(self) -> None:
        self.longest = 0.0
        self._task = asyncio.get_running_loop().create_task(self._beat())

    def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
        return self.longest


async def painted(screen: Any) -> None:
    """Until the screen's next refresh has been painted."""
    done = asyncio.get_running_loop().create_future()
    screen.call_after_refresh(lambda: done.done() or done.set_result(None))
    await done


async def tui_run(backend: Backend, arm: FakeArm, expected: int) -> dict[str, float]:
    def build(endpoint: str, _pool: SessionPoolResource) -> SessionPoolAPI:
        return backend.client(endpoint)

    directory = PoolDirectory(arm, build)
    settings = AppSettings(
        pool_label="bench", clock=frozen_clock, test_mode=True, data_dir=Path("/tmp/dstui-bench")
    )
    app = DstuiApp(FakePool(session_count=3), settings, directory)
    beat = Heartbeat()
    result: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pools = (await directory.list_pools()).pools
        screen = AcrossPoolsScreen(directory, pools, settings)
        beat.start()
        opened = time.perf_counter()
        await app.push_screen(screen)
        while not screen.loading:  # the view is painted, then its listing starts
            await asyncio.sleep(0.001)
        started = time.perf_counter()
        result["open_s"] = started - opened
        result["open_stall_ms"] = beat.stop() * 1000
        beat.start()
        while screen.table.row_count == 0:
            await asyncio.sleep(0.001)
        result["first_row_s"] = time.perf_counter() - opened  # from opening the view
        while screen.loading or screen.table.row_count < expected:
            await asyncio.sleep(0.002)
        await painted(screen)  # the frame showing the last batch
        result["complete_s"] = time.perf_counter() - started
        result["load_stall_ms"] = beat.stop() * 1000
        result["rows"] = screen.table.row_count

        beat.start()
        await pilot.press("slash", *"pool4", "enter")  # typed, debounced, then submitted
        await pilot.pause()
        shown = screen.table.row_count
        await pilot.press("escape")  # clears it: every row back in the table
        await pilot.pause()
        result["filter_stall_ms"] = beat.stop() * 1000
        result["filtered_rows"] = shown
        began = time.perf_counter()
        screen.apply_filter("pool07-0123")
        screen.apply_filter("")
        result["filter_pair_ms"] = (time.perf_counter() - began) * 1000
    return result


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    arm = FakeArm(pool_specs(args.pools))
    pools = (await arm.list_pools_everywhere()).pools
    backend = Backend(pools, args.sessions)
    expected = args.pools * args.sessions
    alone: list[float] = []
    tui: list[dict[str, float]] = []
    for _ in range(args.runs):
        seconds, count = await client_alone(backend, pools)
        assert count == expected, count
        alone.append(seconds)
        tui.append(await tui_run(backend, arm, expected))
    complete = statistics.median(run["complete_s"] for run in tui)
    client = statistics.median(alone)
    return {
        "pools": args.pools,
        "sessions_per_pool": args.sessions,
        "rows": expected,
        "client_alone_s": round(client, 3),
        "tui_open_s": round(statistics.median(r["open_s"] for r in tui), 3),
        "open_stall_ms_max": round(max(r["open_stall_ms"] for r in tui), 1),
        "tui_first_row_s": round(statistics.median(r["first_row_s"] for r in tui), 3),
        "tui_complete_s": round(complete, 3),
        "tui_over_client": round(complete / client, 2),
        "load_stall_ms_max": round(max(r["load_stall_ms"] for r in tui), 1),
        "filter_stall_ms_max": round(max(r["filter_stall_ms"] for r in tui), 1),
        "filter_then_clear_ms": round(statistics.median(r["filter_pair_ms"] for r in tui), 1),
        "targets": "stalls <= 100 ms, tui_over_client <= 2",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=600)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (1 <= args.pools <= 200 and 1 <= args.sessions <= 1000 and 1 <= args.runs <= 10):
        parser.error("bounded: --pools 1-200, --sessions 1-1000, --runs 1-10")
    report = asyncio.run(main_async(args))
    print(json.dumps(report, indent=2))
    ok = (
        report["load_stall_ms_max"] <= 100
        and report["filter_stall_ms_max"] <= 100
        and report["tui_over_client"] <= 2
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
