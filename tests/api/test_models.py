"""Every official example response parses into the models; tolerant parsing of other shapes."""

from __future__ import annotations

import base64
import json
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime

import httpx
import pytest

from dstui.api import (
    Execution,
    ExecutionStatus,
    MalformedResponseError,
    PoolMetadata,
    RemoteFile,
    Session,
    SessionPage,
)
from dstui.api.models import parse_file_list, parse_uploaded_file
from tests.api.conftest import EXAMPLES, load_example

VERSIONS = sorted(path.name for path in EXAMPLES.iterdir() if path.is_dir())
ALL_EXAMPLES = [
    (version, path.stem)
    for version in VERSIONS
    for path in sorted((EXAMPLES / version).glob("*.json"))
]


def _response(version: str, name: str) -> tuple[int, dict[str, str], object]:
    example = load_example(version, name)
    ((status, answer),) = example["responses"].items()
    return int(status), answer.get("headers", {}), answer.get("body")


def test_every_shared_example_was_copied() -> None:
    assert len(ALL_EXAMPLES) == 48
    assert VERSIONS == ["2024-10-02-preview", "2025-02-02-preview", "2025-10-02-preview"]


@pytest.mark.parametrize(("version", "name"), ALL_EXAMPLES)
def test_example_response_parses(version: str, name: str) -> None:
    status, headers, body = _response(version, name)
    operation = load_example(version, name)["operationId"]
    if operation in ("CodeExecution_Execute", "CodeExecution_Get"):
        execution = Execution.from_json(body, headers=httpx.Headers(headers))
        assert isinstance(body, dict)
        assert execution.identifier == body["identifier"]
        assert execution.id == (body["id"] or headers.get("operation-id", ""))
        result = body.get("result", {})
        assert execution.stdout == result.get("stdout", "")
        assert execution.duration_ms == result.get("executionTimeInMilliseconds")
        assert execution.result == result.get("executionResult")
        assert execution.status.is_terminal == ("result" in body)
    elif operation == "SessionResourceFiles_List":
        files = parse_file_list(body)
        assert isinstance(body, dict)
        assert [f.name for f in files] == [entry["name"] for entry in body["value"]]
        assert [f.is_dir for f in files] == [
            entry["type"].lower() == "directory" for entry in body["value"]
        ]
        assert all(f.last_modified is not None for f in files)
    elif operation in ("SessionResourceFiles_Get", "SessionResourceFiles_Upload"):
        file = parse_uploaded_file(body)
        assert file == RemoteFile(
            name="testfile.yaml",
            is_dir=False,
            size=4,
            last_modified=datetime(2024, 5, 29, 2, 17, 25, 902000, tzinfo=UTC),
            content_type="application/yaml",
        )
    elif operation == "ListSessions_Get":
        page = SessionPage.from_json(body)
        assert [s.identifier for s in page.sessions] == ["testid1"]
        assert page.next_link is None
        assert page.sessions[0].expires_at == datetime(2025, 1, 5, 22, 18, 41, 752000, tzinfo=UTC)
    elif operation == "SessionManagement_Get":
        session = Session.from_json(body)
        assert session.identifier == "testid1"
        assert session.etag == "9334cb07-aafd-45a0-90bd-448080a91f57"
        assert session.created_at == datetime(2025, 1, 21, 3, 38, 5, 232000, tzinfo=UTC)
    elif operation == "SessionPoolMetadata_Get":
        metadata = PoolMetadata.from_json(body)
        assert [(p.name, p.version) for p in metadata.runtimes] == [("node", "20.2.4")]
        assert [(p.name, p.version) for p in metadata.packages] == [("axios", "1.21.2")]
        assert metadata.kernel is not None
        assert metadata.kernel.project_url == "https://github.com/n-riesco/ijavascript"
    elif operation in (
        "SessionManagement_Delete",
        "SessionResourceFiles_Delete",
        "SessionResourceFiles_GetContent",
        "SessionPoolManagement_StopSession",
    ):
        assert status in (200, 204)
        assert body is None or isinstance(body, str)
    else:
        pytest.fail(f"no parser chosen for {operation}")


