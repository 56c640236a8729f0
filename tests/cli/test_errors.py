"""Failures become `error:` + `hint:` on stderr with exit code 2, never a traceback or a token."""

from __future__ import annotations

import io
import socket
import sys
from collections.abc import Callable

import httpx
import pytest

from dstui.api import SessionsClient
from dstui.api.auth import StaticTokenProvider
from dstui.api.retry import NO_RETRY
from dstui.config import Connection
from tests.cli.conftest import MainRunner

TOKEN = "cli-test-token-0123456789"


def forbidden(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    return httpx.Response(
        403,
        json={"error": {"code": "Forbidden", "message": "caller may not use this pool"}},
        headers={"x-ms-error-code": "Forbidden", "x-ms-request-id": "req-123"},
    )


def mock_factory(
    handler: Callable[[httpx.Request], httpx.Response],
) -> Callable[[Connection], SessionsClient]:
    def factory(connection: Connection) -> SessionsClient:
        assert connection.endpoint is not None
        return SessionsClient(
            connection.endpoint,
            api_version=connection.api_version,
            auth=StaticTokenProvider(TOKEN),
            retry=NO_RETRY,
            transport=httpx.MockTransport(handler),
        )

    return factory


@pytest.mark.parametrize("verbose", [False, True])
def test_403_reports_message_hint_and_request_id(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, verbose: bool
) -> None:
    monkeypatch.setenv("DSTUI_TOKEN", TOKEN)
    argv = ["sessions", "list", "--endpoint", "https://pool.example", "--auth", "token"]
    result = run_main(*argv, *(["--verbose"] if verbose else []), factory=mock_factory(forbidden))
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    error_line = next(line for line in lines if line.startswith("error: "))
    assert "HTTP 403" in error_line
    assert "caller may not use this pool" in error_line
    assert "request id: req-123" in lines
    assert any(line.startswith("hint: ") and "Session Executor" in line for line in lines)
    assert "Traceback" not in result.err
    assert TOKEN not in result.err


def test_unreachable_loopback_port(run_main: MainRunner) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago refuses connections
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def factory(connection: Connection) -> SessionsClient:
        assert connection.endpoint is not None
        return SessionsClient(connection.endpoint, auth=None, retry=NO_RETRY)

    result = run_main("pool", "metadata", "--endpoint", f"http://127.0.0.1:{port}", factory=factory)
    assert result.code == 2
    assert result.err.startswith("error: ")
    assert "\nhint: " in result.err
    assert "Traceback" not in result.err


def test_plain_http_to_a_remote_host_is_refused_before_sending(run_main: MainRunner) -> None:
    result = run_main("sessions", "list", "--endpoint", "http://pool.example", "--auth", "none")
    assert result.code == 2
    assert "error: " in result.err
    assert "hint: " in result.err


def test_bad_identifier_is_refused_with_a_hint(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")
    result = run_main("sessions", "show", "ab")
    assert result.code == 2
    assert "error: the session identifier has 2 characters" in result.err
    assert "hint: " in result.err


def test_unexpected_exception_is_one_line(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")

    def broken(connection: Connection) -> SessionsClient:
        raise RuntimeError("boom\nsecond line")

    result = run_main("sessions", "list", factory=broken)
    assert result.code == 2
    assert result.err == "error: unexpected RuntimeError: boom\nrun with --verbose for details\n"
    verbose = run_main("sessions", "list", "--verbose", factory=broken)
    assert "Traceback" in verbose.err  # the details --verbose promises
    assert verbose.err.count("error: unexpected RuntimeError: boom") == 1


def test_closed_stdout_ends_quietly(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dstui ... | head -1`: the reader went away; no error, the usual SIGPIPE exit code."""

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    result = run_main("new-id")
    assert result.code == 141
    assert result.err == ""


def test_keyboard_interrupt_exits_130(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")

    def interrupted(connection: Connection) -> SessionsClient:
        raise KeyboardInterrupt

    result = run_main("sessions", "list", factory=interrupted)
    assert (result.code, result.err) == (130, "interrupted\n")


def test_token_auth_without_token_is_a_clear_error(run_main: MainRunner) -> None:
    result = run_main("sessions", "list", "--endpoint", "http://127.0.0.1:9", "--auth", "token")
    assert result.code == 2
    assert "error: auth 'token' needs a bearer" in result.err
    assert "hint: Set DSTUI_TOKEN" in result.err


@pytest.mark.parametrize(
    "argv",
    [
        ("files", "put", "sess-1", "x" * 5000),
        ("files", "get", "sess-1", "a.txt", "-o", "y" * 5000),
        ("files", "get", "sess-1", "a.txt", "-o", "/".join(["z" * 200] * 30)),
    ],
)
def test_a_local_path_the_system_refuses_is_a_short_clear_error(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("DSTUI_TOKEN", TOKEN)
    result = run_main(*argv, factory=mock_factory(forbidden))
    assert result.code == 2
    assert result.err.startswith("error: ") and "File name too long" in result.err
    assert "unexpected" not in result.err and "Traceback" not in result.err
    assert len(result.err) < 600  # the path is shortened, not echoed whole
