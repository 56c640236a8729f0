"""Fixtures for the CLI tests: run `dstui.cli.main` in-process and capture what it prints."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Protocol

import pytest

from dstui.api import SessionPoolAPI, SessionsClient
from dstui.api.fake_pool import FakePool, frozen_clock
from dstui.cli import main
from dstui.commands.context import make_client
from dstui.config import Connection
from tests.cli.harness import Outcome, Runner
from tests.emulator_fixtures import retry_without_waiting

Factory = Callable[[Connection], SessionPoolAPI]


class MainRunner(Protocol):
    def __call__(self, *argv: str, factory: Factory | None = None) -> Outcome: ...


def client_without_retry_waits(connection: Connection) -> SessionsClient:
    """The CLI's own make_client (env token, TLS, logging), only its retries do not sleep."""
    return make_client(connection, retry=retry_without_waiting())


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> MainRunner:
    """`main(argv)` with an empty, non-terminal stdin; returns exit code, stdout and stderr.
    Without a factory the client is the CLI's own, minus real sleeps between retries."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    def invoke(*argv: str, factory: Factory | None = None) -> Outcome:
        code = main(list(argv), client_factory=factory or client_without_retry_waits)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def fake() -> FakePool:
    """The one in-memory pool (two sessions), as the TUI, `--demo` and the benchmarks use it."""
    return FakePool(session_count=2)


@pytest.fixture
def run(fake: FakePool, run_main: MainRunner, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """`main` against the in-memory FakePool (any loopback endpoint will do), with the
    commands' "now" frozen at the pool's clock so expiry texts do not drift."""
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr("dstui.commands.sessions.utc_now", frozen_clock)

    def invoke(*argv: str) -> Outcome:
        return run_main(*argv, factory=lambda connection: fake)

    return invoke
