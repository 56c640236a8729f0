"""Retry policy: what is retried, how long it waits, and that code never runs twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dstui.api import RateLimitedError, RetryPolicy, ServerError, TransportError
from tests.api.conftest import FakeTime, error, make_client, ok_json, queue

METADATA: dict[str, Any] = {
    "runtimes": [],
    "preInstalledPackages": [],
    "createdAt": None,
    "lastUpdatedAt": None,
}
DONE = {"id": "e", "identifier": "abcd-1", "status": "Succeeded", "result": {"stdout": "ok"}}


async def test_503_on_get_is_retried_with_growing_backoff(
    policy: RetryPolicy, fake_time: FakeTime
) -> None:
    recorder = queue(error(503), error(503), ok_json(METADATA))
    async with make_client(recorder, policy=policy) as client:
        await client.get_pool_metadata()
    assert len(recorder.sent) == 3
    assert fake_time.sleeps == [0.5, 1.0]  # random() == 1.0: the full backoff ceiling


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses_on_idempotent_calls(status: int, policy: RetryPolicy) -> None:
    recorder = queue(error(status), ok_json(METADATA))
    async with make_client(recorder, policy=policy) as client:
        await client.get_pool_metadata()
    assert len(recorder.sent) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
async def test_client_errors_are_not_retried(status: int, policy: RetryPolicy) -> None:
    recorder = queue(error(status), error(status), ok_json(METADATA))
    async with make_client(
        recorder, policy=policy, auth=None, endpoint="http://127.0.0.1:9"
    ) as client:
        with pytest.raises(Exception, match=str(status)):
            await client.get_pool_metadata()
    assert len(recorder.sent) == 1


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
async def test_server_error_after_post_executions_is_not_retried(
    status: int, policy: RetryPolicy
) -> None:
    recorder = queue(error(status), ok_json(DONE))
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(Exception, match=str(status)):
            await client.execute("abcd-1", "launch_missiles()")
    assert len(recorder.sent) == 1


async def test_429_on_post_executions_is_retried(policy: RetryPolicy) -> None:
    recorder = queue(error(429), ok_json(DONE))
    async with make_client(recorder, policy=policy) as client:
        execution = await client.execute("abcd-1", "x")
    assert execution.succeeded
    assert len(recorder.sent) == 2


async def test_connect_error_on_post_is_retried(policy: RetryPolicy) -> None:
    recorder = queue(httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), ok_json(DONE))
    async with make_client(recorder, policy=policy) as client:
        execution = await client.execute("abcd-1", "x")
    assert execution.succeeded
    assert len(recorder.sent) == 3


@pytest.mark.parametrize(
    "exc", [httpx.ReadError("reset"), httpx.RemoteProtocolError("gone"), httpx.ReadTimeout("slow")]
)
async def test_failure_after_sending_post_is_not_retried(
    exc: Exception, policy: RetryPolicy
) -> None:
    recorder = queue(exc, ok_json(DONE))
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(TransportError) as caught:
            await client.execute("abcd-1", "x")
    assert len(recorder.sent) == 1
    # Not "retry" or "check the network": the code may have run already.
    assert caught.value.hint.startswith("The request may have reached")


async def test_connect_failure_keeps_the_network_hint(policy: RetryPolicy) -> None:
    recorder = queue(*[httpx.ConnectError("refused")] * policy.max_attempts)
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(TransportError) as caught:
            await client.execute("abcd-1", "x")
    assert caught.value.hint == TransportError.default_hint


async def test_read_error_on_get_is_retried(policy: RetryPolicy) -> None:
    recorder = queue(httpx.ReadError("reset"), ok_json(METADATA))
    async with make_client(recorder, policy=policy) as client:
        await client.get_pool_metadata()
    assert len(recorder.sent) == 2


class _BodyCutOff(httpx.AsyncByteStream):
    """A 200 whose body breaks off after its first bytes (a connection dropped mid-answer)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"runtimes": ['
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def cut_off() -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/json"}, stream=_BodyCutOff())


async def test_body_cut_off_on_get_is_retried(policy: RetryPolicy) -> None:
    recorder = queue(cut_off(), ok_json(METADATA))
    async with make_client(recorder, policy=policy) as client:
        await client.get_pool_metadata()
    assert len(recorder.sent) == 2


async def test_body_cut_off_after_post_executions_is_not_retried(policy: RetryPolicy) -> None:
    # The answer was on its way: the code ran, so it must not be sent again.
    recorder = queue(cut_off(), ok_json(DONE))
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(TransportError, match="execute code"):
            await client.execute("abcd-1", "launch_missiles()")
    assert len(recorder.sent) == 1


async def test_upload_after_500_is_not_retried_but_after_429_is(
    policy: RetryPolicy, tmp_path: Path
) -> None:
    local = tmp_path / "f.txt"
    local.write_text("xyz")  # not hex: the random boundary cannot contain it
    answer = {"name": "f.txt", "type": "File", "sizeInBytes": 3}
    recorder = queue(error(500), error(429), ok_json(answer))
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(ServerError):
            await client.upload_file("abcd-1", local)
        await client.upload_file("abcd-1", local)
    assert len(recorder.sent) == 3
    assert all(sent.body.count(b"xyz") == 1 for sent in recorder.sent)


async def test_retry_after_seconds_is_honoured(policy: RetryPolicy, fake_time: FakeTime) -> None:
    recorder = queue(error(429, retry_after="3"), ok_json(METADATA))
    async with make_client(recorder, policy=policy) as client:
        await client.get_pool_metadata()
    assert fake_time.sleeps == [3.0]


async def test_retry_after_http_date_is_honoured(fake_time: FakeTime) -> None:
    fake_time.now = 0.0
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock)
    date = "Wed, 21 Oct 2099 07:28:00 GMT"
    recorder = queue(error(503, retry_after=date), ok_json(METADATA))
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(ServerError):  # far beyond the 30 s budget: give up at once
            await client.get_pool_metadata()
    assert fake_time.sleeps == []
    assert len(recorder.sent) == 1


async def test_attempts_are_bounded(policy: RetryPolicy, fake_time: FakeTime) -> None:
    recorder = queue(*[error(503)] * 10)
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(ServerError):
            await client.get_pool_metadata()
    assert len(recorder.sent) == policy.max_attempts
    assert len(fake_time.sleeps) == policy.max_attempts - 1


async def test_total_budget_is_bounded(fake_time: FakeTime) -> None:
    policy = RetryPolicy(
        max_attempts=50,
        base_delay=1,
        max_delay=4,
        total_budget_s=10,
        jitter=False,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    recorder = queue(*[error(503)] * 50)
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(ServerError):
            await client.get_pool_metadata()
    assert sum(fake_time.sleeps) <= 10
    assert fake_time.sleeps == [1, 2, 4]


async def test_rate_limited_error_carries_retry_after_when_exhausted(policy: RetryPolicy) -> None:
    recorder = queue(*[error(429, retry_after="1")] * 4)
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.get_pool_metadata()
    assert caught.value.retry_after == 1.0


def test_full_jitter_uses_the_injected_random() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, random=lambda: 0.25)
    assert [policy.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.25, 0.5, 1.0, 2.0, 2.0]


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"base_delay": -1.0}, {"total_budget_s": -0.5}]
)
def test_nonsense_policies_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)
