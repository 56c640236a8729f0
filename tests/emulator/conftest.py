"""Helpers for the emulator's own tests: raw HTTP access and short-lived dedicated emulators."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from dstui.emulator import EmulatorServer

NEW = "2025-10-02-preview"
OLD = "2024-02-02-preview"


def auth_headers(server: EmulatorServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token}"} if server.token else {}


@pytest.fixture
def ident() -> str:
    """A fresh session identifier per test, so tests never share a session by accident."""
    return f"t-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def raw(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """Plain httpx on the shared emulator, with its token, for wire-level checks."""
    async with httpx.AsyncClient(
        base_url=emulator.endpoint, headers=auth_headers(emulator), timeout=60
    ) as client:
        yield client


async def execute_raw(
    client: httpx.AsyncClient, identifier: str, code: str, **fields: Any
) -> httpx.Response:
    return await client.post(
        "/executions",
        params={"api-version": NEW, "identifier": identifier},
        json={"codeInputType": "Inline", "executionType": "Synchronous", "code": code, **fields},
    )
