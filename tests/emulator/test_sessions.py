"""Session lifecycle as the service behaves: implicit creation, reads, deletion, expiry, paging."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from dstui.api import (
    RateLimitedError,
    RetryPolicy,
    SessionNotFoundError,
    SessionsClient,
    StaticTokenProvider,
)
from dstui.api.constants import SESSIONS_PAGE_SIZE
from dstui.emulator import EmulatorServer
from tests.emulator.conftest import NEW, auth_headers, execute_raw
from tests.emulator_fixtures import retry_without_waiting

MakeEmulator = Callable[..., EmulatorServer]


async def test_first_request_creates_the_session(
    emulator_client: SessionsClient, ident: str
) -> None:
    with pytest.raises(SessionNotFoundError):
        await emulator_client.get_session(ident)
    assert ident not in {s.identifier for s in await emulator_client.list_sessions()}
    await emulator_client.list_files(ident)
    session = await emulator_client.get_session(ident)
    assert session.identifier == ident
    assert session.created_at is not None and session.expires_at is not None
    assert session.etag
    managed = await emulator_client.get_session(ident, management=True)
    assert managed.etag == session.etag and managed.expires_at == session.expires_at
    assert ident in {s.identifier for s in await emulator_client.list_sessions()}
    assert ident in {s.identifier for s in await emulator_client.list_sessions(management=True)}


async def test_management_reads_do_not_extend_the_cooldown(
    raw: httpx.AsyncClient, ident: str
) -> None:
    async def peek() -> dict[str, str]:
        """`.management/getSession` and the list only read; GET /session touches (below)."""
        params = {"api-version": NEW, "identifier": ident}
        return (await raw.post("/.management/getSession", params=params)).json()

    await raw.get("/files", params={"api-version": NEW, "identifier": ident})
    before = await peek()
    await asyncio.sleep(0.05)
    await raw.get("/listSessions", params={"api-version": NEW})
    after = await peek()
    assert after["lastAccessedAt"] == before["lastAccessedAt"]
    await raw.get("/files", params={"api-version": NEW, "identifier": ident})
    touched = await peek()
    assert touched["lastAccessedAt"] > before["lastAccessedAt"]
    assert touched["expiresAt"] > before["expiresAt"]


async def test_get_session_resets_the_cooldown_like_every_data_plane_request(
    raw: httpx.AsyncClient, ident: str
) -> None:
    params = {"api-version": NEW, "identifier": ident}
    await raw.get("/files", params=params)
    before = (await raw.post("/.management/getSession", params=params)).json()
    await asyncio.sleep(0.05)
    fetched = (await raw.get("/session", params=params)).json()
    assert fetched["lastAccessedAt"] > before["lastAccessedAt"]
    assert fetched["expireAt"] > before["expiresAt"]


async def test_session_shapes_on_the_wire(raw: httpx.AsyncClient, ident: str) -> None:
    await raw.get("/files", params={"api-version": NEW, "identifier": ident})
    session = (await raw.get("/session", params={"api-version": NEW, "identifier": ident})).json()
    assert set(session) == {"identifier", "createdAt", "lastAccessedAt", "expireAt", "etag"}
    managed = await raw.post(
        "/.management/getSession", params={"api-version": NEW, "identifier": ident}
    )
    assert set(managed.json()) == {"identifier", "createdAt", "lastAccessedAt", "expiresAt", "etag"}
    unknown = await raw.post(
        "/.management/getSession", params={"api-version": NEW, "identifier": f"{ident}-x"}
    )
    assert unknown.status_code == 400
    assert unknown.headers["x-ms-error-code"] == "SessionWithIdentifierNotFound"


async def test_delete_gives_a_fresh_empty_session(
    emulator_client: SessionsClient, ident: str
) -> None:
    await emulator_client.execute(ident, "secret = 1\nopen('f.txt', 'w').write('x')")
    old = await emulator_client.get_session(ident)
    await emulator_client.delete_session(ident)
    with pytest.raises(SessionNotFoundError):
        await emulator_client.get_session(ident)
    assert await emulator_client.list_files(ident) == []
    fresh = await emulator_client.execute(ident, "'secret' in dir()")
    assert fresh.result == "False"
    assert (await emulator_client.get_session(ident)).etag != old.etag


async def test_delete_and_stop_on_the_wire(raw: httpx.AsyncClient, ident: str) -> None:
    params = {"api-version": NEW, "identifier": ident}
    await raw.get("/files", params=params)
    assert (await raw.delete("/session", params=params)).status_code == 204
    missing = await raw.delete("/session", params=params)
    assert missing.json()["error"]["code"] == "SessionWithIdentifierNotFound"
    await raw.get("/files", params=params)
    stopped = await raw.post("/.management/stopSession", params=params)
    assert stopped.status_code == 200
    assert stopped.headers["content-type"].startswith("text/plain")
    assert stopped.text == f"Session {ident} in session pool emulator stopped."
    again = await raw.post("/.management/stopSession", params=params)
    assert again.json()["error"]["code"] == "SessionWithIdentifierNotFound"


async def test_cooldown_expiry_deletes_session_and_files(make_emulator: MakeEmulator) -> None:
    server = make_emulator(cooldown_s=1.5, auth=False)
    async with httpx.AsyncClient(base_url=server.endpoint, timeout=60) as client:
        params = {"api-version": NEW, "identifier": "short-lived"}
        await client.post("/files", params=params, files={"file": ("a.txt", b"a")})
        assert server.state is not None
        data_dir = server.state.pool.sessions["short-lived"].container.data_dir
        assert (data_dir / "a.txt").exists()
        await asyncio.sleep(0.9)
        await client.get("/files", params=params)  # resets the cooldown
        await asyncio.sleep(0.9)
        assert (await client.get("/session", params=params)).status_code == 200
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and data_dir.exists():
            await asyncio.sleep(0.1)
        assert not data_dir.exists()
        gone = await client.get("/session", params=params)
        assert gone.json()["error"]["code"] == "SessionWithIdentifierNotFound"
        assert (await client.get("/listSessions", params={"api-version": NEW})).json() == {
            "sessions": []
        }
        assert (await client.get("/files", params=params)).json()["value"] == []


async def test_max_sessions_answers_429(make_emulator: MakeEmulator) -> None:
    server = make_emulator(max_sessions=2)
    async with httpx.AsyncClient(
        base_url=server.endpoint, headers=auth_headers(server), timeout=60
    ) as client:
        for identifier in ("pool-one", "pool-two"):
            assert (
                await client.get("/files", params={"api-version": NEW, "identifier": identifier})
            ).status_code == 200
        refused = await client.get(
            "/files", params={"api-version": NEW, "identifier": "pool-three"}
        )
        assert refused.status_code == 429
        assert refused.headers["retry-after"].isdigit()
        assert refused.json()["error"]["code"] == refused.headers["x-ms-error-code"]
        # Existing sessions still work; deleting one frees a slot.
        assert (
            await client.get("/files", params={"api-version": NEW, "identifier": "pool-one"})
        ).status_code == 200
        await client.delete("/session", params={"api-version": NEW, "identifier": "pool-one"})
        assert (
            await client.get("/files", params={"api-version": NEW, "identifier": "pool-three"})
        ).status_code == 200
    assert server.token is not None
    async with SessionsClient(
        server.endpoint,
        auth=StaticTokenProvider(server.token),
        retry=RetryPolicy(max_attempts=1),
    ) as sessions_client:
        with pytest.raises(RateLimitedError) as caught:
            await sessions_client.list_files("pool-four")
    assert caught.value.retry_after is not None


async def test_pages_of_300_with_next_links(make_emulator: MakeEmulator) -> None:
    server = make_emulator(auth=False)
    total = SESSIONS_PAGE_SIZE + 20
    async with httpx.AsyncClient(base_url=server.endpoint, timeout=60) as client:
        for index in range(total):
            await client.get(
                "/files", params={"api-version": NEW, "identifier": f"page-{index:04d}"}
            )
        first = (await client.get("/listSessions", params={"api-version": NEW})).json()
        assert len(first["sessions"]) == SESSIONS_PAGE_SIZE
        second = (await client.get(first["nextLink"])).json()
        assert "nextLink" not in second
        listed = [s["identifier"] for s in first["sessions"] + second["sessions"]]
        assert listed == [f"page-{index:04d}" for index in range(total)]
        managed = (
            await client.post("/.management/listSessions", params={"api-version": NEW})
        ).json()
        assert managed["count"] == SESSIONS_PAGE_SIZE
        assert "api-version" not in managed["nextLink"]
        assert managed["nextLink"].endswith(f"/.management/listSessions?skip={SESSIONS_PAGE_SIZE}")
        rest = (await client.post(f"{managed['nextLink']}&api-version={NEW}")).json()
        assert rest["count"] == 20 and rest["nextLink"] is None
    async with SessionsClient(
        server.endpoint, auth=None, retry=retry_without_waiting()
    ) as sessions_client:
        assert len(await sessions_client.list_sessions()) == total
        assert len(await sessions_client.list_sessions(management=True)) == total


async def test_first_execution_uses_a_ready_kernel(make_emulator: MakeEmulator) -> None:
    server = make_emulator(ready_sessions=1, auth=False)
    assert server.state is not None
    deadline = time.monotonic() + 30
    while server.state.pool.ready_count < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    async with httpx.AsyncClient(base_url=server.endpoint, timeout=60) as client:
        response = await execute_raw(client, "warm-start", "print('fast')")
    assert response.json()["result"]["stdout"] == "fast\n"
    assert response.headers["x-ms-allocation-time"] == "0"
    assert response.headers["x-ms-new-allocation"] == "true"
