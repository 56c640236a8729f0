"""The command palette's dstui commands: the registry's palette entries, read-only aware, with
their keys and ↻ on the ones that touch a session.

Listed in `MainScreen.COMMANDS`, so a palette opened over a modal offers none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from dstui.tui.actions import ACTIONS, GLOBAL, MAIN_TARGETS, palette_actions
from dstui.tui.pool_type import PoolType


def shown_key(app: App[Any], binding: Binding) -> str:
    """The binding's first key as the footer writes it, after the keymap."""
    keys = app._keymap.get(binding.id or "", binding.key)
    return app.get_key_display(replace(binding, key=keys.split(",")[0].strip()))


def action_keys(app: App[Any]) -> dict[str, str]:
    """The registry's `run` → its keys (`i (Sessions) / i (Metadata)`), after the keymap."""
    found: dict[str, list[str]] = {}
    for action in ACTIONS:
        for target in (target for target in action.where if target in MAIN_TARGETS):
            where = "" if target == GLOBAL else f" ({target})"
            label = f"{shown_key(app, action.binding(target))}{where}"
            if label not in found.setdefault(action.run, []):
                found[action.run].append(label)
    return {run: " / ".join(labels) for run, labels in found.items()}


def with_keys(keys: str, help_text: str) -> str:
    """`ctrl+d (Sessions) · Asks first`: the keys first, so they line up in the list."""
    return " · ".join(part for part in (keys, help_text) if part)


class MainScreenCommands(Provider):
    def _available(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = self.screen  # the main screen: this provider is listed in its COMMANDS only
        keys = action_keys(self.app)
        commands: list[tuple[str, Callable[[], object], str]] = []
        for action in palette_actions():
            if screen.check_action(action.name, ()) is False:
                continue
            described = with_keys(keys.get(action.run, ""), action.help)
            title = action.palette_title or action.label
            pool_type = getattr(screen, "pool_type", None)  # PoolScreen's; the palette's screen
            if isinstance(pool_type, PoolType):
                title = pool_type.palette_title(action.name, title)
            commands.append((title, partial(screen.run_action, action.run), described))
        return commands

    async def discover(self) -> Hits:
        for title, callback, help_text in self._available():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._available():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
