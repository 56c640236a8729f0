"""`dstui` without a subcommand opens the TUI; `dstui emulator ...` forwards to the emulator."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

import dstui
from dstui.config import Connection
from tests.cli.conftest import MainRunner


@pytest.fixture
def tui_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Replace dstui.tui.run (the package keeps its real submodules, e.g. options)."""
    calls: list[Any] = []
    fake = types.ModuleType("dstui.tui")
    fake.__path__ = [str(Path(dstui.__file__).parent / "tui")]

    def run(options: Any) -> int:
        calls.append(options)
        return 0

    fake.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dstui.tui", fake)
    return calls


def test_no_subcommand_opens_tui_on_embedded_emulator_when_nothing_configured(
    run_main: MainRunner, tui_calls: list[Any]
) -> None:
    assert run_main("--read-only", "--theme", "dstui-light").code == 0
    (options,) = tui_calls
    assert options.connection is None
    assert options.read_only is True
    assert options.theme == "dstui-light"
    assert (options.use_emulator, options.demo) == (False, False)


def test_tui_gets_the_resolved_connection(
    run_main: MainRunner, tui_calls: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POOL_MANAGEMENT_ENDPOINT", "https://pool.example")
    assert run_main("--demo", "--emulator", "--api-version", "2024-02-02-preview").code == 0
    (options,) = tui_calls
    assert options.connection == Connection(
        endpoint="https://pool.example",
        api_version="2024-02-02-preview",
        auth="default",
        token_file=None,
        source="POOL_MANAGEMENT_ENDPOINT",
        profile=None,
    )
    assert (options.use_emulator, options.demo) == (True, True)


def test_emulator_subcommand_forwards_every_argument(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[list[str]] = []
    fake = types.ModuleType("dstui.emulator")

    def main(argv: list[str] | None = None) -> int:
        received.append(list(argv or []))
        return 7

    fake.main = main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dstui.emulator", fake)
    result = run_main("emulator", "--port", "8123", "--help", "--json", "extra")
    assert result.code == 7
    assert received == [["--port", "8123", "--help", "--json", "extra"]]