def test_shell_status_is_an_exit_code() -> None:
    _, headers, body = _response("2025-10-02-preview", "CodeExecution_Execute_ShellCommand")
    execution = Execution.from_json(body, headers=httpx.Headers(headers))
    assert execution.status is ExecutionStatus.SUCCEEDED
    assert execution.exit_code == 0
    assert execution.stdout == "first_input:testinputlineline\n"
    failed = Execution.from_json({"id": "x", "identifier": "abcd", "status": "2"})
    assert failed.status is ExecutionStatus.FAILED
    assert failed.exit_code == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Succeeded", ExecutionStatus.SUCCEEDED),
        ("succeeded", ExecutionStatus.SUCCEEDED),
        ("Success", ExecutionStatus.SUCCEEDED),
        ("Failure", ExecutionStatus.FAILED),
        ("FAILED", ExecutionStatus.FAILED),
        ("Running", ExecutionStatus.RUNNING),
        ("notstarted", ExecutionStatus.NOT_STARTED),
        ("Canceled", ExecutionStatus.CANCELED),
        ("0", ExecutionStatus.SUCCEEDED),
        ("137", ExecutionStatus.FAILED),
        (1, ExecutionStatus.FAILED),
    ],
)
def test_status_parsing(raw: object, expected: ExecutionStatus) -> None:
    assert ExecutionStatus.parse(raw) is expected


def test_status_terminality() -> None:
    assert not ExecutionStatus.RUNNING.is_terminal
    assert not ExecutionStatus.NOT_STARTED.is_terminal
    assert ExecutionStatus.CANCELED.is_terminal


def test_unknown_status_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="Exploded"):
        ExecutionStatus.parse("Exploded")


def test_old_envelope_with_result_and_execution_result() -> None:
    old = {
        "$id": "1",
        "properties": {
            "$id": "2",
            "status": "Success",
            "stdout": "hello world\n",
            "stderr": "",
            "result": 42,
            "executionTimeInMilliseconds": 33,
        },
    }
    execution = Execution.from_json(old, identifier="abcd-1")
    assert execution.succeeded
    assert (execution.stdout, execution.result, execution.duration_ms) == ("hello world\n", 42, 33)
    assert execution.identifier == "abcd-1"
    node = {"properties": {"status": "Failure", "stderr": "boom", "executionResult": "x"}}
    parsed = Execution.from_json(node)
    assert parsed.status is ExecutionStatus.FAILED
    assert parsed.result == "x"
    assert parsed.stderr == "boom"


def test_image_result_in_both_shapes() -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    image = {"type": "image", "format": "png", "base64_data": base64.b64encode(png).decode()}
    old = Execution.from_json({"properties": {"status": "Success", "result": image}})
    new = Execution.from_json(
        {
            "id": "e",
            "identifier": "abcd",
            "status": "Succeeded",
            "result": {"executionResult": image},
        }
    )
    for execution in (old, new):
        assert execution.image is not None
        assert execution.image.format == "png"
        assert execution.image.data() == png
        assert execution.result is None


def test_truncation_flags_and_headers() -> None:
    body = {
        "id": "e1",
        "identifier": "abcd",
        "status": "Succeeded",
        "result": {"stdout": "x" * 10, "stderr": "y" * 9},
    }
    headers = httpx.Headers(
        {
            "X-Ms-Overall-Execution-Time": "42m56.970311818s",
            "X-Ms-Allocation-Time": "12",
            "X-Ms-Session-Guid": "guid-1",
            "X-Unrelated": "1",
        }
    )
    execution = Execution.from_json(body, headers=headers, output_max_length=10)
    assert execution.stdout_truncated
    assert not execution.stderr_truncated
    assert execution.timings == {
        "x-ms-overall-execution-time": "42m56.970311818s",
        "x-ms-allocation-time": "12",
    }
    assert execution.session_guid == "guid-1"
    uncapped = Execution.from_json(body, headers=headers)
    assert not uncapped.stdout_truncated


def test_management_session_view_and_page() -> None:
    body = {
        "value": [
            {
                "identifier": "user-123",
                "etag": "a1b2c3d4",
                "expiresAt": "2026-04-30T14:30:00Z",
                "createdAt": "2026-04-30T13:30:00Z",
                "lastAccessedAt": "2026-04-30T14:29:00Z",
            }
        ],
        "count": 1,
        "nextLink": "https://my-pool/.management/listSessions?skip=300",
    }
    page = SessionPage.from_json(body)
    assert page.count == 1
    assert page.next_link == "https://my-pool/.management/listSessions?skip=300"
    assert page.sessions[0].expires_at == datetime(2026, 4, 30, 14, 30, tzinfo=UTC)


def test_old_file_envelopes() -> None:
    listing = {
        "$id": "1",
        "value": [
            {
                "$id": "2",
                "properties": {
                    "$id": "3",
                    "filename": "test1.txt",
                    "size": 16,
                    "lastModifiedTime": "2024-05-02T07:21:07.9922617Z",
                },
            }
        ],
    }
    (file,) = parse_file_list(listing)
    assert (file.name, file.size, file.is_dir) == ("test1.txt", 16, False)
    assert file.last_modified == datetime(2024, 5, 2, 7, 21, 7, 992262, tzinfo=UTC)
    assert parse_uploaded_file(listing) == file


