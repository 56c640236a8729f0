"""`dstui emulator --container-type Shell` over real HTTP: bash per command, files in /mnt/data.

The request/response pairs come from the official examples
CodeExecution_Execute_ShellCommand.json (E@611bae0) and
CodeExecution_Execute_ShellExecCommandAndArgs.json (E@2cba9e8), Azure/azure-rest-api-specs,
2025-10-02-preview (copies in tests/api/spec_examples, see its README for the origin).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from dstui.api.models import PoolMetadata
from dstui.emulator import EmulatorServer
from dstui.emulator import shell as shell_module
from tests.api.conftest import load_example
from tests.emulator.conftest import NEW, OLD, auth_headers
from tests.sandbox_marker import SUITE_SANDBOX


@pytest.fixture
async def http(shell_emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=shell_emulator.endpoint, headers=auth_headers(shell_emulator), timeout=30
    ) as client:
        yield client


async def run(
    http: httpx.AsyncClient, ident: str, body: dict[str, Any], version: str = NEW
) -> httpx.Response:
    params = {"api-version": version, "identifier": ident}
    return await http.post("/executions", params=params, json=body)


async def test_spec_example_shell_command_with_stdin(http: httpx.AsyncClient, ident: str) -> None:
    example = load_example(NEW, "CodeExecution_Execute_ShellCommand")
    expected = example["responses"]["200"]["body"]
    answer = await run(http, ident, example["parameters"]["codeExecutionRequest"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body.keys() == expected.keys()
    assert (body["executionType"], body["status"]) == ("Synchronous", "0")
    assert body["result"].keys() == expected["result"].keys()  # no executionResult
    assert body["result"]["stdout"] == expected["result"]["stdout"]
    assert body["result"]["stderr"] == ""
    assert answer.headers["operation-id"] == body["id"]


async def test_spec_example_exec_command_and_args_sees_uploaded_files(
    http: httpx.AsyncClient, ident: str
) -> None:
    example = load_example(NEW, "CodeExecution_Execute_ShellExecCommandAndArgs")
    expected = example["responses"]["200"]["body"]
    params = {"api-version": NEW, "identifier": ident}
    files = {"file": ("previouslyuploadedfile.txt", b"hello")}
    uploaded = await http.post("/files", params=params, files=files)
    assert uploaded.status_code == 200, uploaded.text

    answer = await run(http, ident, example["parameters"]["codeExecutionRequest"])
    body = answer.json()
    assert body.keys() == expected.keys()  # the request named no executionType: neither does this
    assert body["status"] == "0"
    assert body["result"]["stdout"] == expected["result"]["stdout"]


async def test_exit_code_is_the_status_and_files_written_are_listed(
    http: httpx.AsyncClient, ident: str
) -> None:
    command = "echo out; echo err >&2; printf 'a,b' > made.csv; exit 3"
    body = (await run(http, ident, {"shellCommand": command})).json()
    assert body["status"] == "3"
    assert (body["result"]["stdout"], body["result"]["stderr"]) == ("out\n", "err\n")
    listing = await http.get("/files", params={"api-version": NEW, "identifier": ident})
    assert [(f["name"], f["sizeInBytes"]) for f in listing.json()["value"]] == [("made.csv", 3)]


async def test_each_command_gets_a_fresh_shell(http: httpx.AsyncClient, ident: str) -> None:
    await run(http, ident, {"shellCommand": "export KEPT=yes; cd /tmp"})
    body = (await run(http, ident, {"shellCommand": 'echo "[$KEPT]"; basename "$PWD"'})).json()
    assert body["result"]["stdout"].splitlines()[0] == "[]"
    missing = (await run(http, ident, {"execCommandAndArgs": ["no-such-program-x"]})).json()
    assert missing["status"] == "127"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"codeInputType": "Inline", "code": "print(1)"}, 400, "SessionPropertiesMissing"),
        ({"timeoutInSeconds": 5}, 400, "SessionPropertiesMissing"),
        ({"shellCommand": "ls", "execCommandAndArgs": ["ls"]}, 400, None),
        ({"execCommandAndArgs": []}, 400, None),
        ({"execCommandAndArgs": ["ls", 3]}, 400, None),
        ({"shellCommand": "echo \u0000"}, 400, None),
        ({"shellCommand": "ls", "timeoutInSeconds": "9"}, 400, None),
    ],
)
async def test_refused_bodies(
    http: httpx.AsyncClient, ident: str, body: dict[str, Any], status: int, code: str | None
) -> None:
    answer = await run(http, ident, body)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == (code or "SessionRequestValidationFailed")
    assert error["message"]


async def test_old_shape_execute_is_refused(http: httpx.AsyncClient, ident: str) -> None:
    params = {"api-version": OLD, "identifier": ident}
    body = {"properties": {"codeInputType": "inline", "code": "ls"}}
    answer = await http.post("/code/execute", params=params, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        f"Shell execution is not supported in API version {OLD}."
    )


async def test_timeout_kills_the_whole_process_group(http: httpx.AsyncClient, ident: str) -> None:
    command = "(sleep 2; touch late) & sleep 60"
    started = time.monotonic()
    body = (await run(http, ident, {"shellCommand": command, "timeoutInSeconds": 1})).json()
    assert time.monotonic() - started < 10
    assert body["status"] == "137"
    assert "timed out" in body["result"]["stderr"]
    await asyncio.sleep(2.5)  # the background child would have touched the file by now
    listing = await http.get("/files", params={"api-version": NEW, "identifier": ident})
    assert listing.json()["value"] == []


async def test_output_is_capped_and_a_flood_does_not_block(
    http: httpx.AsyncClient, ident: str
) -> None:
    command = "head -c 3000000 /dev/zero | tr '\\0' x; echo tail >&2"
    body = {"shellCommand": command, "outputStreamsMaxLength": 10}
    result = (await run(http, ident, body)).json()["result"]
    assert (result["stdout"], result["stderr"]) == ("x" * 10, "tail\n")


async def test_a_huge_outputstreamsmaxlength_cannot_make_the_emulator_keep_everything(
    http: httpx.AsyncClient, ident: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shell_module, "MAX_KEPT_CHARS", 1000)  # the emulator runs in this process
    body = {
        "shellCommand": "head -c 200000 /dev/zero | tr '\\0' x",
        "outputStreamsMaxLength": 2**31 - 1,
    }
    result = (await run(http, ident, body)).json()["result"]
    kept = result["stdout"]
    assert set(kept) == {"x"} and len(kept) <= 1000 * 4 + 4  # bytes for 1000 UTF-8 characters


async def test_asynchronous_command_is_polled(http: httpx.AsyncClient, ident: str) -> None:
    body = {"shellCommand": "sleep 0.5; echo done", "executionType": "Asynchronous"}
    started = await run(http, ident, body)
    assert started.status_code == 202
    assert started.json()["status"] == "Running"
    location = started.headers["operation-location"]
    for _ in range(100):
        polled = (await http.get(location)).json()
        if polled["status"] != "Running":
            break
        await asyncio.sleep(0.1)
    assert (polled["status"], polled["result"]["stdout"]) == ("0", "done\n")


async def test_deleting_the_session_ends_its_running_command(
    http: httpx.AsyncClient, ident: str
) -> None:
    params = {"api-version": NEW, "identifier": ident}
    body = {"shellCommand": "sleep 60", "executionType": "Asynchronous"}
    location = (await run(http, ident, body)).headers["operation-location"]
    await asyncio.sleep(0.3)
    assert (await http.delete("/session", params=params)).status_code == 204
    # The record went with the session; nothing of it runs on (the pool's close would hang).
    assert (await http.get(location)).status_code in (200, 404)


@pytest.mark.sandbox
def test_commands_run_in_the_sandbox_at_mnt_data(make_emulator: Any) -> None:
    server = make_emulator(container_type="Shell", sandbox="bwrap", token="shell-secret-token")
    command = "pwd; id -u; env | grep -c -i -e token -e DSTUI_ || true; wc -c < /etc/shadow"
    with httpx.Client(base_url=server.endpoint, headers=auth_headers(server)) as http:
        answer = http.post(
            "/executions",
            params={"api-version": NEW, "identifier": "sandboxed-1"},
            json={"shellCommand": command},
        )
    lines = answer.json()["result"]["stdout"].splitlines()
    assert lines == ["/mnt/data", "1000", "0", "0"]


def test_disk_quota_stops_a_writer_and_is_reported(make_emulator: Any) -> None:
    server = make_emulator(container_type="Shell", disk_quota_mb=1, sandbox=SUITE_SANDBOX)
    params = {"api-version": NEW, "identifier": "quota-1"}
    with httpx.Client(base_url=server.endpoint, headers=auth_headers(server), timeout=30) as http:

        def run_sync(command: str) -> dict[str, Any]:
            answer = http.post("/executions", params=params, json={"shellCommand": command})
            result: dict[str, Any] = answer.json()
            return result

        writer = "for i in 1 2 3; do head -c 600000 /dev/zero > f$i; done; sleep 20; echo on"
        stopped = run_sync(writer)
        assert stopped["status"] == "137" and "over its quota" in stopped["result"]["stderr"]
        assert stopped["result"]["stdout"] == ""
        quick = run_sync("echo still here")  # files stay; the next command is told again
        assert quick["status"] == "0" and "over its quota" in quick["result"]["stderr"]
        freed = run_sync("rm f*; echo freed")
        assert (freed["status"], freed["result"]["stderr"]) == ("0", "")


async def test_the_timeout_note_survives_a_full_stderr(http: httpx.AsyncClient, ident: str) -> None:
    body = {"shellCommand": "yes err >&2", "timeoutInSeconds": 1, "outputStreamsMaxLength": 80}
    stderr = (await run(http, ident, body)).json()["result"]["stderr"]
    assert len(stderr) == 80
    assert stderr.startswith("err\nerr\n") and stderr.endswith("execution to complete\n")


async def test_metadata_names_bash_and_claims_no_python_kernel(
    http: httpx.AsyncClient,
) -> None:
    answer = await http.get("/metadata", params={"api-version": NEW})
    assert answer.status_code == 200
    metadata = PoolMetadata.from_json(answer.json())
    assert [runtime.name for runtime in metadata.runtimes] == ["bash"]
    assert metadata.runtimes[0].version.split(".")[0].isdigit()
    assert metadata.packages == () and metadata.kernel is None
    assert metadata.emulator_sandbox
