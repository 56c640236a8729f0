"""Everything the routes share during one emulator run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dstui.emulator.config import EmulatorConfig
from dstui.emulator.interpreter import InterpreterInfo
from dstui.emulator.pool import SessionPool


@dataclass
class EmulatorState:
    config: EmulatorConfig
    pool: SessionPool
    interpreter: InterpreterInfo
    started_at: datetime
    background: set[asyncio.Task[None]] = field(default_factory=set)
    # What routes hold beyond the pool (a custom container's app clients), closed at stop.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Keep a reference to a fire-and-forget task (async executions) until it ends."""
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def close(self) -> None:
        for task in list(self.background):
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        for close in reversed(self.closers):
            await close()
        self.closers.clear()
        await self.pool.close()
