"""Each request the client sends matches the official examples' `parameters`: method, path,
query, headers and body; the example's own answer is fed back and parsed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from dstui.api import Execution, RunOptions
from tests.api.conftest import EXAMPLES, POOL_PATH, TOKEN, Recorder, load_example, make_client

# Python-pool examples the client can reproduce (Shell-pool bodies are not a client feature).
EXECUTE_EXAMPLES = [
    (version, path.stem)
    for version in sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    for path in sorted((EXAMPLES / version).glob("CodeExecution_Execute_*.json"))
    if "Shell" not in path.stem
]


def _answer(example: dict[str, Any]) -> httpx.Response:
    ((status, answer),) = example["responses"].items()
    body = answer.get("body")
    headers = answer.get("headers", {})
    if body is None:
        return httpx.Response(int(status), headers=headers)
    if isinstance(body, str):
        return httpx.Response(int(status), text=body, headers=headers)
    return httpx.Response(int(status), json=body, headers=headers)


def _recorder(example: dict[str, Any]) -> Recorder:
    return Recorder(lambda request: _answer(example))


def _check_common(recorder: Recorder, method: str, route: str, query: dict[str, str]) -> Any:
    (sent,) = recorder.sent
    assert sent.method == method
    assert sent.path == f"{POOL_PATH}/{route}"
    assert sent.query == query
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    return sent


@pytest.mark.parametrize(("version", "name"), EXECUTE_EXAMPLES)
async def test_execute_requests(version: str, name: str) -> None:
    example = load_example(version, name)
    params = example["parameters"]
    request = dict(params["codeExecutionRequest"])
    # The client leaves defaults out; one 2025-10 example misspells the Jupyter flag.
    if request.get("useEmptyKernel") is False:
        del request["useEmptyKernel"]
    if "returnJupyterFormat" in request:
        request["returnJupyterFormatExecutionResult"] = request.pop("returnJupyterFormat")
    recorder = _recorder(example)
    async with make_client(recorder, api_version=version) as client:
        execution = await client.start_execution(
            params["identifier"],
            request["code"],
            RunOptions(
                timeout=request["timeoutInSeconds"],
                output_max_length=request.get("outputStreamsMaxLength"),
                operation_id=params.get("operation-id"),
                asynchronous=request["executionType"] == "Asynchronous",
                jupyter_format=request.get("returnJupyterFormatExecutionResult", False),
            ),
        )
    sent = _check_common(
        recorder,
        "POST",
        "executions",
        {"api-version": version, "identifier": params["identifier"]},
    )
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == request
    if "operation-id" in params:
        assert sent.headers["operation-id"] == params["operation-id"]
    else:
        assert "operation-id" not in sent.headers
    ((_, answer),) = example["responses"].items()
    assert execution.operation_location == "operation-location-uri"
    assert execution.status.value == answer["body"]["status"]


@pytest.mark.parametrize(
    "version", ["2024-10-02-preview", "2025-02-02-preview", "2025-10-02-preview"]
)
async def test_get_execution_request(version: str) -> None:
    example = load_example(version, "CodeExecution_Get_Completed")
    params = example["parameters"]
    recorder = _recorder(example)
    async with make_client(recorder, api_version=version) as client:
        execution = await client.get_execution(params["identifier"], params["executionId"])
    _check_common(
        recorder,
        "GET",
        f"executions/{params['executionId']}",
        {"api-version": version, "identifier": params["identifier"]},
    )
    assert execution.succeeded


FILE_VERSIONS = ["2024-10-02-preview", "2025-02-02-preview", "2025-10-02-preview"]


@pytest.mark.parametrize("version", FILE_VERSIONS)
async def test_file_requests(version: str, tmp_path: Path) -> None:
    def params_of(name: str) -> dict[str, Any]:
        parameters: dict[str, Any] = load_example(version, name)["parameters"]
        return parameters

    def query(p: dict[str, Any]) -> dict[str, str]:
        expected = {"api-version": version, "identifier": p["identifier"], "path": p["path"]}
        if p.get("recursive"):
            expected["recursive"] = "true"
        return expected

    p = params_of("SessionResourceFiles_List")
    recorder = _recorder(load_example(version, "SessionResourceFiles_List"))
    async with make_client(recorder, api_version=version) as client:
        files = await client.list_files(p["identifier"], path=p["path"])
    _check_common(recorder, "GET", "files", query(p))
    assert files[0].name == "testfile.yaml"

    if version == "2025-10-02-preview":
        p = params_of("SessionResourceFiles_List_Recursive")
        recorder = _recorder(load_example(version, "SessionResourceFiles_List_Recursive"))
        async with make_client(recorder, api_version=version) as client:
            files = await client.list_files(p["identifier"], path=p["path"], recursive=True)
        _check_common(recorder, "GET", "files", query(p))
        assert [f.directory for f in files] == ["", "level1", "directory-level1/directory-level2"]

    p = params_of("SessionResourceFiles_Get")
    recorder = _recorder(load_example(version, "SessionResourceFiles_Get"))
    async with make_client(recorder, api_version=version) as client:
        file = await client.get_file(p["identifier"], p["name"], path=p["path"])
    _check_common(recorder, "GET", f"files/{p['name']}", query(p))
    assert file.size == 4

    p = params_of("SessionResourceFiles_GetContent")
    recorder = _recorder(load_example(version, "SessionResourceFiles_GetContent"))
    async with make_client(recorder, api_version=version) as client:
        content = await client.read_file(p["identifier"], p["name"], path=p["path"])
    _check_common(recorder, "GET", f"files/{p['name']}/content", query(p))
    assert content == b"testfilecontent"

    p = params_of("SessionResourceFiles_Delete")
    recorder = _recorder(load_example(version, "SessionResourceFiles_Delete"))
    async with make_client(recorder, api_version=version) as client:
        await client.delete_file(p["identifier"], p["name"], path=p["path"])
    _check_common(recorder, "DELETE", f"files/{p['name']}", query(p))

    p = params_of("SessionResourceFiles_Upload")
    local = tmp_path / "testfile.yaml"
    local.write_text(p["file"])
    recorder = _recorder(load_example(version, "SessionResourceFiles_Upload"))
    async with make_client(recorder, api_version=version) as client:
        uploaded = await client.upload_file(p["identifier"], local, path=p["path"])
    sent = _check_common(recorder, "POST", "files", query(p))
    content_type = sent.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1]
    assert (
        sent.body
        == (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="testfile.yaml"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
            f"{p['file']}\r\n--{boundary}--\r\n"
        ).encode()
    )
    assert int(sent.headers["content-length"]) == len(sent.body)
    assert uploaded.name == "testfile.yaml"


@pytest.mark.parametrize("version", ["2025-02-02-preview", "2025-10-02-preview"])
async def test_session_management_requests(version: str) -> None:
    example = load_example(version, "SessionManagement_Get")
    recorder = _recorder(example)
    async with make_client(recorder, api_version=version) as client:
        session = await client.get_session("testid1")
    _check_common(recorder, "GET", "session", {"api-version": version, "identifier": "testid1"})
    assert session.identifier == "testid1"

    example = load_example(version, "SessionManagement_Delete")
    recorder = _recorder(example)
    async with make_client(recorder, api_version=version) as client:
        await client.delete_session("testSessionIdentifier")
    _check_common(
        recorder,
        "DELETE",
        "session",
        {"api-version": version, "identifier": "testSessionIdentifier"},
    )

    # The example's offset/limit are a known mistake in the spec; the operation takes `skip`.
    example = load_example(version, "ListSessions_Get")
    recorder = _recorder(example)
    async with make_client(recorder, api_version=version) as client:
        page = await client.list_sessions_page()
    _check_common(recorder, "GET", "listSessions", {"api-version": version})
    assert page.sessions[0].identifier == "testid1"

    example = load_example(version, "SessionPoolMetadata_Get")
    recorder = _recorder(example)
    async with make_client(recorder, api_version=version) as client:
        metadata = await client.get_pool_metadata()
    _check_common(recorder, "GET", "metadata", {"api-version": version})
    assert metadata.kernel is not None


async def test_stop_session_request() -> None:
    version = "2025-10-02-preview"
    example = load_example(version, "SessionPoolManagement_StopSession")
    recorder = Recorder(
        lambda request: httpx.Response(
            200,
            text=example["responses"]["200"]["body"],
            headers={"content-type": "text/plain"},
        )
    )
    async with make_client(recorder, api_version=version) as client:
        text = await client.stop_session("testSessionIdentifier")
    sent = _check_common(
        recorder,
        "POST",
        ".management/stopSession",
        {"api-version": version, "identifier": "testSessionIdentifier"},
    )
    assert sent.body == b""
    assert text == "Session testSessionIdentifier in session pool testSessionPool stopped."


def test_examples_answers_are_json_roundtrippable() -> None:
    example = load_example("2025-10-02-preview", "CodeExecution_Execute_Sync")
    body = example["responses"]["200"]["body"]
    assert Execution.from_json(json.loads(json.dumps(body))).stdout == "63/n"
