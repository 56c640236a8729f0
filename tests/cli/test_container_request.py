"""`dstui container request ID PATH` against a custom-container emulator, and on the fake."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dstui.api.fake_pool import FakePool
from dstui.api.validation import new_identifier
from dstui.emulator import EmulatorServer
from tests.cli.conftest import MainRunner
from tests.emulator.test_custom_container import custom_pool


@pytest.fixture(scope="module")
def pool() -> Iterator[EmulatorServer]:
    server = custom_pool()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cli(run_main: MainRunner, pool: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> MainRunner:
    monkeypatch.setenv("DSTUI_ENDPOINT", pool.endpoint)
    monkeypatch.setenv("DSTUI_TOKEN", pool.token or "")
    return run_main


def test_request_prints_the_apps_answer(cli: MainRunner) -> None:
    ident = new_identifier("cli-app")
    ran = cli("container", "request", ident, "/items?page=2", "-X", "POST", "--data", "hi", "-i")
    assert ran.code == 0, ran.err
    seen = json.loads(ran.out)
    assert (seen["method"], seen["body"]) == ("POST", "hi")
    assert seen["path"].startswith("/items?page=2&identifier=")
    assert ran.err.startswith("HTTP 200\n") and "x-app: tiny" in ran.err

    teapot = cli("container", "request", ident, "/teapot", "--json", "--max-bytes", "4")
    assert teapot.code == 1  # the app answered 418
    answer = json.loads(teapot.out)
    assert (answer["status"], answer["truncated"], len(answer["body"])) == (418, True, 4)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("-H", "no colon"), "not a header"),
        (("--data", "a", "--data-file", "f"), "not both"),
        (("-X", "BREW"), "unsupported method"),
    ],
)
def test_refused_before_sending(cli: MainRunner, argv: tuple[str, ...], message: str) -> None:
    refused = cli("container", "request", "some-app", "/x", *argv)
    assert refused.code == 2 and message in refused.err


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../otherPool/files", "'.' or '..' segments"),
        ("/a/%2E%2E/%2e%2e/x", "'.' or '..' segments"),
        ("/items?identifier=someone-else", "must not name an identifier"),
        ("/items -H Host:other.example", "'Host' is dstui's to set"),
        ("/items -H authorization:Bearer-x", "'authorization' is dstui's to set"),
    ],
)
def test_a_path_that_would_leave_the_pool_or_the_session_is_refused(
    cli: MainRunner, path: str, message: str
) -> None:
    refused = cli("container", "request", "some-app", *path.split(" "))
    assert refused.code == 2 and message in refused.err
    assert "Traceback" not in refused.err


def test_fake_pool_echo_and_other_pool_types(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")
    custom = FakePool(session_count=1, container_type="CustomContainer")
    ran = run_main("container", "request", "app-1", "/ping?x=1", factory=lambda c: custom)
    assert ran.code == 0
    assert json.loads(ran.out) == {
        "method": "GET",
        "path": "/ping",
        "query": [["x", "1"]],
        "bodyBytes": 0,
    }
    python = FakePool(session_count=1)
    refused = run_main("container", "request", "app-1", "/ping", factory=lambda c: python)
    assert refused.code == 2 and "routes no requests" in refused.err


def test_a_repeated_query_parameter_reaches_the_app_twice(cli: MainRunner) -> None:
    ran = cli("container", "request", new_identifier("cli-app"), "/items?tag=a&tag=b&e=")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["path"].startswith("/items?tag=a&tag=b&e=&identifier=")


def test_data_from_stdin_is_sent_as_bytes(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")
    raw = b"\xff\xfe\r\nx"  # not UTF-8, and a CRLF a text read would turn into LF
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    custom = FakePool(session_count=1, container_type="CustomContainer")
    argv = ("container", "request", "app-1", "/up", "-X", "PUT", "--data-file", "-")
    ran = run_main(*argv, factory=lambda c: custom)
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["bodyBytes"] == len(raw)


def test_a_data_file_past_the_limit_is_refused_unread(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr("dstui.commands.container.MAX_DATA_BYTES", 1024 * 1024)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    custom = FakePool(session_count=1, container_type="CustomContainer")
    for source, stdin in ((str(big), b""), ("-", big.read_bytes())):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        argv = ("container", "request", "app-1", "/up", "-X", "PUT", "--data-file", source)
        refused = run_main(*argv, factory=lambda c: custom)
        assert refused.code == 2 and "larger than 1 MiB" in refused.err, refused.err
        assert "Traceback" not in refused.err
