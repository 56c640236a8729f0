"""What the command line asks of the TUI (built by dstui.cli, consumed by dstui.tui.run)."""

from __future__ import annotations

from dataclasses import dataclass

from dstui.config import Connection


@dataclass(frozen=True)
class TuiOptions:
    connection: Connection | None  # None => the embedded emulator
    use_emulator: bool = False  # --emulator forces the embedded emulator
    read_only: bool = False
    theme: str | None = None
    demo: bool = False  # deterministic fake pool (screenshots, tries without kernels)
