"""Start-up resolution: demo, embedded emulator (with a token, stopped on exit) or an endpoint."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from dstui.api import SessionsClient
from dstui.api.fake_pool import FakePool
from dstui.config import Connection
from dstui.tui import run
from dstui.tui.launch import LaunchOptions
from dstui.tui.startup import EMULATOR_LABEL, resolve_pool


def test_demo_uses_the_fake_pool() -> None:
    with resolve_pool(LaunchOptions(connection=None, demo=True)) as resolved:
        assert isinstance(resolved.pool, FakePool)
        assert "fake data" in resolved.label


@pytest.mark.slow
async def test_no_endpoint_starts_the_embedded_emulator_and_stops_it() -> None:
    with resolve_pool(LaunchOptions(connection=None)) as resolved:
        assert resolved.emulator and resolved.label.startswith(EMULATOR_LABEL)
        client = resolved.pool
        assert isinstance(client, SessionsClient)
        endpoint = client.endpoint
        assert endpoint.startswith("http://127.0.0.1:")
        page = await client.list_sessions_page()
        assert page.sessions is not None
        await client.aclose()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as raw:
            await raw.get(f"{endpoint}/listSessions")


def test_configured_endpoint_builds_a_client() -> None:
    connection = Connection(
        endpoint="https://eastus.dynamicsessions.io/subscriptions/s/sessionPools/p",
        api_version="2025-10-02-preview",
        auth="token",
        token_file=None,
        source="flag",
        profile=None,
    )
    options = LaunchOptions(connection=connection)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DSTUI_TOKEN", "t0ken-value")
        with resolve_pool(options) as resolved:
            assert isinstance(resolved.pool, SessionsClient)
            assert not resolved.emulator
            assert resolved.label == "p · eastus"  # pool and region; the endpoint is long
            assert resolved.identity == "auth token"


def test_startup_failure_is_a_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    connection = Connection(
        endpoint="https://eastus.dynamicsessions.io/p",
        api_version="2025-10-02-preview",
        auth="token",
        token_file=tmp_path / "missing.token",
        source="flag",
        profile=None,
    )
    assert run(LaunchOptions(connection=connection)) == 2
    err = capsys.readouterr().err
    assert err.startswith("dstui: ") and "Traceback" not in err
