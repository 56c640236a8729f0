"""The Textual explorer. Import is cheap: Textual loads only when `run` is called."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dstui.tui.launch import LaunchOptions


def run(options: LaunchOptions) -> int:
    from dstui.tui.startup import run as run_app

    return run_app(options)
