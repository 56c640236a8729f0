"""Executions: sync, async polling, body wrapping, both shapes, validation, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from dstui.api import (
    BadRequestError,
    ExecutionStatus,
    MalformedResponseError,
    RequestTimeoutError,
    RequestValidationError,
    RetryPolicy,
)
from dstui.api.run_options import RunOptions
from tests.api.conftest import (
    ENDPOINT,
    POOL_PATH,
    FakeTime,
    Recorder,
    error,
    make_client,
    ok_json,
    queue,
)


def _running(execution_id: str = "exec-1", **headers: str) -> httpx.Response:
    body = {
        "id": execution_id,
        "identifier": "abcd-1",
        "executionType": "Asynchronous",
        "status": "Running",
    }
    return httpx.Response(202, json=body, headers=headers)


def _done(status: str = "Succeeded", stdout: str = "63\n", **headers: str) -> httpx.Response:
    body: dict[str, Any] = {
        "id": "exec-1",
        "identifier": "abcd-1",
        "status": status,
        "result": {
            "stdout": stdout,
            "stderr": "",
            "executionResult": 63,
            "executionTimeInMilliseconds": 7,
        },
    }
    return httpx.Response(200, json=body, headers=headers)


async def test_sync_execution_returns_result_and_timings() -> None:
    recorder = queue(
        _done(
            **{
                "X-Ms-Execution-Request-Time": "5010.000000",
                "X-Ms-Session-Guid": "pod-1",
                "operation-id": "exec-1",
            }
        )
    )
    async with make_client(recorder) as client:
        execution = await client.execute("abcd-1", "print(63)")
    assert execution.succeeded
    assert (execution.stdout, execution.result, execution.duration_ms) == ("63\n", 63, 7)
    assert execution.timings == {"x-ms-execution-request-time": "5010.000000"}
    assert execution.session_guid == "pod-1"
    body = recorder.sent[0].json()
    assert body == {
        "codeInputType": "Inline",
        "executionType": "Synchronous",
        "code": "print(63)",
        "timeoutInSeconds": 60,
    }


async def test_code_failure_is_not_an_http_error() -> None:
    recorder = queue(_done(status="Failed", stdout=""))
    async with make_client(recorder) as client:
        execution = await client.execute("abcd-1", "1/0")
    assert execution.status is ExecutionStatus.FAILED
    assert not execution.succeeded


@pytest.mark.parametrize(
    "location",
    [
        "/executions/exec-1?api-version=2025-10-02-preview&identifier=abcd-1",
        f"{POOL_PATH}/executions/exec-1?identifier=abcd-1",
        f"{ENDPOINT}/executions/exec-1?api-version=2025-10-02-preview&identifier=abcd-1",
    ],
)
async def test_async_execution_polls_operation_location(location: str, fake_time: FakeTime) -> None:
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock)
    recorder = queue(
        _running(**{"Operation-Location": location}),
        _running(),
        _running(),
        _done(),
    )
    seen: list[ExecutionStatus] = []
    async with make_client(recorder, policy=policy) as client:
        execution = await client.execute(
            "abcd-1",
            "print(63)",
            RunOptions(asynchronous=True),
            on_poll=lambda e: seen.append(e.status),
        )
    assert execution.succeeded
    assert seen == [ExecutionStatus.RUNNING] * 3
    assert recorder.sent[0].json()["executionType"] == "Asynchronous"
    polls = recorder.sent[1:]
    assert {(p.method, p.path) for p in polls} == {("GET", f"{POOL_PATH}/executions/exec-1")}
    assert all(
        p.query == {"api-version": "2025-10-02-preview", "identifier": "abcd-1"} for p in polls
    )
    # Backoff grows between polls.
    assert fake_time.sleeps == sorted(fake_time.sleeps)
    assert fake_time.sleeps[0] < fake_time.sleeps[-1]


async def test_async_execution_without_location_polls_by_id(fake_time: FakeTime) -> None:
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock)
    recorder = queue(_running("my-op"), _done())
    async with make_client(recorder, policy=policy) as client:
        execution = await client.execute(
            "abcd-1", "x", RunOptions(asynchronous=True, operation_id="my-op")
        )
    assert execution.succeeded
    assert recorder.sent[0].headers["operation-id"] == "my-op"
    assert recorder.sent[1].path == f"{POOL_PATH}/executions/my-op"


async def test_polling_gives_up_after_timeout_plus_grace(fake_time: FakeTime) -> None:
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock)
    recorder = Recorder(lambda request: _running())
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(RequestTimeoutError, match="still Running") as caught:
            await client.execute("abcd-1", "x", RunOptions(asynchronous=True, timeout=5))
    assert caught.value.operation_id == "exec-1"
    assert 125 - 6 <= sum(fake_time.sleeps) <= 125


async def test_cancelling_a_polled_execution_propagates_cleanly() -> None:
    polled = asyncio.Event()

    async def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            polled.set()
        return _running()

    recorder = Recorder(respond)
    async with make_client(recorder, policy=RetryPolicy()) as client:
        task = asyncio.create_task(client.execute("abcd-1", "x", RunOptions(asynchronous=True)))
        await asyncio.wait_for(polled.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert task.cancelled()


async def test_202_for_a_sync_request_is_polled(fake_time: FakeTime) -> None:
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock)
    recorder = queue(_running(**{"Operation-Location": "/executions/exec-1"}), _done())
    async with make_client(recorder, policy=policy) as client:
        execution = await client.execute("abcd-1", "x")
    assert execution.succeeded
    assert recorder.sent[1].query == {"api-version": "2025-10-02-preview", "identifier": "abcd-1"}


async def test_start_execution_returns_the_first_answer() -> None:
    recorder = queue(_running())
    async with make_client(recorder) as client:
        execution = await client.start_execution("abcd-1", "x", RunOptions(asynchronous=True))
    assert execution.status is ExecutionStatus.RUNNING
    assert len(recorder.sent) == 1


async def test_session_properties_missing_switches_wrapping_and_remembers() -> None:
    recorder = queue(
        error(400, "SessionPropertiesMissing", "properties missing"),
        _done(),
        _done(),
    )
    async with make_client(recorder) as client:
        assert not client.wraps_execution_body
        await client.execute("abcd-1", "a")
        assert client.wraps_execution_body
        await client.execute("abcd-1", "b")
    bodies = [sent.json() for sent in recorder.sent]
    assert "properties" not in bodies[0]
    assert bodies[1] == {"properties": {**bodies[0], "code": "a"}}
    assert bodies[2]["properties"]["code"] == "b"


async def test_session_properties_missing_twice_is_raised() -> None:
    recorder = queue(
        error(400, "SessionPropertiesMissing", "properties missing"),
        error(400, "SessionPropertiesMissing", "properties missing"),
    )
    async with make_client(recorder) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.execute("abcd-1", "a")
        assert not client.wraps_execution_body
    assert caught.value.code == "SessionPropertiesMissing"
    assert "body shape" in caught.value.hint
    assert len(recorder.sent) == 2


async def test_other_bad_request_is_not_retried() -> None:
    recorder = queue(error(400, "SessionRequestValidationFailed"))
    async with make_client(recorder) as client:
        with pytest.raises(BadRequestError):
            await client.execute("abcd-1", "a")
    assert len(recorder.sent) == 1


async def test_legacy_shape_end_to_end() -> None:
    answer = {
        "$id": "1",
        "properties": {
            "$id": "2",
            "status": "Success",
            "stdout": "hi\n",
            "stderr": "",
            "result": "",
            "executionTimeInMilliseconds": 33,
        },
    }
    recorder = queue(ok_json(answer))
    async with make_client(recorder, api_version="2024-02-02-preview") as client:
        execution = await client.execute(
            "abcd-1", "print('hi')", RunOptions(timeout=100, output_max_length=10)
        )
    assert execution.succeeded
    assert not execution.stdout_truncated
    sent = recorder.sent[0]
    assert sent.path == f"{POOL_PATH}/code/execute"
    assert sent.query == {"api-version": "2024-02-02-preview", "identifier": "abcd-1"}
    assert sent.json() == {
        "properties": {
            "codeInputType": "inline",
            "executionType": "synchronous",
            "code": "print('hi')",
            "timeoutInSeconds": 100,
        }
    }


async def test_legacy_shape_falls_back_to_flat_body() -> None:
    recorder = queue(
        error(400, "SessionPropertiesMissing"),
        ok_json({"properties": {"status": "Success", "stdout": "", "stderr": ""}}),
    )
    async with make_client(recorder, api_version="2024-08-02-preview") as client:
        await client.execute("abcd-1", "x")
        assert not client.wraps_execution_body
    assert recorder.sent[1].json()["codeInputType"] == "inline"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (RunOptions(asynchronous=True), "asynchronous execution needs"),
        (RunOptions(jupyter_format=True), "Jupyter-format"),
        (RunOptions(operation_id="op"), "operation-id"),
    ],
)
async def test_legacy_refuses_new_features(options: RunOptions, message: str) -> None:
    recorder = queue()
    async with make_client(recorder, api_version="2024-02-02-preview") as client:
        with pytest.raises(RequestValidationError, match=message):
            await client.execute("abcd-1", "x", options)
    assert recorder.sent == []


async def test_output_cap_sent_only_for_new_versions_and_flags_truncation() -> None:
    recorder = queue(_done(stdout="x" * 16), _done(stdout="x" * 16))
    async with make_client(recorder) as client:
        capped = await client.execute("abcd-1", "x", RunOptions(output_max_length=16))
    async with make_client(recorder, api_version="2025-02-02-preview") as client:
        older = await client.execute("abcd-1", "x", RunOptions(output_max_length=16))
    assert recorder.sent[0].json()["outputStreamsMaxLength"] == 16
    assert "outputStreamsMaxLength" not in recorder.sent[1].json()
    assert capped.stdout_truncated
    assert not older.stdout_truncated


async def test_default_cap_of_new_versions_flags_truncation() -> None:
    recorder = queue(_done(stdout="y" * 4096))
    async with make_client(recorder) as client:
        execution = await client.execute("abcd-1", "x")
    assert execution.stdout_truncated


@pytest.mark.parametrize("timeout", [0, 221, -5, True, 1.5])
async def test_timeout_range_is_checked_before_sending(timeout: Any) -> None:
    recorder = queue()
    async with make_client(recorder) as client:
        with pytest.raises(RequestValidationError, match="timeout"):
            await client.execute("abcd-1", "x", RunOptions(timeout=timeout))
    assert recorder.sent == []


@pytest.mark.parametrize("timeout", [1, 220])
async def test_timeout_bounds_are_accepted(timeout: int) -> None:
    recorder = queue(_done())
    async with make_client(recorder) as client:
        await client.execute("abcd-1", "x", RunOptions(timeout=timeout))
    assert recorder.sent[0].json()["timeoutInSeconds"] == timeout


async def test_get_execution_path_is_quoted() -> None:
    recorder = queue(_done())
    async with make_client(recorder) as client:
        await client.get_execution("abcd-1", "a b/c")
    assert recorder.sent[0].url.raw_path.startswith(f"{POOL_PATH}/executions/a%20b%2Fc?".encode())


async def test_code_with_unicode_and_lone_surrogates_is_sent() -> None:
    recorder = queue(_done(), _done())
    async with make_client(recorder) as client:
        await client.execute("abcd-1", "print('ünïcode ✓')")
        await client.execute("abcd-1", "s = '\ud800'")
    assert recorder.sent[0].json()["code"] == "print('ünïcode ✓')"
    assert recorder.sent[1].json()["code"] == "s = '\ud800'"


async def test_operation_location_on_another_host_is_not_followed(fake_time: FakeTime) -> None:
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock)
    recorder = queue(_running(**{"Operation-Location": "https://collector.example/executions/1"}))
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(MalformedResponseError, match="another origin"):
            await client.execute("abcd-1", "x", RunOptions(asynchronous=True))
    assert len(recorder.sent) == 1


async def test_image_result_end_to_end() -> None:
    image = {"type": "image", "format": "png", "base64_data": "iVBORw0KGgo="}
    body = {
        "id": "e",
        "identifier": "abcd-1",
        "status": "Succeeded",
        "result": {"executionResult": image},
    }
    recorder = queue(ok_json(body))
    async with make_client(recorder) as client:
        execution = await client.execute("abcd-1", "plt.show()")
    assert execution.image is not None
    assert execution.image.data().startswith(b"\x89PNG")
