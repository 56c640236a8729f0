"""Fixtures for the CLI tests: run `dstui.cli.main` in-process and capture what it prints."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any, Protocol

import pytest

from dstui.cli import main
from dstui.config import Connection
from tests.cli.fakes import FakeClient, Outcome, Runner, factory_for

Factory = Callable[[Connection], Any]


class MainRunner(Protocol):
    def __call__(self, *argv: str, factory: Factory | None = None) -> Outcome: ...


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> MainRunner:
    """`main(argv)` with an empty, non-terminal stdin; returns exit code, stdout and stderr."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    def invoke(*argv: str, factory: Factory | None = None) -> Outcome:
        code = main(list(argv), client_factory=factory)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def fake() -> FakeClient:
    return FakeClient()


@pytest.fixture
def run(fake: FakeClient, run_main: MainRunner, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """`main` against the in-memory FakeClient (any loopback endpoint will do)."""
    monkeypatch.setenv("DSTUI_ENDPOINT", "http://127.0.0.1:9")

    def invoke(*argv: str) -> Outcome:
        return run_main(*argv, factory=factory_for(fake))

    return invoke
