"""The proxy is no open door: loopback only, one upstream, local Host headers, and with
--auth its own token, since it then lends the operator's credential."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import httpx
import pytest
import uvicorn

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.api.errors import AuthenticationError, DynamicSessionsError
from dstui.emulator import EmulatorServer
from dstui.proxy import ProxyOptions, ProxyServer
from dstui.proxy.forward import Forwarder, _RequestBody
from dstui.proxy.server import ProxyConfigError
from tests.proxy.conftest import recording_bytes, wait_for_rows

NEW = "2025-10-02-preview"
MakeProxy = Callable[..., ProxyServer]


def test_auth_mode_requires_the_proxys_own_token(
    emulator: EmulatorServer, make_proxy: MakeProxy
) -> None:
    assert emulator.token is not None
    proxy = make_proxy(emulator.endpoint, upstream_auth=StaticTokenProvider(emulator.token))
    assert proxy.client_token is not None and proxy.client_token != emulator.token
    params = {"api-version": NEW}
    with httpx.Client(base_url=proxy.endpoint) as client:
        anonymous = client.get("/metadata", params=params)
        borrowed = client.get(
            "/metadata", params=params, headers={"Authorization": f"Bearer {emulator.token}"}
        )
        own = client.get(
            "/metadata", params=params, headers={"Authorization": f"Bearer {proxy.client_token}"}
        )
    assert anonymous.status_code == 401 and borrowed.status_code == 401
    assert anonymous.json()["error"]["code"] == "ProxyUnauthorized"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert own.status_code == 200, own.text  # the proxy attached the upstream's token
    assert proxy.store is not None
    wait_for_rows(proxy.store, 3)
    stored = recording_bytes(proxy.store.path)
    assert emulator.token.encode() not in stored
    assert proxy.client_token.encode() not in stored


def test_foreign_host_headers_and_absolute_targets_are_refused(
    emulator: EmulatorServer, make_proxy: MakeProxy
) -> None:
    proxy = make_proxy(emulator.endpoint)
    with httpx.Client(base_url=proxy.endpoint) as client:
        rebinding = client.get("/metadata", headers={"Host": "attacker.example:80"})
    assert rebinding.status_code == 421
    assert rebinding.json()["error"]["code"] == "ProxyInvalidHostHeader"
    port = int(proxy.endpoint.rsplit(":", 1)[1])
    targets = (b"GET http://example.com/", b"CONNECT example.com:443", b"OPTIONS *")
    for target in targets:
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.sendall(target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := raw.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400"), target
        assert b"ProxyNotAnOpenProxy" in answer, target
    assert proxy.store is not None
    rows = wait_for_rows(proxy.store, 4)
    assert [r.status for r in rows] == [421, 400, 400, 400]


@pytest.mark.parametrize(
    ("upstream", "reason"),
    [
        ("http://pool.example.com/x", "plain http"),
        ("ftp://127.0.0.1/", r"http\(s\) URL"),
        ("https://pool.example.com/?redirect=elsewhere", "without query"),
        ("not a url", r"http\(s\) URL"),
    ],
)
def test_upstreams_it_will_not_forward_to(upstream: str, reason: str) -> None:
    with pytest.raises(ProxyConfigError, match=reason):
        ProxyServer(ProxyOptions(upstream=upstream))


def test_it_binds_loopback_only() -> None:
    with pytest.raises(ProxyConfigError, match="loopback"):
        ProxyServer(ProxyOptions(upstream="https://pool.example.com", host="0.0.0.0"))


def test_an_unreachable_upstream_is_a_proxy_error(make_proxy: MakeProxy) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    proxy = make_proxy(f"http://127.0.0.1:{port}/pool")
    assert proxy.endpoint.endswith("/pool")
    with httpx.Client() as client:
        answer = client.get(f"{proxy.endpoint}/metadata", params={"api-version": NEW})
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "ProxyUpstreamUnreachable"


def test_an_execution_the_upstream_never_took_is_recorded_with_its_code(
    make_proxy: MakeProxy,
) -> None:
    """The upstream refuses the connection before it reads the body: the recording still says
    what was asked (the code), not that the request had no body."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    proxy = make_proxy(f"http://127.0.0.1:{port}/pool")
    body = {"codeInputType": "Inline", "executionType": "Synchronous", "code": "print('lost?')"}
    with httpx.Client() as client:
        answer = client.post(
            f"{proxy.endpoint}/executions",
            params={"api-version": NEW, "identifier": "agent-7"},
            json=body,
        )
    assert answer.status_code == 502
    assert proxy.store is not None
    [row] = wait_for_rows(proxy.store, 1)
    assert row.operation == "execute"
    assert row.code == "print('lost?')"
    assert row.status == 502
    assert "no JSON object body" not in (row.error or "")


