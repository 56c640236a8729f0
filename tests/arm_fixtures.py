"""An emulator hosting the demo pools behind its ARM surface, shared by a test module.

Import `arm_emulator` into a test module to use it. List pages hold two entries, so the four
pools of the first subscription take two pages (nextLink is followed in every listing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.emulator.arm_pools import demo_specs
from tests.sandbox_marker import SUITE_SANDBOX

ARM_PAGE_SIZE = 2


@pytest.fixture(scope="module")
def arm_emulator() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(ready_sessions=0, cooldown_s=3600.0, sandbox=SUITE_SANDBOX)
    server = EmulatorServer(config, arm_pools=demo_specs(), arm_page_size=ARM_PAGE_SIZE)
    server.start()
    try:
        yield server
    finally:
        server.stop()
