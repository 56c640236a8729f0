"""Code execution end to end through the project's client and over raw HTTP."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable

import httpx
import pytest

from dstui.api import ExecutionStatus, RunOptions, SessionsClient
from dstui.emulator import EmulatorServer
from tests.api.conftest import EXAMPLES, load_example
from tests.emulator.conftest import NEW, execute_raw

# A 1x1 PNG, built by hand (matplotlib is not installed here).
TINY_PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
    "hKmMIQAAAABJRU5ErkJggg=="
)


async def test_state_persists_across_executions(
    emulator_client: SessionsClient, ident: str
) -> None:
    first = await emulator_client.execute(
        ident, "import os\nos.makedirs('work', exist_ok=True)\nos.chdir('work')\ncounter = 41"
    )
    assert first.status is ExecutionStatus.SUCCEEDED
    second = await emulator_client.execute(ident, "counter += 1\nprint(counter)\nos.getcwd()")
    assert second.stdout == "42\n"
    assert second.result == "/mnt/data/work" or second.result.endswith("/work")


async def test_result_values_follow_the_service(
    emulator_client: SessionsClient, ident: str
) -> None:
    cases = {
        "6*7": 42,
        "0.5": 0.5,
        "'nan'": "nan",
        "a = None; a": "",
        "float('nan')": None,
        "{'k': [1, 2]}": "{'k': [1, 2]}",
        "True": "True",
        "x = 1": "",
    }
    for code, expected in cases.items():
        execution = await emulator_client.execute(ident, code)
        assert execution.result == expected, code


async def test_jupyter_format_results(emulator_client: SessionsClient, ident: str) -> None:
    # Contract §5.2, from the CodeExecution_Execute_Result_*_JupyterFormat spec examples.
    cases = {"a = float('nan');a": "nan", "a = None;a": None, 'a = "nan";a': "'nan'", "6*7": "42"}
    for code, expected in cases.items():
        execution = await emulator_client.execute(ident, code, RunOptions(jupyter_format=True))
        assert execution.result == expected, code


RESULT_EXAMPLES = sorted(
    path.stem for path in (EXAMPLES / NEW).glob("CodeExecution_Execute_Result_*.json")
)


@pytest.mark.parametrize("name", RESULT_EXAMPLES)
async def test_spec_result_examples_replayed_on_the_wire(
    raw: httpx.AsyncClient, ident: str, name: str
) -> None:
    """The example's request body as sent (including one example's misspelt
    `returnJupyterFormat`) gets the example's answer, apart from ids and timings."""
    example = load_example(NEW, name)
    request = example["parameters"]["codeExecutionRequest"]
    response = await raw.post(
        "/executions", params={"api-version": NEW, "identifier": ident}, json=request
    )
    expected = example["responses"]["200"]["body"]
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["executionType"]) == (expected["status"], "Synchronous")
    for field in ("stdout", "stderr", "executionResult"):
        assert body["result"][field] == expected["result"][field], field


async def test_exception_is_a_failed_execution(emulator_client: SessionsClient, ident: str) -> None:
    execution = await emulator_client.execute(ident, "print('before')\n{}['missing']")
    assert execution.status is ExecutionStatus.FAILED
    assert execution.stdout == "before\n"
    assert "KeyError" in execution.stderr and "'missing'" in execution.stderr
    assert "\x1b[" not in execution.stderr
    after = await emulator_client.execute(ident, "print('still alive')")
    assert after.stdout == "still alive\n"


async def test_timeout_interrupts_and_keeps_the_session(
    emulator_client: SessionsClient, ident: str
) -> None:
    await emulator_client.execute(ident, "kept = 'yes'")
    execution = await emulator_client.execute(
        ident, "import time\ntime.sleep(30)", RunOptions(timeout=1)
    )
    assert execution.status is ExecutionStatus.FAILED
    assert execution.stderr == "Request timed out waiting for code execution to complete"
    after = await emulator_client.execute(ident, "kept")
    assert after.result == "yes"


async def test_image_display_comes_back_as_image_result(
    emulator_client: SessionsClient, ident: str
) -> None:
    code = (
        "import base64\nfrom IPython.display import Image, display\n"
        f"display(Image(data=base64.b64decode('{TINY_PNG_B64}')))"
    )
    execution = await emulator_client.execute(ident, code)
    assert execution.image is not None
    assert execution.image.format == "png"
    assert execution.image.data() == base64.b64decode(TINY_PNG_B64)


async def test_image_on_the_wire(raw: httpx.AsyncClient, ident: str) -> None:
    code = (
        "import base64\nfrom IPython.display import Image, display\n"
        f"display(Image(data=base64.b64decode('{TINY_PNG_B64}')))"
    )
    body = (await execute_raw(raw, ident, code)).json()
    assert body["result"]["executionResult"] == {
        "type": "image",
        "format": "png",
        "base64_data": TINY_PNG_B64,
    }


async def test_output_truncation(raw: httpx.AsyncClient, ident: str) -> None:
    code = "import sys\nprint('o' * 100)\nprint('e' * 100, file=sys.stderr)"
    body = (await execute_raw(raw, ident, code, outputStreamsMaxLength=10)).json()
    assert body["result"]["stdout"] == "o" * 10
    assert body["result"]["stderr"] == "e" * 10
    default = (await execute_raw(raw, ident, "print('x' * 5000)")).json()
    assert len(default["result"]["stdout"]) == 4096


