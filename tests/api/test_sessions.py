"""Session listing (both shapes, several pages), get/delete/stop/metadata."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dstui.api import (
    MalformedResponseError,
    NotFoundError,
    RequestValidationError,
    SessionNotFoundError,
    SessionPoolAPI,
)
from tests.api.conftest import ENDPOINT, POOL_PATH, Recorder, error, make_client, ok_json, queue


def _sessions(start: int, count: int, *, management: bool) -> list[dict[str, Any]]:
    key = "expiresAt" if management else "expireAt"
    return [
        {
            "identifier": f"sess-{i:04d}",
            "createdAt": "2026-01-01T00:00:00Z",
            "lastAccessedAt": "2026-01-01T00:05:00Z",
            key: "2026-01-01T00:10:00Z",
            "etag": f"etag-{i}",
        }
        for i in range(start, start + count)
    ]


async def test_list_sessions_follows_next_links_of_every_form() -> None:
    """Absolute nextLink, relative to the pool path, and one lacking api-version."""
    recorder = queue(
        ok_json(
            {
                "sessions": _sessions(0, 3, management=False),
                "nextLink": f"{ENDPOINT}/listSessions?skip=3&api-version=2025-10-02-preview",
            }
        ),
        ok_json(
            {"sessions": _sessions(3, 3, management=False), "nextLink": "/listSessions?skip=6"}
        ),
        ok_json(
            {
                "sessions": _sessions(6, 2, management=False),
                "nextLink": f"{POOL_PATH}/listSessions?skip=8",
            }
        ),
        ok_json({"sessions": [], "nextLink": None}),
    )
    async with make_client(recorder) as client:
        pages = [page async for page in client.iter_session_pages()]
    assert [len(p.sessions) for p in pages] == [3, 3, 2, 0]
    assert [s.identifier for p in pages for s in p.sessions] == [f"sess-{i:04d}" for i in range(8)]
    assert [sent.method for sent in recorder.sent] == ["GET"] * 4
    assert {sent.path for sent in recorder.sent} == {f"{POOL_PATH}/listSessions"}
    assert [sent.query for sent in recorder.sent] == [
        {"api-version": "2025-10-02-preview"},
        {"skip": "3", "api-version": "2025-10-02-preview"},
        {"skip": "6", "api-version": "2025-10-02-preview"},
        {"skip": "8", "api-version": "2025-10-02-preview"},
    ]


async def test_management_list_pages_with_value_count_and_skip() -> None:
    recorder = queue(
        ok_json(
            {
                "value": _sessions(300, 300, management=True),
                "count": 300,
                "nextLink": f"{ENDPOINT}/.management/listSessions?skip=600",
            }
        ),
        ok_json({"value": _sessions(600, 5, management=True), "count": 5, "nextLink": None}),
    )
    async with make_client(recorder) as client:
        pages = [page async for page in client.iter_session_pages(skip=300, management=True)]
    assert [p.count for p in pages] == [300, 5]
    assert pages[1].sessions[-1].identifier == "sess-0604"
    assert all(s.expires_at is not None for p in pages for s in p.sessions)
    assert [(s.method, s.path, s.query) for s in recorder.sent] == [
        (
            "POST",
            f"{POOL_PATH}/.management/listSessions",
            {"api-version": "2025-10-02-preview", "skip": "300"},
        ),
        (
            "POST",
            f"{POOL_PATH}/.management/listSessions",
            {"skip": "600", "api-version": "2025-10-02-preview"},
        ),
    ]


async def test_list_sessions_collects_every_page() -> None:
    recorder = queue(
        ok_json({"sessions": _sessions(0, 2, management=False), "nextLink": "listSessions?skip=2"}),
        ok_json({"sessions": _sessions(2, 1, management=False)}),
    )
    async with make_client(recorder) as client:
        sessions = await client.list_sessions()
    assert [s.identifier for s in sessions] == ["sess-0000", "sess-0001", "sess-0002"]
    assert recorder.sent[1].path == f"{POOL_PATH}/listSessions"


async def test_next_link_to_another_host_is_refused() -> None:
    recorder = queue(
        ok_json({"sessions": [], "nextLink": "https://evil.example/listSessions?skip=1"}),
    )
    async with make_client(recorder) as client:
        with pytest.raises(MalformedResponseError, match="another origin"):
            await client.list_sessions()
    assert len(recorder.sent) == 1


async def test_repeating_next_link_stops() -> None:
    page = {"sessions": [], "nextLink": "/listSessions?skip=1"}
    recorder = queue(ok_json(page), ok_json(page), ok_json(page))
    async with make_client(recorder) as client:
        with pytest.raises(MalformedResponseError, match="repeats"):
            await client.list_sessions()


async def test_page_by_page_with_explicit_link() -> None:
    recorder = queue(ok_json({"value": [], "count": 0}))
    async with make_client(recorder) as client:
        page = await client.list_sessions_page(
            "https://eastus.dynamicsessions.io/subscriptions/s1/resourceGroups/rg/sessionPools/p1/"
            ".management/listSessions?skip=300",
            management=True,
        )
    assert page.sessions == ()
    assert recorder.sent[0].query == {"skip": "300", "api-version": "2025-10-02-preview"}


async def test_negative_skip_refused() -> None:
    recorder = queue()
    async with make_client(recorder) as client:
        with pytest.raises(RequestValidationError, match="skip"):
            await client.list_sessions_page(skip=-1)
    assert recorder.sent == []


async def test_get_session_management_variant() -> None:
    recorder = queue(
        ok_json(
            {
                "identifier": "user-123",
                "etag": "a1b2c3d4",
                "expiresAt": "2026-04-30T14:30:00Z",
            }
        )
    )
    async with make_client(recorder) as client:
        session = await client.get_session("user-123", management=True)
    assert session.expires_at is not None
    assert session.created_at is None
    sent = recorder.sent[0]
    assert (sent.method, sent.path) == ("POST", f"{POOL_PATH}/.management/getSession")
    assert sent.query == {"api-version": "2025-10-02-preview", "identifier": "user-123"}


async def test_unknown_session_maps_to_session_not_found() -> None:
    recorder = queue(error(400, "SessionWithIdentifierNotFound", "no session"))
    async with make_client(recorder) as client:
        with pytest.raises(SessionNotFoundError) as caught:
            await client.get_session("user-123", management=True)
    assert caught.value.status == 400
    assert "expired or was stopped" in str(caught.value)


async def test_delete_session_404_is_not_found() -> None:
    recorder = queue(error(404, None))
    async with make_client(recorder) as client:
        with pytest.raises(NotFoundError):
            await client.delete_session("user-123")


async def test_old_api_version_uses_current_version_for_session_routes() -> None:
    recorder = queue(ok_json({"sessions": []}), httpx.Response(204))
    async with make_client(recorder, api_version="2024-02-02-preview") as client:
        assert client.legacy
        await client.list_sessions()
        await client.delete_session("user-123")
    assert [s.query["api-version"] for s in recorder.sent] == ["2025-10-02-preview"] * 2


async def test_stop_session_accepts_a_json_string() -> None:
    recorder = Recorder(lambda request: httpx.Response(200, json="Session x stopped."))
    async with make_client(recorder) as client:
        assert await client.stop_session("user-123") == "Session x stopped."


async def test_metadata_that_is_not_json_is_reported() -> None:
    recorder = queue(httpx.Response(200, text="<html><b>Gateway</b></html>"))
    async with make_client(recorder) as client:
        with pytest.raises(MalformedResponseError) as caught:
            await client.get_pool_metadata()
    assert "Gateway" in str(caught.value)
    assert "<b>" not in str(caught.value)


async def test_client_satisfies_the_protocol() -> None:
    async with make_client(queue()) as client:
        assert isinstance(client, SessionPoolAPI)
        assert (client.endpoint, client.api_version) == (ENDPOINT, "2025-10-02-preview")
