"""Helpers for the client tests: a recording MockTransport, fake time, spec examples."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from dstui.api import RetryPolicy, SessionsClient, StaticTokenProvider

# JWT-shaped so the redaction patterns are exercised; never a real credential.
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJodHRwczovL2R5bmFtaWNzZXNzaW9ucy5pbyJ9.c2VjcmV0LXNpZw"
ENDPOINT = "https://eastus.dynamicsessions.io/subscriptions/s1/resourceGroups/rg/sessionPools/p1"
POOL_PATH = "/subscriptions/s1/resourceGroups/rg/sessionPools/p1"
IDENT = "testSessionIdentifier"
EXAMPLES = Path(__file__).parent / "spec_examples"


def load_example(version: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / version / f"{name}.json").read_text())
    return data


@dataclass
class Sent:
    method: str
    url: httpx.URL
    headers: httpx.Headers
    body: bytes

    @property
    def path(self) -> str:
        return self.url.path

    @property
    def query(self) -> dict[str, str]:
        return dict(self.url.params)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    """Records every request; answers with `respond` (a function of the request)."""

    respond: Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
    sent: list[Sent] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.sent.append(Sent(request.method, request.url, request.headers, body))
        answer = self.respond(request)
        if not isinstance(answer, httpx.Response):
            answer = await answer
        return answer


def queue(*responses: httpx.Response | Exception) -> Recorder:
    """A recorder answering with the given responses (or raising the exceptions) in order."""
    pending = list(responses)

    def respond(request: httpx.Request) -> httpx.Response:
        item = pending.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return Recorder(respond)


@dataclass
class FakeTime:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def policy(fake_time: FakeTime) -> RetryPolicy:
    return RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 1.0)


def make_client(
    recorder: Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]],
    *,
    policy: RetryPolicy | None = None,
    api_version: str = "2025-10-02-preview",
    endpoint: str = ENDPOINT,
    **kwargs: Any,
) -> SessionsClient:
    kwargs.setdefault("auth", StaticTokenProvider(TOKEN))
    return SessionsClient(
        endpoint,
        api_version=api_version,
        retry=policy or RetryPolicy(max_attempts=1),
        transport=httpx.MockTransport(recorder),
        **kwargs,
    )


def ok_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def error(
    status: int, code: str | None = None, message: str = "nope", **headers: str
) -> httpx.Response:
    body = {"error": {"code": code, "message": message}} if code else {}
    extra = {key.replace("_", "-"): value for key, value in headers.items()}
    if code:
        extra.setdefault("x-ms-error-code", code)
    return httpx.Response(status, json=body, headers=extra)