async def test_memory_limit_aborts_and_replaces_the_kernel(
    make_emulator: Callable[..., EmulatorServer], ident: str
) -> None:
    server = make_emulator(memory_limit_mb=1024, auth=False)
    async with httpx.AsyncClient(base_url=server.endpoint, timeout=60) as client:
        await execute_raw(client, ident, "state = 1")
        body = (await execute_raw(client, ident, "hog = bytearray(3 * 1024**3)")).json()
        assert body["status"] == "Failed"
        assert body["result"]["stderr"] == "Execution aborted"
        after = (await execute_raw(client, ident, "print('recovered'); 'state' in dir()")).json()
    assert after["status"] == "Succeeded"
    assert after["result"]["stdout"] == "recovered\n"
    assert after["result"]["executionResult"] == "False"  # a fresh kernel


async def test_asynchronous_execution_polls_to_completion(
    emulator_client: SessionsClient, ident: str
) -> None:
    execution = await emulator_client.execute(
        ident,
        "import time\ntime.sleep(0.3)\n7 * 6",
        RunOptions(asynchronous=True, operation_id="op-12345"),
    )
    assert execution.id == "op-12345"
    assert execution.status is ExecutionStatus.SUCCEEDED
    assert execution.result == 42
    again = await emulator_client.get_execution(ident, "op-12345")
    assert again.result == 42


async def test_asynchronous_start_on_the_wire(raw: httpx.AsyncClient, ident: str) -> None:
    response = await raw.post(
        "/executions",
        params={"api-version": NEW, "identifier": ident},
        headers={"operation-id": "my-op-1"},
        json={
            "codeInputType": "inline",
            "executionType": "asynchronous",
            "code": "import time; time.sleep(0.5)",
        },
    )
    assert response.status_code == 202
    assert response.headers["operation-id"] == "my-op-1"
    location = response.headers["operation-location"]
    assert location.startswith("/executions/my-op-1?")
    assert response.json()["status"] == "Running"
    assert "result" not in response.json()
    for _ in range(100):
        polled = await raw.get(location)
        if polled.json()["status"] != "Running":
            break
        await asyncio.sleep(0.05)
    assert polled.json()["status"] == "Succeeded"
    missing = await raw.get("/executions/nope", params={"api-version": NEW, "identifier": ident})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ExecutionNotFound"


async def test_sync_response_headers_and_body(raw: httpx.AsyncClient, ident: str) -> None:
    response = await execute_raw(raw, ident, "print(7*9)")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "identifier", "executionType", "status", "result"}
    assert body["identifier"] == ident and body["executionType"] == "Synchronous"
    assert set(body["result"]) == {
        "stdout",
        "stderr",
        "executionResult",
        "executionTimeInMilliseconds",
    }
    assert response.headers["operation-id"] == body["id"]
    for header in (
        "x-ms-overall-execution-time",
        "x-ms-container-execution-duration",
        "x-ms-session-guid",
    ):
        assert header in response.headers
    session = await raw.get("/session", params={"api-version": NEW, "identifier": ident})
    assert response.headers["x-ms-session-guid"] == session.json()["etag"]


async def test_body_variants_are_accepted(raw: httpx.AsyncClient, ident: str) -> None:
    params = {"api-version": NEW, "identifier": ident}
    wrapped = await raw.post("/executions", params=params, json={"properties": {"code": "1+1"}})
    assert wrapped.json()["result"]["executionResult"] == 2
    encoded = base64.b64encode(b"print('b64')").decode()
    b64 = await raw.post(
        "/executions",
        params=params,
        json={"codeInputType": "INLINEBASE64", "executionType": "SYNCHRONOUS", "code": encoded},
    )
    assert b64.json()["result"]["stdout"] == "b64\n"
    capped = await raw.post(
        "/executions", params=params, json={"code": "1", "timeoutInSeconds": 999}
    )
    assert capped.status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"codeInputType": "Inline"}, "SessionPropertiesMissing"),
        ({"properties": {"executionType": "Synchronous"}}, "SessionPropertiesMissing"),
        ({"shellCommand": "ls"}, "SessionRequestNotSupported"),
        ({"code": "1", "executionType": "Sometimes"}, "SessionRequestValidationFailed"),
        ({"code": "1", "timeoutInSeconds": 0}, "SessionRequestValidationFailed"),
        ({"code": "1", "timeoutInSeconds": "10"}, "SessionRequestValidationFailed"),
        ([1, 2], "SessionRequestValidationFailed"),
    ],
)
async def test_bad_bodies(raw: httpx.AsyncClient, ident: str, body: object, code: str) -> None:
    response = await raw.post(
        "/executions", params={"api-version": NEW, "identifier": ident}, json=body
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.headers["x-ms-error-code"] == code


@pytest.mark.slow
async def test_code_that_swallows_the_interrupt_gets_a_new_kernel(
    emulator_client: SessionsClient, ident: str
) -> None:
    await emulator_client.execute(ident, "kept = 1")
    stubborn = (
        "import time\nwhile True:\n    try:\n        time.sleep(10)\n"
        "    except KeyboardInterrupt:\n        pass"
    )
    execution = await emulator_client.execute(ident, stubborn, RunOptions(timeout=1))
    assert execution.status is ExecutionStatus.FAILED
    assert execution.stderr == "Request timed out waiting for code execution to complete"
    after = await emulator_client.execute(ident, "'kept' in dir()")
    assert after.result == "False"
