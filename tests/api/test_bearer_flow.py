"""The bearer-token flow beside the retry loop: one refresh per call, a refused answer read only
so far, every attempt recorded without its token, and no record for a token never obtained."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from dstui.api import AuthenticationError
from dstui.api.bearer import REFUSED_BODY_LIMIT
from dstui.api.observer import SentExchange
from dstui.api.retry import RetryPolicy
from tests.api.conftest import error, make_client, ok_json, queue


class CountingTokens:
    """A caching provider handing out token-1, then token-2 after an invalidation, ..."""

    def __init__(self, fail: bool = False) -> None:
        self.issued = 0
        self.current: str | None = None
        self.invalidated = 0
        self.fail = fail

    async def get_token(self) -> str:
        if self.fail:
            raise AuthenticationError("could not get a token: signed out", hint="az login")
        if self.current is None:
            self.issued += 1
            self.current = f"token-{self.issued}"
        return self.current

    def invalidate(self) -> None:
        self.invalidated += 1
        self.current = None


def no_wait_policy() -> RetryPolicy:
    async def skip(_: float) -> None:
        return None

    return RetryPolicy(max_attempts=4, jitter=False, sleep=skip)


async def test_refresh_happens_once_per_call_across_retries() -> None:
    tokens = CountingTokens()
    recorder = queue(error(401), error(503), error(401), ok_json({}))
    async with make_client(recorder, auth=tokens, policy=no_wait_policy()) as client:
        with pytest.raises(AuthenticationError):
            await client.get_session("abcd-1")
    sent = [s.headers["authorization"] for s in recorder.sent]
    assert sent == ["Bearer token-1", "Bearer token-2", "Bearer token-2"]
    assert tokens.invalidated == 1


async def test_a_refused_answer_is_read_only_up_to_the_limit() -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while pulled < 50 * 1024 * 1024:
            pulled += 16 * 1024
            yield b"x" * (16 * 1024)

    recorder = queue(httpx.Response(401, content=endless()), ok_json({"identifier": "abcd-1"}))
    async with make_client(recorder, auth=CountingTokens()) as client:
        session = await client.get_session("abcd-1")
    assert session.identifier == "abcd-1"
    assert pulled <= REFUSED_BODY_LIMIT + 16 * 1024


async def test_observer_records_the_refused_attempt_and_the_retry_without_tokens() -> None:
    seen: list[SentExchange] = []
    recorder = queue(error(401), ok_json({"identifier": "abcd-1"}))
    async with make_client(recorder, auth=CountingTokens(), observer=seen.append) as client:
        await client.get_session("abcd-1")
    assert [exchange.status for exchange in seen] == [401, 200]
    for exchange in seen:
        assert "authorization" not in {name.lower() for name in exchange.request_headers}
        assert "token-" not in repr(exchange)


async def test_no_token_means_no_request_and_no_record() -> None:
    seen: list[SentExchange] = []
    recorder = queue(ok_json({}))
    client = make_client(recorder, auth=CountingTokens(fail=True), observer=seen.append)
    async with client:
        with pytest.raises(AuthenticationError, match="signed out"):
            await client.get_session("abcd-1")
    assert recorder.sent == []
    assert seen == []
