"""DstuiApp: themes, keymap, the single 1 s timer, the message log, and the main screen wired
to one pool.

Theme precedence, the most recent explicit choice winning: `--theme` for that run; else the
theme last chosen in the palette, unless the config file's `theme` was changed after that
choice; else the config file's `theme`; else dstui-dark.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import BindingType
from textual.dom import DOMNode
from textual.events import DescendantFocus
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, TextArea

from dstui.api.errors import safe_text
from dstui.api.protocol import SessionPoolAPI
from dstui.tui.commands import DstuiCommands
from dstui.tui.key_bursts import read_escape_pairs_as_two_keys, split_escape_prefix
from dstui.tui.keymap_check import check_keymap
from dstui.tui.message_log import LogEntry, MessageLog
from dstui.tui.screens.main import MainScreen, binding_scopes
from dstui.tui.settings import AppSettings
from dstui.tui.themes import DEFAULT_THEME, bundled_themes_dir, load_themes, user_themes_dir

STATE_FILE = "tui-state.json"
KEY_TRAIL_TIMEOUT_S = 0.5  # a key whose widget went away mid-trail holds the next no longer


class DstuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "dstui"
    COMMANDS = App.COMMANDS | {DstuiCommands}
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, pool: SessionPoolAPI, settings: AppSettings) -> None:
        super().__init__()
        self.pool = pool
        self.settings = settings
        self.messages = MessageLog()
        self._key_backlog: deque[events.Key] = deque()
        self._key_in_flight: Timer | None = None  # the fallback that ends a key's trail
        self._key_generation = 0
        read_escape_pairs_as_two_keys()
        self.main_screen = MainScreen(pool, settings)
        self.theme_errors: list[str] = []
        self._theme_warning = ""
        if settings.test_mode:
            self.animation_level = "none"
        # Before the first CSS pass: changing the theme after mount re-parses every stylesheet.
        self._register_themes()

    # -- start-up ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.theme_errors:
            listing = "; ".join(self.theme_errors)
            self.notify(f"Skipped invalid theme files: {listing}", severity="error", markup=False)
        if self._theme_warning:
            self.notify(self._theme_warning, severity="warning", markup=False)
        self._apply_keymap()
        if not self.settings.test_mode:
            self.set_interval(1.0, self._tick, name="countdown")
            if self.settings.auto_refresh_s > 0:
                self.set_interval(self.settings.auto_refresh_s, self._periodic_refresh)
        self.theme_changed_signal.subscribe(self, lambda theme: self._save_theme(theme.name))

    def _register_themes(self) -> None:
        directories = [bundled_themes_dir(), user_themes_dir(), *self.settings.extra_theme_dirs]
        themes, errors = load_themes(directories)
        for theme in themes:
            self.register_theme(theme)
        self.theme_errors = [str(error) for error in errors]
        wanted = self.settings.theme or self._saved_theme() or self.settings.config_theme
        wanted = wanted or DEFAULT_THEME
        if wanted not in self.available_themes:
            self._theme_warning = f"Unknown theme {wanted!r}; using {DEFAULT_THEME}."
            wanted = DEFAULT_THEME
        self.theme = wanted

    def _apply_keymap(self) -> None:
        """Apply the entries that are safe; name each bad one once (file and line)."""
        keymap, problems = check_keymap(
            self.settings.keymap, binding_scopes(), self.settings.keymap_lines
        )
        self.set_keymap(keymap)
        if problems:
            source = self.settings.config_path
            listing = "\n".join(problem.describe(source) for problem in problems)
            self.notify(
                f"Key bindings left as they were:\n{listing}",
                severity="error",
                markup=False,
                timeout=30,
            )

    # -- messages: every toast is kept in the log (e reopens it) ----------------------------

    def stamp(self) -> str:
        return self.settings.clock().astimezone(UTC).strftime("%H:%M:%S")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        message = safe_text(message)  # may name server files or repeat a server's message
        self.messages.note(self.stamp(), message, severity)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def notify_logged(self, entry: LogEntry, text: str, *, timeout: float = 8) -> None:
        """A toast for an entry already in the log with its full details."""
        self.messages.add(entry)
        super().notify(safe_text(text), severity="error", markup=False, timeout=timeout)

    # -- keys -------------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._key_in_flight is not None:
                self._key_backlog.append(event)  # after the key before it is done
                return
            pair = split_escape_prefix(event)
            if pair is not None:
                for key in pair:
                    await self.on_event(key)
                return
            # esc always leaves an input of the main screen, before the input sees it.
            leaving = event.key == "escape" and self.screen is self.main_screen
            if leaving and self.main_screen.leave_input():
                return
            target = self.focused or self.screen
            await super().on_event(event)
            if event.is_forwarded and self.screen is self.main_screen:
                self._follow_key(target)
            return
        await super().on_event(event)

    # A forwarded key bubbles from the focused widget up to the app, one message queue at a
    # time, and its binding is looked up from the focus as it is by then. In a burst (tmux
    # send-keys, a paste, a slow ssh link: `j 3 x`) the next key would be forwarded before
    # `3` has moved the focus, or move it before `j` has run. So the next key waits until a
    # marker, sent up the same queues behind the key, reaches the app.

    def _follow_key(self, target: DOMNode) -> None:
        # Numbered: a trail that arrives after its timeout fired must not end the next key's.
        self._key_generation += 1
        generation = self._key_generation
        self._key_in_flight = self.set_timer(
            KEY_TRAIL_TIMEOUT_S, partial(self._key_done, generation)
        )
        target.call_later(self._trail_key, target, generation)

    async def _trail_key(self, node: DOMNode, generation: int) -> None:
        parent = node.parent
        if parent is None or node is self:
            await self._key_done(generation)
        else:
            parent.call_later(self._trail_key, parent, generation)

    async def _key_done(self, generation: int) -> None:
        if self._key_in_flight is None or generation != self._key_generation:
            return
        self._key_in_flight.stop()
        self._key_in_flight = None
        while self._key_backlog and self._key_in_flight is None:
            await self.on_event(self._key_backlog.popleft())

    def get_default_screen(self) -> Screen[Any]:
        return self.main_screen

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        """No blinking cursors in snapshots. A cursor only shows, and blinks, while its widget
        has the focus, so this covers widgets mounted later and every modal too."""
        if self.settings.test_mode and isinstance(event.widget, Input | TextArea):
            event.widget.cursor_blink = False

    # -- theme persistence ------------------------------------------------------------------

    def _state_path(self) -> Path:
        return self.settings.data_dir / STATE_FILE

    def _saved_theme(self) -> str | None:
        """The palette's last choice, unless the config file's theme changed since then."""
        try:
            data = json.loads(self._state_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        theme = data.get("theme")
        if data.get("config_theme") != self.settings.config_theme:
            return None  # the config file was edited after the choice: it is the newer one
        return theme if isinstance(theme, str) else None

    def _save_theme(self, name: str) -> None:
        path = self._state_path()
        state = {"theme": name, "config_theme": self.settings.config_theme}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(state), encoding="utf-8")
        except OSError as exc:
            self.notify(f"Could not save the theme choice: {exc}", severity="warning", markup=False)

    # -- timers -----------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.main_screen.is_attached:
            self.main_screen.tick()

    def _periodic_refresh(self) -> None:
        if self.main_screen.is_attached:
            self.main_screen.periodic_refresh()

    async def action_quit(self) -> None:
        """q and ctrl+q: the main screen asks first when a run or a transfer would be lost."""
        if self.main_screen.is_attached:
            self.main_screen.confirm_quit()
        else:
            self.exit()

    async def on_unmount(self) -> None:
        await self.pool.aclose()
