"""What passes through the proxy comes back as the upstream sent it: statuses, headers, error
envelopes, faults, and bodies that stream instead of being buffered. Odd requests are still
forwarded, and recorded as odd."""

from __future__ import annotations

import hashlib
import random
import socket
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dstui.emulator import EmulatorServer
from dstui.proxy import ProxyServer
from tests.proxy.conftest import recording_bytes, wait_for_rows

NEW = "2025-10-02-preview"
MakeProxy = Callable[..., ProxyServer]
MakeEmulator = Callable[..., EmulatorServer]
# Headers a hop may rightly differ in: framing and the connection itself.
_FRAMING = {"connection", "keep-alive", "transfer-encoding"}


def _comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    volatile = {"date", "x-ms-client-request-id", "x-ms-request-id", *_FRAMING}
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k not in volatile)
    return response.status_code, headers, response.content


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_error_envelopes_come_back_unchanged(
    emulator: EmulatorServer, make_proxy: MakeProxy
) -> None:
    assert emulator.token is not None
    proxy = make_proxy(emulator.endpoint)
    asks = [
        ("GET", "/files/absent.txt", {"api-version": NEW, "identifier": "no-such-session"}),
        ("GET", "/executions/none", {"api-version": NEW, "identifier": "no-such-session"}),
        ("GET", "/listSessions", {"api-version": "1999-01-01"}),
        ("GET", "/no/such/route", {"api-version": NEW}),
    ]
    with (
        httpx.Client(base_url=emulator.endpoint, headers=_headers(emulator.token)) as direct,
        httpx.Client(base_url=proxy.endpoint, headers=_headers(emulator.token)) as proxied,
    ):
        for method, path, params in asks:
            expected = direct.request(method, path, params=params)
            got = proxied.request(method, path, params=params)
            assert expected.status_code >= 400
            assert _comparable(got) == _comparable(expected), path
        unauthorized = proxied.get("/metadata", params={"api-version": NEW}, headers={})
        missing_token = direct.get("/metadata", params={"api-version": NEW}, headers={})
    assert unauthorized.status_code == 200  # the client's own header was forwarded
    assert missing_token.status_code == 200
    assert proxy.store is not None
    rows = wait_for_rows(proxy.store, len(asks) + 1)
    assert len(rows) == len(asks) + 1
    assert all(r.status is not None and r.status >= 400 for r in rows[: len(asks)])
    assert all(r.error_code for r in rows[: len(asks)])  # each envelope's code, recorded


def test_injected_faults_pass_through(make_emulator: MakeEmulator, make_proxy: MakeProxy) -> None:
    upstream = make_emulator(auth=False, faults="503=1.0")
    proxy = make_proxy(upstream.endpoint)
    with (
        httpx.Client(base_url=proxy.endpoint) as proxied,
        httpx.Client(base_url=upstream.endpoint) as direct,
    ):
        got = proxied.get("/metadata", params={"api-version": NEW})
        expected = direct.get("/metadata", params={"api-version": NEW})
    assert got.status_code == 503 and got.headers["retry-after"] == "1"
    assert _comparable(got) == _comparable(expected)
    assert got.json()["error"]["code"] == "ServiceUnavailable"
    assert proxy.store is not None
    (row,) = wait_for_rows(proxy.store, 1)
    assert (row.status, row.error_code) == (503, "ServiceUnavailable")


def _seed_where(outcomes: list[bool], rate: float) -> int:
    """A seed for which request i is dropped exactly when outcomes[i] (two draws a request)."""
    for seed in range(10_000):
        draws = random.Random(seed)
        rolls = [(draws.random(), draws.random())[0] for _ in outcomes]
        if [roll < rate for roll in rolls] == outcomes:
            return seed
    raise AssertionError("no seed found")


def test_upstream_dropping_mid_download_cuts_the_client_too(
    make_emulator: MakeEmulator, make_proxy: MakeProxy
) -> None:
    # The upload (direct) goes through whole; the download (through the proxy) is dropped
    # after half of its first chunk.
    seed = _seed_where([False, True], 0.5)
    upstream = make_emulator(auth=False, faults="drop=0.5", seed=seed)
    proxy = make_proxy(upstream.endpoint)
    params = {"api-version": NEW, "identifier": "drop-test"}
    content = bytes(range(256)) * 4096
    with httpx.Client(base_url=upstream.endpoint) as direct:
        uploaded = direct.post("/files", params=params, files={"file": ("big.bin", content)})
        assert uploaded.status_code in (200, 201, 202), uploaded.text
    with httpx.Client(base_url=proxy.endpoint) as proxied:
        with pytest.raises(httpx.RemoteProtocolError):
            proxied.get("/files/big.bin/content", params=params)
        assert proxied.get("/metadata", params={"api-version": NEW}).status_code == 200
    assert proxy.store is not None
    dropped = next(r for r in wait_for_rows(proxy.store, 2) if r.operation == "download")
    assert dropped.status is None
    assert dropped.error is not None and "aborted" in dropped.error
    assert 0 < dropped.bytes_received < len(content)


