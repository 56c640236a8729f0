"""`dstui` with an ARM endpoint and no pool endpoint opens on the pool picker; --demo and the
embedded emulator without one never ask ARM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dstui import cli
from dstui.api.arm import ArmClient
from dstui.tui.launch import LaunchOptions


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[LaunchOptions]:
    seen: list[LaunchOptions] = []

    def fake_run(options: LaunchOptions) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr("dstui.tui.run", fake_run)
    for name in ("DSTUI_ENDPOINT", "POOL_MANAGEMENT_ENDPOINT", "ACA_POOL_MANAGEMENT_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DSTUI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DSTUI_TOKEN", "launch-test-token")
    return seen


async def _endpoint_of(factory: Any) -> str:
    arm = factory()
    assert isinstance(arm, ArmClient)
    await arm.aclose()
    return arm.endpoint


async def test_an_arm_endpoint_without_a_pool_opens_the_picker(
    launched: list[LaunchOptions], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSTUI_ARM_ENDPOINT", "http://127.0.0.1:9")
    assert cli.main(["--auth", "token"]) == 0
    (options,) = launched
    assert options.connection is None and options.arm is not None
    assert options.arm_connection is not None and options.arm_connection.auth == "token"
    assert await _endpoint_of(options.arm) == "http://127.0.0.1:9"


def test_the_demo_and_the_plain_emulator_do_not_ask_arm(
    launched: list[LaunchOptions], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSTUI_ARM_ENDPOINT", "http://127.0.0.1:9")
    assert cli.main(["--demo"]) == 0
    monkeypatch.delenv("DSTUI_ARM_ENDPOINT")
    assert cli.main(["--auth", "none"]) == 0
    assert [options.arm for options in launched] == [None, None]
