"""Token providers, refresh before expiry, single-flight, and the 401-refresh-once path."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken

from dstui.api import (
    AuthenticationError,
    AzureCredentialTokenProvider,
    RequestValidationError,
    SessionsClient,
    StaticTokenProvider,
    make_token_provider,
)
from dstui.api.auth import token_identity
from dstui.api.constants import TOKEN_SCOPE
from dstui.emulator import EmulatorServer
from tests.api.conftest import ENDPOINT, TOKEN, error, make_client, ok_json, queue


class FakeCredential:
    """A sync credential handing out numbered tokens, counting calls and their threads."""

    def __init__(self, lifetime: float, clock: list[float], delay: float = 0.0) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self.delay = delay
        self.calls: list[tuple[str, ...]] = []
        self.threads: set[int] = set()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.threads.add(threading.get_ident())
        if self.delay:
            threading.Event().wait(self.delay)
        self.calls.append(scopes)
        return AccessToken(f"token-{len(self.calls)}", int(self.clock[0] + self.lifetime))


async def test_token_is_cached_and_refreshed_five_minutes_before_expiry() -> None:
    now = [1_000_000.0]
    credential = FakeCredential(lifetime=3600, clock=now)
    provider = AzureCredentialTokenProvider(credential, clock=lambda: now[0])
    assert await provider.get_token() == "token-1"
    now[0] += 3600 - 301
    assert await provider.get_token() == "token-1"
    now[0] += 2  # now inside the 5-minute margin
    assert await provider.get_token() == "token-2"
    assert credential.calls == [(TOKEN_SCOPE,), (TOKEN_SCOPE,)]


async def test_credential_runs_off_the_event_loop_thread() -> None:
    credential = FakeCredential(lifetime=3600, clock=[0.0])
    provider = AzureCredentialTokenProvider(credential, clock=lambda: 0.0)
    await provider.get_token()
    assert threading.get_ident() not in credential.threads


async def test_concurrent_callers_share_one_refresh() -> None:
    credential = FakeCredential(lifetime=3600, clock=[0.0], delay=0.05)
    provider = AzureCredentialTokenProvider(credential, clock=lambda: 0.0)
    tokens = await asyncio.gather(*(provider.get_token() for _ in range(10)))
    assert set(tokens) == {"token-1"}
    assert len(credential.calls) == 1


async def test_invalidate_forces_a_new_token() -> None:
    credential = FakeCredential(lifetime=3600, clock=[0.0])
    provider = AzureCredentialTokenProvider(credential, clock=lambda: 0.0)
    await provider.get_token()
    provider.invalidate()
    assert await provider.get_token() == "token-2"


async def test_credential_failure_becomes_authentication_error() -> None:
    class Failing:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            raise RuntimeError(f"Please run 'az login'. Bearer {TOKEN}")

    provider = AzureCredentialTokenProvider(Failing())
    with pytest.raises(AuthenticationError) as caught:
        await provider.get_token()
    assert "az login" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_401_refreshes_the_token_once_and_retries() -> None:
    credential = FakeCredential(lifetime=3600, clock=[0.0])
    provider = AzureCredentialTokenProvider(credential, clock=lambda: 0.0)
    recorder = queue(error(401), ok_json({"identifier": "abcd-1"}))
    async with make_client(recorder, auth=provider) as client:
        session = await client.get_session("abcd-1")
    assert session.identifier == "abcd-1"
    assert [s.headers["authorization"] for s in recorder.sent] == [
        "Bearer token-1",
        "Bearer token-2",
    ]


async def test_second_401_is_raised_with_hint() -> None:
    credential = FakeCredential(lifetime=3600, clock=[0.0])
    provider = AzureCredentialTokenProvider(credential, clock=lambda: 0.0)
    recorder = queue(error(401), error(401), ok_json({}))
    async with make_client(recorder, auth=provider) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.get_session("abcd-1")
    assert len(recorder.sent) == 2
    assert "az login" in caught.value.hint


async def test_401_on_a_streamed_upload_resends_the_whole_file(tmp_path: Path) -> None:
    credential = FakeCredential(lifetime=3600, clock=[0.0])
    provider = AzureCredentialTokenProvider(credential, clock=lambda: 0.0)
    local = tmp_path / "f.bin"
    payload = bytes(range(256)) * 4000
    local.write_bytes(payload)
    recorder = queue(error(401), ok_json({"name": "f.bin", "type": "File"}))
    async with make_client(recorder, auth=provider) as client:
        await client.upload_file("abcd-1", local)
    assert len(recorder.sent) == 2
    for sent in recorder.sent:
        assert payload in sent.body
        assert int(sent.headers["content-length"]) == len(sent.body)
    assert recorder.sent[1].headers["authorization"] == "Bearer token-2"


async def test_401_on_execute_is_retried_once() -> None:
    credential = FakeCredential(lifetime=3600, clock=[0.0])
    provider = AzureCredentialTokenProvider(credential, clock=lambda: 0.0)
    done = {"id": "e", "identifier": "abcd-1", "status": "Succeeded"}
    recorder = queue(error(401), ok_json(done))
    async with make_client(recorder, auth=provider) as client:
        assert (await client.execute("abcd-1", "x")).succeeded


def test_static_provider_hides_its_token() -> None:
    provider = StaticTokenProvider(f"  {TOKEN}\n")
    assert TOKEN not in repr(provider)
    assert asyncio.run(provider.get_token()) == TOKEN
    with pytest.raises(RequestValidationError, match="empty"):
        StaticTokenProvider("   ")


def test_make_token_provider_kinds(tmp_path: Path) -> None:
    assert make_token_provider("none") is None
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\n")
    from_file = make_token_provider("token", token_file=token_file)
    assert isinstance(from_file, StaticTokenProvider)
    assert asyncio.run(from_file.get_token()) == TOKEN
    assert isinstance(make_token_provider("token", token="abc"), StaticTokenProvider)
    for kind in ("default", "cli", "device-code", "managed-identity"):
        assert isinstance(make_token_provider(kind), AzureCredentialTokenProvider)
    with pytest.raises(RequestValidationError, match="unknown auth kind"):
        make_token_provider("kerberos")
    with pytest.raises(RequestValidationError, match="needs a bearer token"):
        make_token_provider("token")
    with pytest.raises(RequestValidationError, match="cannot read the token file"):
        make_token_provider("token", token_file=tmp_path / "missing")


def test_no_auth_only_for_loopback() -> None:
    with pytest.raises(RequestValidationError, match="without authentication"):
        SessionsClient(ENDPOINT, auth=None)
    for endpoint in (
        "http://127.0.0.1:8000",
        "http://localhost:1",
        "http://[::1]:9",
        "https://127.0.0.5",
    ):
        client = SessionsClient(
            endpoint, auth=None, transport=httpx.MockTransport(lambda r: httpx.Response(200))
        )
        assert client.endpoint == endpoint
        asyncio.run(client.aclose())


async def test_no_auth_sends_no_authorization_header() -> None:
    recorder = queue(ok_json({"identifier": "abcd-1"}))
    async with make_client(recorder, auth=None, endpoint="http://127.0.0.1:8080") as client:
        await client.get_session("abcd-1")
    assert "authorization" not in recorder.sent[0].headers


def _jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT-shaped token carrying these claims (only the payload is ever read)."""

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.signature"


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"upn": "ada@contoso.com", "appid": "x"}, "ada@contoso.com"),
        ({"preferred_username": "grace@contoso.com"}, "grace@contoso.com"),
        ({"appid": "0b9d-4c55", "oid": "1"}, "app 0b9d-4c55"),
        ({"app_displayname": "nightly-agent", "appid": "0b9d"}, "app nightly-agent"),
        ({"upn": "evil\x1b[31m@contoso.com"}, "evil[31m@contoso.com"),
        ({"oid": "only-an-object-id"}, None),
    ],
)
def test_token_identity_reads_who_the_token_names(
    claims: dict[str, Any], expected: str | None
) -> None:
    assert token_identity(_jwt(claims)) == expected


@pytest.mark.parametrize("token", ["opaque-emulator-token", "a.b.c", "a.!!!.c", _jwt({})[:-1]])
def test_token_identity_of_anything_else_is_none(token: str) -> None:
    assert token_identity(token) is None


async def test_client_names_the_signed_in_identity_without_exposing_the_token() -> None:
    token = _jwt({"upn": "ada@contoso.com"})
    async with SessionsClient(ENDPOINT, auth=StaticTokenProvider(token)) as client:
        assert await client.signed_in_identity() == "ada@contoso.com"
    async with SessionsClient("http://127.0.0.1:9", auth=None) as client:
        assert await client.signed_in_identity() is None


async def test_a_401_from_the_local_emulator_names_its_token_not_az_login(
    emulator: EmulatorServer,
) -> None:
    wrong = StaticTokenProvider("not-the-emulator-token")
    async with SessionsClient(emulator.endpoint, auth=wrong) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_sessions_page()
    assert caught.value.status == 401
    assert "DSTUI_TOKEN" in caught.value.hint and "banner" in caught.value.hint
    assert "local emulator" in str(caught.value)
