"""Shared Pilot steps for the TUI tests: wait for the app's work, find the main screen, and
build snap_compare `run_before` callbacks from key presses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DirectoryTree

from dstui.tui.screens.main import MainScreen

RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the app's own workers (a DirectoryTree keeps a loader worker alive forever)."""
    for _ in range(2):
        pending = [w for w in pilot.app.workers if not isinstance(w.node, DirectoryTree)]
        if pending:  # an empty list would mean "every worker", DirectoryTree's included
            await pilot.app.workers.wait_for_complete(pending)
        await pilot.pause()


def main_screen(app: App[Any]) -> MainScreen:
    screen = getattr(app, "main_screen", None)
    assert isinstance(screen, MainScreen)
    return screen


def presses(*groups: str | tuple[str, ...]) -> RunBefore:
    """Settle, then press each group of keys (a key or a tuple of keys), settling after each."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for group in groups:
            await pilot.press(*((group,) if isinstance(group, str) else group))
            await settle(pilot)

    return run_before


async def run_snippet(pilot: Pilot[Any], code: str, *, asynchronous: bool = False) -> None:
    """Put `code` in the editor and run it in the selected session (f6 first: async mode)."""
    await settle(pilot)
    main_screen(pilot.app).code.editor.text = code
    if asynchronous:
        await pilot.press("f6")
    await pilot.press("ctrl+r")
    await settle(pilot)


def snippet(code: str, *, asynchronous: bool = False) -> RunBefore:
    async def run_before(pilot: Pilot[Any]) -> None:
        await run_snippet(pilot, code, asynchronous=asynchronous)

    return run_before
