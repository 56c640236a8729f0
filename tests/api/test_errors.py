"""HTTP answers and transport failures map to the error family with actionable hints."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from dstui.api import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    DynamicSessionsError,
    MalformedResponseError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    SessionNotFoundError,
    SessionsClient,
    TransportError,
)
from dstui.api.errors import (
    RemoteTarget,
    api_error_from_response,
    body_excerpt,
    parse_retry_after,
    redact,
)
from tests.api.conftest import TOKEN, error, make_client, queue


@pytest.mark.parametrize(
    ("status", "code", "cls", "hint_part"),
    [
        (400, "SessionRequestValidationFailed", BadRequestError, "identifier"),
        (400, "SessionPropertiesMissing", BadRequestError, "body shape"),
        (400, "SessionWithIdentifierNotFound", SessionNotFoundError, "expired or was stopped"),
        (401, None, AuthenticationError, "https://dynamicsessions.io"),
        (403, None, PermissionDeniedError, "Azure ContainerApps Session Executor"),
        (404, None, NotFoundError, "endpoint"),
        (404, "SessionWithIdentifierNotFound", SessionNotFoundError, "expired"),
        (413, None, PayloadTooLargeError, "128.0 MiB"),
        (429, None, RateLimitedError, "concurrent-session limit"),
        (500, "InternalError", ServerError, "retry"),
        (503, None, ServerError, "request id"),
        (409, "Conflict", ApiError, "rejected"),
    ],
)
async def test_status_and_code_mapping(
    status: int, code: str | None, cls: type[ApiError], hint_part: str
) -> None:
    response = error(
        status, code, "went wrong", x_ms_request_id="req-1", operation_id="op-9", retry_after="7"
    )
    async with make_client(queue(response, response)) as client:
        with pytest.raises(DynamicSessionsError) as caught:
            await client.get_session("abcd-1")
    exc = caught.value
    assert type(exc) is cls
    assert exc.status == status
    assert exc.code == code
    assert exc.error_code_header == code
    assert exc.request_id == "req-1"
    assert exc.operation_id == "op-9"
    assert hint_part in exc.hint
    assert hint_part in str(exc)
    assert "req-1" in str(exc)
    if code:
        assert "went wrong" in exc.message
    if cls is RateLimitedError:
        assert isinstance(exc, RateLimitedError)
        assert exc.retry_after == 7.0
    if status == 403:
        assert "minutes" in exc.hint


def test_html_proxy_page_is_reported_as_a_short_plain_excerpt() -> None:
    page = (
        b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
        + b"<p>"
        + b"x" * 5000
        + b"</p><script>alert(1)</script></body></html>"
    )
    exc = api_error_from_response(
        502, httpx.Headers({"content-type": "text/html"}), page, what="list sessions"
    )
    assert isinstance(exc, ServerError)
    text = str(exc)
    assert "502 Bad Gateway" in text
    assert "<" not in exc.message
    assert len(exc.message) < 300


def test_trace_id_and_client_request_id_from_body_and_headers() -> None:
    body = b'{"error":{"code":"SessionRequestValidationFailed","message":"bad","traceId":"t-1"}}'
    exc = api_error_from_response(
        400, httpx.Headers({"x-ms-client-request-id": "c-1"}), body, what="execute code"
    )
    assert (exc.trace_id, exc.request_id) == ("t-1", "c-1")
    assert "trace id t-1" in str(exc)


async def test_client_request_id_is_sent_and_reported_when_the_service_has_none() -> None:
    recorder = queue(error(400, "Whatever"))
    async with make_client(recorder) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.get_session("abcd-1")
    assert caught.value.request_id == recorder.sent[0].headers["x-ms-client-request-id"]


def test_empty_and_flat_error_bodies() -> None:
    empty = api_error_from_response(404, httpx.Headers(), b"", what="get file")
    assert str(empty).startswith("get file failed: HTTP 404")
    flat = api_error_from_response(
        400, httpx.Headers(), b'{"code":"X","message":"flat"}', what="get file"
    )
    assert (flat.code, "flat" in flat.message) == ("X", True)


async def test_connection_refused_is_a_transport_error() -> None:
    recorder = queue(httpx.ConnectError("[Errno 111] Connection refused"))
    async with make_client(recorder) as client:
        with pytest.raises(TransportError) as caught:
            await client.get_pool_metadata()
    assert "Connection refused" in str(caught.value)
    assert "check the URL" in caught.value.hint


async def test_read_timeout_is_a_timeout_error() -> None:
    recorder = queue(httpx.ReadTimeout("timed out"))
    async with make_client(recorder) as client:
        with pytest.raises(RequestTimeoutError, match="read timeout"):
            await client.get_pool_metadata()


async def test_success_with_non_json_body_is_malformed() -> None:
    recorder = queue(httpx.Response(200, text="not json at all"))
    async with make_client(recorder) as client:
        with pytest.raises(MalformedResponseError, match="not JSON"):
            await client.list_files("abcd-1")


def test_tokens_are_redacted_from_messages_and_hints() -> None:
    exc = AuthenticationError(f"rejected Authorization: Bearer {TOKEN}", hint=f"token {TOKEN}")
    assert TOKEN not in str(exc)
    assert "[redacted]" in str(exc)
    assert TOKEN not in redact(f"raw {TOKEN} here")
    assert TOKEN not in body_excerpt(f"<p>{TOKEN}</p>".encode())


async def test_tokens_never_reach_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    echo = f'{{"error":{{"code":"InvalidToken","message":"token {TOKEN} is bad"}}}}'
    recorder = queue(
        httpx.Response(401, text=echo), httpx.Response(401, text=echo), httpx.ConnectError(TOKEN)
    )
    caplog.set_level(logging.DEBUG, logger="dstui.api")
    async with make_client(recorder) as client:
        with pytest.raises(AuthenticationError) as first:
            await client.get_session("secret-session-identifier")
        with pytest.raises(TransportError) as second:
            await client.get_session("secret-session-identifier")
    for exc in (first.value, second.value):
        assert TOKEN not in str(exc)
        assert TOKEN not in repr(exc.args)
    assert caplog.records, "the client logs its requests at DEBUG"
    assert TOKEN not in caplog.text
    assert "secret-session-identifier" not in caplog.text
    assert "secr…fier" in caplog.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2026 07:28:10 GMT", 10.0),
        ("garbage", None),
        (None, None),
    ],
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    now = datetime(2026, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == expected


# -- 404 on file operations ---------------------------------------------------------------------

FileOperation = Callable[[SessionsClient, Path], Awaitable[object]]
_FILE_OPERATIONS: dict[str, FileOperation] = {
    "read": lambda client, _: client.read_file("abcd-1", "log.txt", path="/mnt/data/sub"),
    "download": lambda client, tmp: client.download_file("abcd-1", "log.txt", tmp, path="sub"),
    "get": lambda client, _: client.get_file("abcd-1", "log.txt", path="sub"),
    "delete": lambda client, _: client.delete_file("abcd-1", "log.txt", path="sub"),
}
SESSION_NOTE = "expired or was deleted"


async def _not_found(
    operation: FileOperation, answer: httpx.Response, tmp_path: Path
) -> NotFoundError:
    async with make_client(queue(answer)) as client:
        with pytest.raises(NotFoundError) as caught:
            await operation(client, tmp_path)
    return caught.value


@pytest.mark.parametrize("operation", sorted(_FILE_OPERATIONS))
async def test_bare_404_on_a_file_names_the_file_then_the_session(
    operation: str, tmp_path: Path
) -> None:
    # The live service answers a missing file, and a file call on an expired session (which
    # lands in a new, empty one), with the same bare 404 (shared/api/README.md §3.3, §3.4, §6.3).
    exc = await _not_found(_FILE_OPERATIONS[operation], httpx.Response(404), tmp_path)
    assert type(exc) is NotFoundError
    assert exc.hint.startswith("There is no file /mnt/data/sub/log.txt in this session;")
    assert SESSION_NOTE in exc.hint
    assert "endpoint" not in exc.hint
    assert f"Hint: {exc.hint}" in str(exc)


async def test_404_whose_code_names_a_missing_file_says_only_that(tmp_path: Path) -> None:
    answer = error(404, "FileNotFound", "File 'log.txt' was not found in the session.")
    exc = await _not_found(_FILE_OPERATIONS["read"], answer, tmp_path)
    assert exc.hint == (
        "There is no file /mnt/data/sub/log.txt in this session; "
        "check the name and directory against a fresh file list."
    )


async def test_404_whose_code_names_a_missing_directory_names_the_directory(
    tmp_path: Path,
) -> None:
    answer = error(404, "DirectoryNotFound", "The directory does not exist.")
    exc = await _not_found(_FILE_OPERATIONS["read"], answer, tmp_path)
    assert exc.hint.startswith("There is no directory /mnt/data/sub in this session;")
    assert SESSION_NOTE not in exc.hint


async def test_bare_404_listing_a_sub_directory_names_the_directory(tmp_path: Path) -> None:
    exc = await _not_found(
        lambda client, _: client.list_files("abcd-1", path="results/2026"),
        httpx.Response(404),
        tmp_path,
    )
    assert exc.hint.startswith("There is no directory /mnt/data/results/2026 in this session;")
    assert SESSION_NOTE in exc.hint


async def test_404_listing_the_root_keeps_the_endpoint_hint(tmp_path: Path) -> None:
    exc = await _not_found(
        lambda client, _: client.list_files("abcd-1"), httpx.Response(404), tmp_path
    )
    assert exc.hint == NotFoundError.default_hint
    assert "endpoint" in exc.hint


async def test_session_not_found_code_on_a_file_blames_the_session() -> None:
    answer = error(400, "SessionWithIdentifierNotFound", "no such session")
    async with make_client(queue(answer)) as client:
        with pytest.raises(SessionNotFoundError) as caught:
            await client.read_file("abcd-1", "log.txt")
    hint = caught.value.hint
    assert hint.startswith("The service says the session has expired or was stopped;")
    assert "/mnt/data/log.txt" in hint
    assert "There is no file" not in hint


async def test_legacy_404_names_the_file_under_the_mount_root() -> None:
    async with make_client(queue(httpx.Response(404)), api_version="2024-02-02-preview") as client:
        with pytest.raises(NotFoundError) as caught:
            await client.read_file("abcd-1", "x.txt")
    assert caught.value.hint.startswith("There is no file /mnt/data/x.txt in this session;")


def test_hint_without_a_remote_target_is_unchanged() -> None:
    exc = api_error_from_response(404, httpx.Headers(), b"", what="get execution")
    assert exc.hint == NotFoundError.default_hint


def test_a_refused_file_request_gets_a_hint_about_the_file_not_the_endpoint() -> None:
    body = (
        b'{"error": {"code": "SessionRequestValidationFailed", "message": '
        b"\"'fifo' is a FIFO (named pipe); only regular files and directories can be read.\"}}"
    )
    refused = api_error_from_response(
        400, httpx.Headers(), body, what="download file", remote=RemoteTarget("", "fifo")
    )
    assert "/mnt/data/fifo" in refused.hint
    assert "endpoint" not in refused.hint
    plain = api_error_from_response(400, httpx.Headers(), body, what="list sessions")
    assert "api-version" in plain.hint  # a request about no file keeps the general hint


@pytest.mark.parametrize(
    ("status", "code", "says"),
    [
        (401, "ProxyUnauthorized", "the bearer token it printed"),
        (502, "ProxyUpstreamUnreachable", "dstui proxy --upstream"),
        (502, "ProxyUpstreamAuthFailed", "the proxy's own --auth"),
    ],
)
def test_the_proxys_own_refusals_get_their_own_hint(status: int, code: str, says: str) -> None:
    body = json.dumps({"error": {"code": code, "message": "refused by the proxy"}}).encode()
    exc = api_error_from_response(status, httpx.Headers(), body, what="execute code")
    assert exc.hint is not None and says in exc.hint
    assert "az login" not in exc.hint or code == "ProxyUpstreamAuthFailed"
