"""`@pytest.mark.sandbox`: the test needs a namespace sandbox (bubblewrap that really works).

Where none can run it is skipped with the reasons, unless DSTUI_REQUIRE_SANDBOX=1 (CI): then it
fails, so a missing sandbox can never hide behind skips. The variable is read at import,
before the per-test fixtures clear every DSTUI_ variable.
"""

from __future__ import annotations

import functools
import os

import pytest

from dstui.emulator.config import SandboxMode
from dstui.emulator.sandbox_resolution import SandboxChoice, find_bwrap

REQUIRE_SANDBOX = os.environ.get("DSTUI_REQUIRE_SANDBOX") == "1"


def _suite_sandbox() -> SandboxMode:
    wanted = os.environ.get("DSTUI_TEST_SANDBOX") or ("bwrap" if REQUIRE_SANDBOX else "auto")
    match wanted:
        case "auto" | "bwrap" | "none":
            return wanted
    raise pytest.UsageError(f"DSTUI_TEST_SANDBOX={wanted!r}: use auto, bwrap or none")


# The shared emulator's --sandbox; DSTUI_TEST_SANDBOX=none runs the suite without isolation.
SUITE_SANDBOX = _suite_sandbox()


@functools.cache
def available_sandbox() -> SandboxChoice:
    return find_bwrap()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("sandbox") is None:
        return
    if SUITE_SANDBOX == "none":
        pytest.skip("the suite runs with DSTUI_TEST_SANDBOX=none")
    choice = available_sandbox()
    if choice.kind == "bwrap":
        return
    reason = "no namespace sandbox here: " + "; ".join(choice.passed_over)
    if REQUIRE_SANDBOX:
        pytest.fail(f"DSTUI_REQUIRE_SANDBOX=1 but {reason}", pytrace=False)
    pytest.skip(reason)