def test_nanosecond_timestamps_and_bad_dates() -> None:
    file = RemoteFile.from_json(
        {"name": "a", "type": "File", "lastModifiedAt": "2024-11-02T12:33:05.677209683Z"}
    )
    assert file.last_modified == datetime(2024, 11, 2, 12, 33, 5, 677210, tzinfo=UTC)  # rounded
    odd = Session.from_json({"identifier": "abcd", "expireAt": "soon"})
    assert odd.expires_at is None


@pytest.mark.parametrize(
    "body", [[], "text", {"sessions": "nope"}, {"sessions": [{"createdAt": "x"}]}]
)
def test_malformed_session_lists(body: object) -> None:
    with pytest.raises(MalformedResponseError):
        SessionPage.from_json(body)


def test_relative_path_of_recursive_entries() -> None:
    nested = RemoteFile.from_json({"name": "f", "type": "File", "directory": "a/b"})
    top = RemoteFile.from_json({"name": "f", "type": "File", "directory": ""})
    assert (nested.relative_path, top.relative_path) == ("a/b/f", "f")


def _complete(i: int, expiry_key: str = "expireAt") -> dict[str, object]:
    return {
        "identifier": f"s-{i:04d}",
        "createdAt": f"2026-01-01T00:00:{i % 60:02d}.{i:03d}Z",
        "lastAccessedAt": "2026-01-01T01:00:00Z",
        expiry_key: "2026-01-01T02:00:00+00:00",
        "etag": f"e{i}" if i % 2 else None,
    }


def _body(payload: object) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize("expiry_key", ["expireAt", "expiresAt"])
def test_page_from_bytes_equals_per_entry_parsing(expiry_key: str) -> None:
    items = [_complete(i, expiry_key) for i in range(50)]
    body = {"value": items, "count": 50, "nextLink": "/next?skip=50"}
    page = SessionPage.from_bytes(_body(body))
    assert page == SessionPage.from_json(body)
    assert (page.count, page.next_link) == (50, "/next?skip=50")
    assert page.sessions[7] == Session(
        "s-0007",
        datetime(2026, 1, 1, 0, 0, 7, 7000, tzinfo=UTC),
        datetime(2026, 1, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 2, tzinfo=UTC),
        "e7",
    )
    assert hash(page.sessions[7]) == hash(Session.from_json(items[7]))
    with pytest.raises(FrozenInstanceError):
        page.sessions[0].etag = "x"  # type: ignore[misc]


def test_page_from_bytes_mixed_expiry_spellings_and_nanoseconds() -> None:
    items = [_complete(0), _complete(1, "expiresAt")]
    items[0]["createdAt"] = "2024-11-02T12:33:05.677209683Z"
    page = SessionPage.from_bytes(_body({"sessions": items}))
    assert page == SessionPage.from_json({"sessions": items})
    assert all(s.expires_at == datetime(2026, 1, 1, 2, tzinfo=UTC) for s in page.sessions)


@pytest.mark.parametrize(
    "damage",
    [
        {"createdAt": None},
        {"createdAt": "yesterday"},
        {"etag": 5},
        {"lastAccessedAt": 17},
    ],
)
def test_page_with_odd_entries_falls_back_to_tolerant_parsing(damage: dict[str, object]) -> None:
    items = [_complete(i) for i in range(5)]
    items[3] = {**items[3], **damage}
    page = SessionPage.from_bytes(_body({"value": items, "count": "5"}))
    assert [s.identifier for s in page.sessions] == [f"s-{i:04d}" for i in range(5)]
    assert page.sessions[3] == Session.from_json(items[3])
    assert page.count == 5


def test_page_entry_missing_optional_fields() -> None:
    page = SessionPage.from_bytes(_body({"sessions": [_complete(0), {"identifier": "bare"}]}))
    assert page.sessions[1] == Session("bare", None, None, None, None)


@pytest.mark.parametrize(
    "body",
    [
        {"sessions": [_complete(0), {**_complete(1), "identifier": 12}]},
        {"sessions": [{"etag": "no identifier"}]},
        {"sessions": "nope"},
        [],
    ],
)
def test_malformed_pages_from_bytes(body: object) -> None:
    with pytest.raises(MalformedResponseError):
        SessionPage.from_bytes(_body(body))


def test_non_json_page_is_malformed_with_an_excerpt() -> None:
    with pytest.raises(MalformedResponseError, match="Gateway Timeout"):
        SessionPage.from_bytes(b"<html><h1>Gateway Timeout</h1></html>")