def test_a_client_is_told_which_hop_refused(
    emulator: EmulatorServer, make_proxy: MakeProxy
) -> None:
    """The proxy's own refusals reach a dstui client with advice about the proxy, not the
    generic "sign in to Azure again" or "the service failed"."""
    assert emulator.token is not None
    lending = make_proxy(emulator.endpoint, upstream_auth=StaticTokenProvider(emulator.token))
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    stranded = make_proxy(f"http://127.0.0.1:{port}/pool")

    async def refusals() -> tuple[DynamicSessionsError, DynamicSessionsError]:
        found = []
        for endpoint in (lending.endpoint, stranded.endpoint):
            client = SessionsClient(endpoint, auth=StaticTokenProvider(emulator.token or ""))
            async with client:
                with pytest.raises(DynamicSessionsError) as refused:
                    await client.execute("agent-7", "print(1)")
            found.append(refused.value)
        return found[0], found[1]

    unauthorized, unreachable = asyncio.run(refusals())
    assert unauthorized.code == "ProxyUnauthorized"
    assert unauthorized.hint is not None and "the bearer token it printed" in unauthorized.hint
    assert unreachable.code == "ProxyUpstreamUnreachable"
    assert unreachable.hint is not None and "--upstream" in unreachable.hint
    assert "may have reached the pool" in unreachable.hint


class _NoToken:
    async def get_token(self) -> str:
        raise AuthenticationError("could not get a token: the sign-in expired", hint="az login")

    def invalidate(self) -> None:
        pass


def test_no_upstream_token_is_a_clear_proxy_error(
    emulator: EmulatorServer, make_proxy: MakeProxy
) -> None:
    proxy = make_proxy(emulator.endpoint, upstream_auth=_NoToken())
    with httpx.Client(base_url=proxy.endpoint) as client:
        answer = client.get(
            "/metadata",
            params={"api-version": NEW},
            headers={"Authorization": f"Bearer {proxy.client_token}"},
        )
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert error["code"] == "ProxyUpstreamAuthFailed"
    assert "the sign-in expired" in error["message"]


def test_an_upstream_with_credentials_or_a_query_is_refused_without_echoing_them() -> None:
    for upstream in (
        "https://user:hunter2@pool.example.com",
        "https://pool.example.com/?sig=hunter2",
    ):
        with pytest.raises(ProxyConfigError) as refused:
            ProxyServer(ProxyOptions(upstream=upstream))
        assert "hunter2" not in str(refused.value)
        assert "pool.example.com" in str(refused.value)


def test_start_fails_when_the_server_stops_before_listening(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def gives_up(self: uvicorn.Server, sockets: object = None) -> None:
        return None

    monkeypatch.setattr(uvicorn.Server, "serve", gives_up)
    proxy = ProxyServer(ProxyOptions(upstream="http://127.0.0.1:9/pool"))
    with pytest.raises(RuntimeError, match="before it was listening"):
        proxy.start()


def test_chunked_framing_wins_over_a_content_length() -> None:
    """A request framed both ways (a smuggling attempt) goes on chunked, without the length
    the upstream might believe instead."""
    forwarder = Forwarder(None, httpx.URL("http://127.0.0.1:9"), None)  # type: ignore[arg-type]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/executions",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-length", b"5"),
            (b"transfer-encoding", b"chunked"),
        ],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"hello", "more_body": False}

    request = asyncio.run(forwarder._request(scope, _RequestBody(receive)))
    names = [name.lower() for name, _ in request.headers]
    assert b"content-length" not in names
    assert (b"transfer-encoding", b"chunked") in request.headers
