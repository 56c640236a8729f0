"""What an exchange says about the API: operations, executions of both shapes, files, and odd
traffic described as odd. No credential is ever kept."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from dstui.recording.exchange import WireFacts, classify, describe, excerpt
from dstui.recording.multipart import FilePartDigest, boundary_of


def facts(method: str, path: str, **fields: object) -> WireFacts:
    values: dict[str, object] = {
        "source": "proxy",
        "started": 0.0,
        "method": method,
        "path": path,
        "query": "api-version=2025-10-02-preview&identifier=abc-123",
        "request_headers": {},
    }
    values.update(fields)
    return WireFacts(**values)  # type: ignore[arg-type]


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "operation", "parts"),
    [
        ("POST", "/executions", "execute", {}),
        (
            "GET",
            "/subscriptions/s/sessionPools/p/executions/e-1",
            "get-execution",
            {"execution": "e-1"},
        ),
        ("POST", "/code/execute", "execute", {}),
        ("GET", "/files/content/a%20b.txt", "download", {"name": "a b.txt"}),
        ("GET", "/files/x.csv/content", "download", {"name": "x.csv"}),
        ("POST", "/files/upload", "upload", {}),
        ("DELETE", "/files/x.csv", "delete-file", {"name": "x.csv"}),
        ("GET", "/listSessions", "list-sessions", {}),
        ("PUT", "/executions", "unknown", {}),
        ("GET", "/files/a\nb.txt/content", "download", {"name": "a\nb.txt"}),
        ("DELETE", "/files/a\nb.txt", "delete-file", {"name": "a\nb.txt"}),
        ("GET", "/files\n", "unknown", {}),
    ],
)
def test_operations_by_the_paths_end(
    method: str, path: str, operation: str, parts: dict[str, str]
) -> None:
    assert classify(method, path) == (operation, parts)


def test_new_shape_execution() -> None:
    request = {"codeInputType": "Inline", "executionType": "Synchronous", "code": "print(1)"}
    answer = {
        "id": "e-9",
        "status": "Succeeded",
        "result": {"stdout": "1\n", "stderr": "", "executionResult": {"a": 1}},
    }
    exchange = describe(
        facts(
            "POST",
            "/executions",
            request_headers={**JSON, "Authorization": "Bearer secret-token-value"},
            request_body=json.dumps(request).encode(),
            status=200,
            response_headers={**JSON, "X-Ms-Execution-Request-Time": "5", "operation-id": "e-9"},
            response_body=json.dumps(answer).encode(),
        )
    )
    assert (exchange.operation, exchange.identifier) == ("execute", "abc-123")
    assert (exchange.code, exchange.execution_id, exchange.execution_status) == (
        "print(1)",
        "e-9",
        "Succeeded",
    )
    assert (exchange.stdout, exchange.result) == ("1\n", '{"a": 1}')
    assert exchange.timing == {"x-ms-execution-request-time": "5"}
    assert "authorization" not in exchange.request_headers
    assert "secret-token-value" not in json.dumps(exchange.to_dict())
    assert exchange.error is None


def test_legacy_execution_and_error_envelope() -> None:
    request = {"properties": {"codeInputType": "inline", "code": "1/0"}}
    answer = {"properties": {"status": "Failure", "stderr": "ZeroDivisionError", "result": ""}}
    ok = describe(
        facts(
            "POST",
            "/code/execute",
            request_headers=JSON,
            request_body=json.dumps(request).encode(),
            status=200,
            response_headers=JSON,
            response_body=json.dumps(answer).encode(),
        )
    )
    assert (ok.code, ok.execution_status, ok.stderr) == ("1/0", "Failure", "ZeroDivisionError")
    failed = describe(
        facts(
            "POST",
            "/executions",
            request_headers=JSON,
            request_body=b"{}",
            status=400,
            response_headers={**JSON, "x-ms-error-code": "InvalidCode"},
            response_body=b'{"error": {"code": "InvalidCode", "message": "no code"}}',
        )
    )
    assert (failed.error_code, failed.error_message) == ("InvalidCode", "no code")


def test_malformed_bodies_are_described_not_dropped() -> None:
    exchange = describe(
        facts(
            "POST",
            "/executions",
            request_headers=JSON,
            request_body=b"{not json",
            status=502,
            response_headers={"content-type": "text/html"},
            response_body=b"<html>bad gateway</html>",
        )
    )
    assert exchange.operation == "execute" and exchange.status == 502
    assert exchange.request_body == "{not json"
    assert exchange.error is not None and "not valid JSON" in exchange.error


def test_excerpts_mark_the_cut() -> None:
    assert excerpt("abc", 5) == "abc"
    assert excerpt("abcdefgh", 5) == "abcde…[cut: 3 more characters]"


@pytest.mark.parametrize("seed", range(5))
def test_multipart_digest_in_any_chunking(seed: int) -> None:
    content = random.Random(seed).randbytes(200_000) + b"\r\n--almost"
    boundary = "XyZ123"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="d a.bin"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    assert boundary_of(f"multipart/form-data; boundary={boundary}") == boundary
    digest = FilePartDigest(boundary)
    cuts = sorted(random.Random(seed).sample(range(1, len(body)), 40))
    for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True):
        digest.feed(body[start:end])
    assert (digest.name, digest.size) == ("d a.bin", len(content))
    assert digest.sha256 == hashlib.sha256(content).hexdigest()


def test_every_repeated_credential_is_redacted() -> None:
    echoed = {"seen": ["first-token", "second-token", "cookie-one", "cookie-two"]}
    exchange = describe(
        facts(
            "GET",
            "/metadata",
            request_headers=[
                ("Authorization", "Bearer first-token"),
                ("Authorization", "Bearer second-token"),
                ("Cookie", "a=cookie-one"),
                ("Cookie", "b=cookie-two"),
                ("Accept", "application/json"),
                ("Accept", "text/plain"),
            ],
            status=200,
            response_headers=[("content-type", "application/json"), ("x-ms-a", "1")],
            response_body=json.dumps(echoed).encode(),
        )
    )
    text = json.dumps(exchange.to_dict())
    for secret in echoed["seen"]:
        assert secret not in text
    assert exchange.request_headers == {"accept": "application/json, text/plain"}