def test_client_leaving_mid_upload_is_recorded_and_harmless(
    emulator: EmulatorServer, make_proxy: MakeProxy
) -> None:
    assert emulator.token is not None
    proxy = make_proxy(emulator.endpoint)
    port = int(proxy.endpoint.rsplit(":", 1)[1])
    boundary = "b0undary"
    head = (
        f"POST /files?api-version={NEW}&identifier=leaver HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {emulator.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {10 * 1024 * 1024}\r\n\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(head + b"\0" * 512 * 1024)
    assert proxy.store is not None
    (row,) = wait_for_rows(proxy.store, 1)
    assert row.operation == "upload" and row.file_name == "half.bin"
    assert row.status is None and row.error is not None and "went away" in row.error
    assert row.file_size is None and row.file_sha256 is None
    with httpx.Client(base_url=proxy.endpoint, headers=_headers(emulator.token)) as proxied:
        listing = proxied.get("/files", params={"api-version": NEW, "identifier": "leaver"})
    assert listing.status_code == 200
    assert "half.bin" not in listing.text


def test_malformed_requests_are_forwarded_and_recorded(
    emulator: EmulatorServer, make_proxy: MakeProxy
) -> None:
    assert emulator.token is not None
    proxy = make_proxy(emulator.endpoint)
    params = {"api-version": NEW, "identifier": "malformed"}
    with (
        httpx.Client(base_url=emulator.endpoint, headers=_headers(emulator.token)) as direct,
        httpx.Client(base_url=proxy.endpoint, headers=_headers(emulator.token)) as proxied,
    ):
        body = b'{"code": "1+1", '
        json_type = {"content-type": "application/json"}
        expected = direct.post("/executions", params=params, content=body, headers=json_type)
        got = proxied.post("/executions", params=params, content=body, headers=json_type)
        odd = proxied.request("PATCH", "/executions", params=params)
        odd_direct = direct.request("PATCH", "/executions", params=params)
    assert _comparable(got) == _comparable(expected)
    assert _comparable(odd) == _comparable(odd_direct)
    assert proxy.store is not None
    bad, unknown = wait_for_rows(proxy.store, 2)
    assert bad.operation == "execute" and bad.status == got.status_code
    assert bad.error is not None and "not valid JSON" in bad.error
    assert bad.request_body == body.decode()
    assert unknown.operation == "unknown" and unknown.error is not None


def test_streams_are_not_buffered(
    emulator: EmulatorServer, make_proxy: MakeProxy, tmp_path: Path
) -> None:
    """48 MiB up and down through the proxy (client, proxy and emulator all in this process)
    while Python's allocations stay far below the body's size: nothing holds it whole."""
    assert emulator.token is not None
    proxy = make_proxy(emulator.endpoint)
    params = {"api-version": NEW, "identifier": "streaming"}
    size = 48 * 1024 * 1024
    tracemalloc.start()
    try:
        peak = _transfer(proxy.endpoint, emulator.token, params, size)
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"{peak / 2**20:.1f} MiB allocated at once"
    assert proxy.store is not None
    upload, download = wait_for_rows(proxy.store, 2)
    assert upload.file_size == size and download.file_size == size
    assert upload.file_sha256 == download.file_sha256


def _transfer(endpoint: str, token: str, params: dict[str, str], size: int) -> int:
    """Upload then download `size` bytes; the peak of traced allocations above the start."""
    baseline = tracemalloc.get_traced_memory()[0]
    with httpx.Client(base_url=endpoint, headers=_headers(token), timeout=60) as proxied:

        def body() -> object:
            yield b'--s\r\nContent-Disposition: form-data; name="file"; filename="s.bin"\r\n\r\n'
            chunk = b"z" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                yield chunk
            yield b"\r\n--s--\r\n"

        up = proxied.post(
            "/files",
            params=params,
            content=body(),  # type: ignore[arg-type]
            headers={"content-type": "multipart/form-data; boundary=s"},
        )
        assert up.status_code in (200, 201, 202), up.text
        with proxied.stream("GET", "/files/s.bin/content", params=params) as down:
            chunks = 0
            received = 0
            for chunk in down.iter_raw():
                chunks += 1
                received += len(chunk)
    assert received == size
    assert chunks > 8  # arrived in pieces, as sent
    return tracemalloc.get_traced_memory()[1] - baseline


def test_multipart_under_a_json_content_type_is_recorded_as_a_file(
    emulator: EmulatorServer, make_proxy: MakeProxy
) -> None:
    """Semantic Kernel uploads multipart under `Content-Type: application/json`: the proxy
    forwards it as is and records a file (name, size, checksum), never its bytes as a body."""
    assert emulator.token is not None
    proxy = make_proxy(emulator.endpoint)
    secret_content = b"region,total\nwest,42\n" * 10
    body = (
        b'--sk\r\nContent-Disposition: form-data; name="file"; filename="sales.csv"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + secret_content + b"\r\n--sk--\r\n"
    )
    with httpx.Client(base_url=proxy.endpoint, headers=_headers(emulator.token)) as proxied:
        answer = proxied.post(
            "/files/upload",
            params={"api-version": "2024-02-02-preview", "identifier": "sk-shaped"},
            content=body,
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 200, answer.text
    assert proxy.store is not None
    (row,) = wait_for_rows(proxy.store, 1)
    assert (row.operation, row.file_name) == ("upload", "sales.csv")
    assert row.file_size == len(secret_content)
    assert row.file_sha256 == hashlib.sha256(secret_content).hexdigest()
    assert row.request_body is None
    assert b"west,42" not in recording_bytes(proxy.store.path)
