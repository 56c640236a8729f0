"""What the command line asks of one TUI run: which pool (an endpoint's connection, the embedded
emulator or the demo pool), read-only, theme. Built by dstui.cli, consumed by dstui.tui.run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dstui.config import Connection

if TYPE_CHECKING:
    from dstui.tui.pool_directory import ArmPools


@dataclass(frozen=True)
class LaunchOptions:
    connection: Connection | None  # None => the embedded emulator
    use_emulator: bool = False  # --emulator forces the embedded emulator
    read_only: bool = False
    theme: str | None = None
    demo: bool = False  # deterministic fake pool (screenshots, tries without kernels)
    # The pool picker's ARM client, built at start (dstui.commands.pool_names.open_arm); with
    # no endpoint given the app opens on the picker. arm_connection: how picked pools are
    # reached (auth, api-version, CA file), as for an endpoint.
    arm: Callable[[], ArmPools] | None = None
    arm_connection: Connection | None = None
    container_type: str | None = None  # --container-type: PythonLTS, Shell or CustomContainer
