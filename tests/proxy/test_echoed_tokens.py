"""An upstream that echoes the client's credential back (in an error body, a header, even a
JSON escape it cannot encode) leaves no trace of it in the recording, its exports or output."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from dstui.api import StaticTokenProvider
from dstui.cli import main
from dstui.proxy import ProxyServer
from tests.proxy.conftest import recording_bytes, wait_for_rows

NEW = "2025-10-02-preview"
MakeProxy = Callable[..., ProxyServer]


class _Echo(BaseHTTPRequestHandler):
    """Answers 401 with the Authorization header it got, in the body and in a header."""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        seen = self.headers.get("authorization", "")
        credential = seen.partition(" ")[2]
        # `\udc80` is a lone surrogate once decoded: it must not stop the row being stored.
        body = (
            '{"error": {"code": "InvalidToken", "message": "token '
            + credential
            + ' is not valid \\udc80"}}'
        ).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("x-echoed-token", credential)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def echo_upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_token_the_upstream_echoes_is_never_recorded(
    echo_upstream: str,
    make_proxy: MakeProxy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = "opaque-" + secrets.token_hex(16)  # neither a JWT nor caught by a bearer pattern
    proxy = make_proxy(echo_upstream)
    assert proxy.store is not None
    with httpx.Client(base_url=proxy.endpoint, timeout=10) as client:
        headers = {"Authorization": f"Bearer {token}"}
        params = {"api-version": NEW, "identifier": "s1"}
        run = client.post("/executions", params=params, headers=headers, json={"code": "1"})
        listing = client.get("/files", params=params, headers=headers)
    assert run.status_code == listing.status_code == 401
    assert token in run.text  # the proxy passes the answer on unchanged

    rows = wait_for_rows(proxy.store, 2)
    assert len(rows) == 2
    assert all(row.error_message and "[redacted]" in row.error_message for row in rows)
    assert rows[0].response_headers["x-echoed-token"] == "[redacted]"

    record = proxy.store.path
    har = tmp_path / "trace.har"
    assert main(["trace", "--record", str(record), "--har", str(har)]) == 0
    assert main(["trace", "--record", str(record), "--curl", str(rows[0].id)]) == 0
    assert main(["trace", "--record", str(record), "--json"]) == 0
    assert main(["trace", "--record", str(record)]) == 0
    printed = capsys.readouterr()
    assert json.loads(har.read_text())["log"]["entries"]
    token_bytes = token.encode()
    assert token_bytes not in recording_bytes(record)
    assert token_bytes not in har.read_bytes()
    assert token not in printed.out + printed.err


def test_the_token_a_proxy_attaches_is_redacted_when_echoed(
    echo_upstream: str, make_proxy: MakeProxy
) -> None:
    upstream_token = "upstream-" + secrets.token_hex(16)
    proxy = make_proxy(echo_upstream, upstream_auth=StaticTokenProvider(upstream_token))
    assert proxy.store is not None and proxy.client_token is not None
    with httpx.Client(base_url=proxy.endpoint, timeout=10) as client:
        answer = client.get(
            "/files",
            params={"api-version": NEW, "identifier": "s1"},
            headers={"Authorization": f"Bearer {proxy.client_token}"},
        )
    assert upstream_token in answer.text  # what the upstream saw is the proxy's credential
    (row,) = wait_for_rows(proxy.store, 1)
    assert row.error_message is not None and "[redacted]" in row.error_message
    stored = recording_bytes(proxy.store.path)
    assert upstream_token.encode() not in stored
    assert proxy.client_token.encode() not in stored
