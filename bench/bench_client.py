"""Client benchmarks, every ratio measured side by side in one run (variants interleaved).

1. Execute round trip: SessionsClient.execute vs a raw httpx POST to the same local server.
2. 128 MiB upload and download: peak RSS growth of the client process (one subprocess per run so
   peaks never mix) and throughput vs a raw streamed httpx transfer.
3. Parsing 30 pages x 300 sessions into models vs plain json.loads of the same bodies.

The server is a tiny starlette app on uvicorn in a thread of this process.
Run: .venv/bin/python bench/bench_client.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from dstui.api import RetryPolicy, SessionsClient
from dstui.api.models import SessionPage

API_VERSION = "2025-10-02-preview"
IDENTIFIER = "bench-session-0001"
TRANSFER_BYTES = 128 * 1024 * 1024
SERVER_CHUNK = 1024 * 1024
RAW_CHUNK = 256 * 1024
EXECUTION_BODY = {
    "id": "bench-exec",
    "identifier": IDENTIFIER,
    "executionType": "Synchronous",
    "status": "Succeeded",
    "result": {
        "stdout": "63\n",
        "stderr": "",
        "executionResult": 63,
        "executionTimeInMilliseconds": 4,
    },
}
EXECUTION_HEADERS = {
    "operation-id": "bench-exec",
    "x-ms-overall-execution-time": "12",
    "x-ms-execution-request-time": "9",
    "x-ms-session-guid": "pod-guid",
}
FILE_JSON = {
    "name": "upload.bin",
    "type": "File",
    "contentType": "application/octet-stream",
    "sizeInBytes": TRANSFER_BYTES,
    "lastModifiedAt": "2026-01-01T00:00:00Z",
}


# -- server -------------------------------------------------------------------------------


async def _execute(request: Request) -> Response:
    await request.body()
    return JSONResponse(EXECUTION_BODY, headers=EXECUTION_HEADERS)


async def _upload(request: Request) -> Response:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
    return JSONResponse({**FILE_JSON, "sizeInBytes": received})


_BLOCK = os.urandom(SERVER_CHUNK)


async def _download(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(TRANSFER_BYTES // SERVER_CHUNK):
            yield _BLOCK

    return StreamingResponse(
        body(),
        media_type="application/octet-stream",
        headers={"content-length": str(TRANSFER_BYTES)},
    )


def build_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/executions", _execute, methods=["POST"]),
            Route("/files", _upload, methods=["POST"]),
            Route("/files/{name}/content", _download, methods=["GET"]),
        ]
    )


class ServerThread:
    def __init__(self) -> None:
        config = uvicorn.Config(
            build_app(),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="bench-server", daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


# -- 1. execute round trip ----------------------------------------------------------------


async def bench_execute(endpoint: str, rounds: int) -> tuple[float, float]:
    """Median seconds per call: (client, raw). The order alternates every round."""
    client = SessionsClient(endpoint, api_version=API_VERSION, auth=None, retry=RetryPolicy())
    raw = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
    url = f"{endpoint}/executions"
    params = {"api-version": API_VERSION, "identifier": IDENTIFIER}
    body = {
        "codeInputType": "Inline",
        "executionType": "Synchronous",
        "code": "print(7*9)",
        "timeoutInSeconds": 60,
    }

    async def via_client() -> None:
        await client.execute(IDENTIFIER, "print(7*9)")

    async def via_raw() -> None:
        response = await raw.post(url, params=params, json=body)
        response.raise_for_status()
        response.json()

    timings: dict[str, list[float]] = {"client": [], "raw": []}
    variants: list[tuple[str, Callable[[], Any]]] = [("client", via_client), ("raw", via_raw)]
    async with client, raw:
        for _ in range(30):  # warm both connection pools and code paths
            await via_client()
            await via_raw()
        for index in range(rounds):
            order = variants if index % 2 == 0 else variants[::-1]
            for name, call in order:
                began = time.perf_counter()
                await call()
                timings[name].append(time.perf_counter() - began)
    return statistics.median(timings["client"]), statistics.median(timings["raw"])


# -- 2. transfers (each run in its own process) -------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from /proc/self/status")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not permitted."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def _child_transfer(variant: str, endpoint: str, local: Path, workdir: Path) -> None:
    out = workdir / f"download-{variant}.bin"
    client = SessionsClient(endpoint, api_version=API_VERSION, auth=None, retry=RetryPolicy())
    raw = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0))
    params = {"api-version": API_VERSION, "identifier": IDENTIFIER}
    async with client, raw:
        gc.collect()
        baseline = _status_kib("VmRSS")
        peak_reset = _reset_peak()
        began = time.perf_counter()
        if variant == "upload-client":
            await client.upload_file(IDENTIFIER, local, remote_name="upload.bin")
        elif variant == "upload-raw":
            with local.open("rb") as handle:
                response = await raw.post(
                    f"{endpoint}/files",
                    params=params,
                    files={"file": ("upload.bin", handle, "application/octet-stream")},
                )
                response.raise_for_status()
        elif variant == "download-client":
            await client.download_file(IDENTIFIER, "blob.bin", out, overwrite=True)
        elif variant == "download-raw":
            async with raw.stream("GET", f"{endpoint}/files/blob.bin/content", params=params) as r:
                r.raise_for_status()
                with out.open("wb") as handle:
                    async for chunk in r.aiter_bytes():
                        handle.write(chunk)
                    handle.flush()
                    os.fsync(handle.fileno())  # same durability as the client's download
        else:
            raise SystemExit(f"unknown variant {variant}")
        seconds = time.perf_counter() - began
        peak = _status_kib("VmHWM")
    out.unlink(missing_ok=True)
    # Without a reset VmHWM still holds the start-up peak, so the growth is over-estimated.
    print(json.dumps({"seconds": seconds, "growth_kib": peak - baseline, "reset": peak_reset}))


def _run_child(variant: str, endpoint: str, local: Path, workdir: Path) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--child",
        variant,
        "--endpoint",
        endpoint,
        "--local",
        str(local),
        "--workdir",
        str(workdir),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{variant} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_transfers(endpoint: str, repeats: int) -> dict[str, dict[str, float]]:
    variants = ["upload-client", "upload-raw", "download-client", "download-raw"]
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="dstui-bench-") as tmp:
        workdir = Path(tmp)
        local = workdir / "upload.bin"
        with local.open("wb") as handle:
            for _ in range(TRANSFER_BYTES // SERVER_CHUNK):
                handle.write(_BLOCK)
        for index in range(repeats):
            shift = index % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                runs[variant].append(_run_child(variant, endpoint, local, workdir))
    return {
        variant: {
            "mib_s": statistics.median(TRANSFER_BYTES / r["seconds"] / 2**20 for r in results),
            "growth_mib": max(r["growth_kib"] for r in results) / 1024,
            "peak_reset": all(r["reset"] for r in results),
        }
        for variant, results in runs.items()
    }


# -- 3. parsing ---------------------------------------------------------------------------


def session_pages(pages: int = 30, per_page: int = 300) -> list[bytes]:
    bodies = []
    for page in range(pages):
        sessions = [
            {
                "identifier": f"dstui-{page:02d}-{i:04d}-0f8fad5b-d9cb-469f-a165-70867728950e",
                "createdAt": f"2026-01-21T03:{i % 60:02d}:{page:02d}.{i:03d}Z",
                "lastAccessedAt": f"2026-01-21T04:{i % 60:02d}:{page:02d}.{i:03d}Z",
                "expireAt": f"2026-01-21T05:{i % 60:02d}:{page:02d}.{i:03d}Z",
                "etag": f"9334cb07-aafd-45a0-90bd-{page:04d}{i:08d}",
            }
            for i in range(per_page)
        ]
        next_link = f"https://pool.example/listSessions?skip={(page + 1) * per_page}"
        bodies.append(json.dumps({"sessions": sessions, "nextLink": next_link}).encode())
    return bodies


def bench_parse(rounds: int) -> dict[str, float]:
    """Median seconds to parse all pages, per variant:
    models: what the client does with a list body (SessionPage.from_bytes);
    read_all: the same, then every timestamp read (all are parsed eagerly, so no extra cost);
    per_entry: stdlib json, then the tolerant entry-by-entry path (SessionPage.from_json);
    plain: json.loads alone (the baseline)."""
    bodies = session_pages()

    def models() -> None:
        for body in bodies:
            SessionPage.from_bytes(body)

    def read_all() -> None:
        for body in bodies:
            for session in SessionPage.from_bytes(body).sessions:
                session.created_at, session.last_accessed_at, session.expires_at  # noqa: B018

    def per_entry() -> None:
        for body in bodies:
            SessionPage.from_json(json.loads(body))

    def plain() -> None:
        for body in bodies:
            json.loads(body)

    variants = [
        ("models", models),
        ("read_all", read_all),
        ("per_entry", per_entry),
        ("plain", plain),
    ]
    timings: dict[str, list[float]] = {name: [] for name, _ in variants}
    for index in range(rounds):
        shift = index % len(variants)
        for name, run in variants[shift:] + variants[:shift]:
            gc.collect()
            began = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - began)
    return {name: statistics.median(values) for name, values in timings.items()}


# -- report -------------------------------------------------------------------------------


def _row(metric: str, ours: str, baseline: str, ratio: str, target: str, ok: bool) -> str:
    verdict = "ok" if ok else "MISSED"
    return f"{metric:<34} {ours:>14} {baseline:>14} {ratio:>8} {target:>10}  {verdict}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--local", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        asyncio.run(_child_transfer(args.child, args.endpoint, args.local, args.workdir))
        return 0

    exec_rounds, transfer_repeats, parse_rounds = (60, 1, 7) if args.quick else (400, 3, 31)
    with ServerThread() as endpoint:
        client_s, raw_s = asyncio.run(bench_execute(endpoint, exec_rounds))
        transfers = bench_transfers(endpoint, transfer_repeats)
    parse = bench_parse(parse_rounds)
    models_s, plain_s = parse["models"], parse["plain"]

    header = _row("benchmark", "dstui", "baseline", "ratio", "target", True)[:-4]
    print(header)
    print("-" * len(header))
    ratio = client_s / raw_s
    print(
        _row(
            "execute round trip (median)",
            f"{client_s * 1e3:.3f} ms",
            f"{raw_s * 1e3:.3f} ms",
            f"{ratio:.3f}",
            "<= 1.10",
            ratio <= 1.10,
        )
    )
    for direction in ("upload", "download"):
        ours, raw = transfers[f"{direction}-client"], transfers[f"{direction}-raw"]
        speed = ours["mib_s"] / raw["mib_s"]
        print(
            _row(
                f"{direction} 128 MiB throughput",
                f"{ours['mib_s']:.0f} MiB/s",
                f"{raw['mib_s']:.0f} MiB/s",
                f"{speed:.3f}",
                ">= 0.80",
                speed >= 0.8,
            )
        )
        print(
            _row(
                f"{direction} 128 MiB peak RSS growth",
                f"{ours['growth_mib']:.1f} MiB",
                f"{raw['growth_mib']:.1f} MiB",
                "",
                "<= 32 MiB",
                ours["growth_mib"] <= 32,
            )
        )
    if not all(t["peak_reset"] for t in transfers.values()):
        print("note: VmHWM could not be reset; RSS growth includes the start-up peak")
    parse_ratio = models_s / plain_s
    print(
        _row(
            "parse 30 x 300 sessions (median)",
            f"{models_s * 1e3:.1f} ms",
            f"{plain_s * 1e3:.1f} ms",
            f"{parse_ratio:.3f}",
            "<= 1.50",
            parse_ratio <= 1.5,
        )
    )
    print()
    print(
        f"parse, then read every timestamp: {parse['read_all'] * 1e3:.1f} ms "
        f"({parse['read_all'] / plain_s:.3f}x json.loads)"
    )
    print(
        f"tolerant entry-by-entry path on stdlib json: {parse['per_entry'] * 1e3:.1f} ms "
        f"({parse['per_entry'] / plain_s:.3f}x json.loads; used only for odd pages)"
    )
    print("both download variants end with fsync")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
