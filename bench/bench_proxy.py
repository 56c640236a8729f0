"""Proxy benchmarks, side by side in one run (variants interleaved), against the real emulator.

1. Execute round trip through `dstui proxy` (recording on) vs straight to the emulator.
2. 128 MiB up and then down through the proxy: peak RSS growth of the proxy process (it runs as
   `python -m dstui proxy` in a subprocess, so nothing else counts) and throughput vs direct.
3. A `--follow` reader's lag: how long after an answer's last byte the reader has its row.

Run: .venv/bin/python bench/bench_proxy.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from dstui.api import RetryPolicy, SessionsClient, StaticTokenProvider
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.recording import RecordingStore

API_VERSION = "2025-10-02-preview"
IDENTIFIER = "bench-proxy-0001"
TRANSFER_BYTES = 128 * 1024 * 1024
CHUNK = 256 * 1024


class ProxyProcess:
    """`dstui proxy` in a subprocess; its endpoint is read from the export line it prints."""

    def __init__(self, upstream: str, record: Path) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dstui",
                "proxy",
                "--upstream",
                upstream,
                "--record",
                str(record),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.endpoint = ""
        for line in self.process.stdout:
            if line.startswith("export POOL_MANAGEMENT_ENDPOINT="):
                self.endpoint = line.strip().split("=", 1)[1]
            if line.startswith("Ctrl-C"):
                break
        if not self.endpoint:
            raise RuntimeError("the proxy did not start")

    def status_kib(self, field: str) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"{field} missing")

    def reset_peak(self) -> bool:
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


async def bench_execute(direct: str, proxied: str, token: str, rounds: int) -> tuple[float, float]:
    retry = RetryPolicy()
    auth = StaticTokenProvider(token)
    async with (
        SessionsClient(direct, auth=auth, retry=retry) as straight,
        SessionsClient(proxied, auth=auth, retry=retry) as through,
    ):
        for _ in range(10):  # warm the kernel and both connections
            await straight.execute(IDENTIFIER, "7 * 9")
            await through.execute(IDENTIFIER, "7 * 9")
        times: dict[str, list[float]] = {"direct": [], "proxy": []}
        for index in range(rounds):
            order = [("direct", straight), ("proxy", through)]
            for name, client in order if index % 2 else reversed(order):
                began = time.perf_counter()
                await client.execute(IDENTIFIER, "7 * 9")
                times[name].append(time.perf_counter() - began)
    return statistics.median(times["proxy"]), statistics.median(times["direct"])


def _body(size: int) -> Iterator[bytes]:
    boundary = "benchboundary"
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    chunk = b"\x5a" * CHUNK
    for _ in range(size // CHUNK):
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


def transfer(endpoint: str, token: str, name: str) -> tuple[float, float]:
    """Seconds to upload then to download TRANSFER_BYTES, streaming both ways."""
    params = {"api-version": API_VERSION, "identifier": IDENTIFIER}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=endpoint, headers=headers, timeout=300) as client:
        began = time.perf_counter()
        answer = client.post(
            "/files",
            params={**params, "path": name},
            content=_body(TRANSFER_BYTES),
            headers={"content-type": "multipart/form-data; boundary=benchboundary"},
        )
        answer.raise_for_status()
        uploaded = time.perf_counter() - began
        began = time.perf_counter()
        received = 0
        with client.stream(
            "GET", "/files/big.bin/content", params={**params, "path": name}
        ) as down:
            down.raise_for_status()
            for chunk in down.iter_raw():
                received += len(chunk)
        assert received == TRANSFER_BYTES, received
        return uploaded, time.perf_counter() - began


def bench_follow(endpoint: str, token: str, record: Path, count: int) -> list[float]:
    """Lag (s) between each answer's end at the client and its row reaching a follower."""
    reader = RecordingStore(record, create=False)
    start_after = reader.last_number()
    arrivals: list[float] = []
    done = threading.Event()

    def follow() -> None:
        # poll_s as `dstui trace --follow` uses it
        for _ in reader.follow(start_after, stop=done.is_set):
            arrivals.append(time.perf_counter())
            if len(arrivals) == count:
                done.set()

    thread = threading.Thread(target=follow)
    thread.start()
    ends: list[float] = []
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(count):
            client.get("/metadata", params={"api-version": API_VERSION}).raise_for_status()
            ends.append(time.perf_counter())
            time.sleep(0.037)  # requests spread over the follower's polling
    thread.join(30)
    done.set()
    reader.close()
    return [arrival - end for arrival, end in zip(arrivals, ends, strict=False)]


def _row(metric: str, ours: str, baseline: str, ratio: str, target: str, ok: bool | None) -> str:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    return f"{metric:<36} {ours:>14} {baseline:>14} {ratio:>8} {target:>10}  {verdict}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = parser.parse_args(argv)
    rounds, follows = (60, 30) if args.quick else (300, 100)
    with tempfile.TemporaryDirectory(prefix="dstui-bench-proxy-") as temp:
        record = Path(temp) / "bench.sqlite3"
        with EmulatorServer(EmulatorConfig(ready_sessions=1, disk_quota_mb=1024)) as emulator:
            assert emulator.token is not None
            proxy = ProxyProcess(emulator.endpoint, record)
            try:
                through_s, direct_s = asyncio.run(
                    bench_execute(emulator.endpoint, proxy.endpoint, emulator.token, rounds)
                )
                transfer(proxy.endpoint, emulator.token, "warm")  # allocator warm-up
                before = proxy.status_kib("VmRSS")
                peak_reset = proxy.reset_peak()
                up_proxy, down_proxy = transfer(proxy.endpoint, emulator.token, "proxied")
                growth_mib = (proxy.status_kib("VmHWM") - before) / 1024
                up_direct, down_direct = transfer(emulator.endpoint, emulator.token, "direct")
                lags = bench_follow(proxy.endpoint, emulator.token, record, follows)
            finally:
                proxy.stop()

    header = _row("benchmark", "via proxy", "direct", "ratio", "target", None)
    print(header)
    print("-" * len(header))
    ratio = through_s / direct_s
    print(
        _row(
            "execute round trip (median)",
            f"{through_s * 1e3:.2f} ms",
            f"{direct_s * 1e3:.2f} ms",
            f"{ratio:.3f}",
            "<= 1.15",
            ratio <= 1.15,
        )
    )
    mib = TRANSFER_BYTES / 2**20
    for label, proxied, direct in (
        ("upload", up_proxy, up_direct),
        ("download", down_proxy, down_direct),
    ):
        print(
            _row(
                f"{label} 128 MiB throughput",
                f"{mib / proxied:.0f} MiB/s",
                f"{mib / direct:.0f} MiB/s",
                f"{direct / proxied:.3f}",
                "",
                None,
            )
        )
    print(
        _row(
            "128 MiB up+down: proxy RSS growth",
            f"{growth_mib:.1f} MiB",
            "",
            "",
            "<= 32 MiB",
            growth_mib <= 32,
        )
    )
    lags_ms = sorted(lag * 1e3 for lag in lags)
    p95 = lags_ms[int(len(lags_ms) * 0.95) - 1]
    print(
        _row(
            f"--follow lag, {len(lags_ms)} exchanges",
            f"{statistics.median(lags_ms):.0f} ms median",
            f"{p95:.0f} ms p95",
            "",
            "",
            None,
        )
    )
    if not peak_reset:
        print("note: VmHWM could not be reset; the RSS growth includes the start-up peak")
    print("\nThe follower polls every 0.1 s, as `dstui trace --follow` does.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
