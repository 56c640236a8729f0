"""The base of the main screen's controllers: plain objects, owned by the screen, that hold one
pane's flows and their state, and run their requests as the screen's workers."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from textual.worker import Worker

if TYPE_CHECKING:
    from dstui.tui.screens.base import PoolScreen


class ScreenController:
    def __init__(self, screen: PoolScreen) -> None:
        self.screen = screen

    def start(
        self,
        work: Coroutine[Any, Any, None],
        *,
        group: str,
        description: str,
        exclusive: bool = False,
    ) -> Worker[None]:
        """Run `work` as a worker of the screen: its failures become a notification and the
        status line (never a crash), and the status bar names it while it runs."""
        return self.screen.run_worker(
            work, group=group, description=description, exclusive=exclusive, exit_on_error=False
        )
