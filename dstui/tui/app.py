"""DstuiApp: themes, keymap, the single 1 s timer, the message log, and the main screen wired
to one pool.

Theme precedence, the most recent explicit choice winning: `--theme` for that run; else the
theme last chosen in the palette, unless the config file's `theme` was changed after that
choice; else the config file's `theme`; else dstui-dark.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import replace
from datetime import UTC
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import BindingType
from textual.dom import DOMNode
from textual.events import DescendantFocus
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, TextArea

from dstui.api.errors import DynamicSessionsError, safe_text
from dstui.api.models import Session
from dstui.api.protocol import SessionPoolAPI
from dstui.tui.actions import binding_scopes
from dstui.tui.errors import describe_error
from dstui.tui.key_bursts import read_escape_pairs_as_two_keys, split_escape_prefix
from dstui.tui.keymap_check import check_keymap
from dstui.tui.message_log import LogEntry, MessageLog
from dstui.tui.pool_directory import PoolDirectory, pool_key
from dstui.tui.screens.main import MainScreen
from dstui.tui.settings import AppSettings
from dstui.tui.themes import DEFAULT_THEME, bundled_themes_dir, load_themes, user_themes_dir

if TYPE_CHECKING:
    from dstui.api.arm_models import SessionPoolResource

STATE_FILE = "tui-state.json"
KEY_TRAIL_TIMEOUT_S = 0.5  # a key whose widget went away mid-trail holds the next no longer


class DstuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "dstui"
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(
        self,
        pool: SessionPoolAPI | None,
        settings: AppSettings,
        pools: PoolDirectory | None = None,
    ) -> None:
        """Without a pool, the app opens on the pool picker of `pools` (ARM, no endpoint)."""
        super().__init__()
        self.pool = pool
        self.settings = settings
        self.pools = pools  # where the pool picker's pools come from; None: no ARM
        self.messages = MessageLog()
        self._key_backlog: deque[events.Key] = deque()
        self._key_in_flight: Timer | None = None  # the fallback that ends a key's trail
        self._key_generation = 0
        read_escape_pairs_as_two_keys()
        self._main: MainScreen | None = MainScreen(pool, settings) if pool is not None else None
        self.theme_errors: list[str] = []
        self._theme_warning = ""
        if settings.test_mode:
            self.animation_level = "none"
        # Before the first CSS pass: changing the theme after mount re-parses every stylesheet.
        self._register_themes()

    # -- start-up ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._push_first_screen()
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
            main = self._main
            leaving = event.key == "escape" and main is not None and self.screen is main
            if leaving and main is not None and main.leave_input():
                return
            target = self.focused or self.screen
            await super().on_event(event)
            if event.is_forwarded and self._main is not None and self.screen is self._main:
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
        if self.pools is None:
            return self.main_screen
        # Pools can be switched: every main screen (or the picker) is pushed over a blank
        # base, so the old one can be popped, and removed, before the next one is pushed.
        return Screen(id="pools-base")

    def _push_first_screen(self) -> None:
        if self.pools is not None:
            from dstui.tui.screens.pool_picker import PoolPickerScreen

            self.push_screen(self._main or PoolPickerScreen(self.pools))

    # -- pools: the main screen is rebuilt for each pool picked --------------------------

    @property
    def main_screen(self) -> MainScreen:
        if self._main is None:
            raise RuntimeError("no pool is open yet (the pool picker is showing)")
        return self._main

    def open_main_screen(self) -> MainScreen | None:
        """The main screen of the pool open now, if it is attached."""
        main = self._main
        return main if main is not None and main.is_attached else None

    def has_open_pool(self) -> bool:
        return self.open_main_screen() is not None

    def refresh_open_pool(self) -> None:
        """Sessions were deleted elsewhere (across pools): list the open pool again."""
        main = self.open_main_screen()
        if main is not None:
            main.load_sessions(refresh=True)

    def loaded_in_open_pool(self) -> int | None:
        """How many sessions the open pool has, when its whole list is loaded."""
        main = self.open_main_screen()
        if main is None or not main.is_mounted or main.sessions.more_available:
            return None
        return len(main.sessions.loaded_order)

    def open_pool(self, resource: SessionPoolResource, session: Session | None = None) -> bool:
        """Open the pool picked in the picker with a new main screen and a new client: nothing
        of the old pool (list, files, metadata, a run's target) is kept. Refused while a run,
        a transfer or a bulk delete is in flight in the old pool. `session` (from the
        across-pools view) is selected once the new list is in."""
        if self.pools is None:
            return False
        old = self.open_main_screen()
        if old is not None:
            stoppable = old.runs.in_flight()
            lost = [*stoppable, *old.pool_ops.deleting()]
            if lost:
                hint = ", or stop waiting first (f4)" if stoppable else ""
                self.notify(
                    f"Not switching pools: {' and '.join(lost)} in flight in "
                    f"{self.settings.pool_label}. Wait for it{hint}.",
                    severity="warning",
                    markup=False,
                )
                return False
        try:
            client = self.pools.open(resource)
        except DynamicSessionsError as exc:
            shown = describe_error(exc)  # redacted, control characters escaped
            self.notify(
                f"Cannot open {safe_text(resource.name)}: {shown}", severity="error", markup=False
            )
            return False
        settings = replace(
            self.settings,
            pool_label=self.pools.label(resource),
            emulator=False,
            pool_resource=resource,
            pool_key=pool_key(resource),
        )
        old_pool = self.pool
        self.settings = settings
        self.pool = client
        self._main = MainScreen(client, settings)
        if session is not None:
            self._main.pool_ops.select_when_listed(session)
        self.run_worker(
            self._switch_to(self._main, old_pool),
            group="switch-pool",
            description="Opening the pool",
            exit_on_error=False,
        )
        return True

    async def _switch_to(self, main: MainScreen, old_pool: SessionPoolAPI | None) -> None:
        # The old main screen (and the picker over it) goes before the new one is mounted:
        # both are `#main`.
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.push_screen(main)
        if old_pool is not None and old_pool is not self.pool and self.pools is not None:
            await self.pools.release(old_pool)

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
        main = self.open_main_screen()
        if main is not None:
            main.tick()

    def _periodic_refresh(self) -> None:
        main = self.open_main_screen()
        if main is not None:
            main.periodic_refresh()

    async def action_quit(self) -> None:
        """q and ctrl+q: the main screen asks first when a run or a transfer would be lost."""
        main = self.open_main_screen()
        if main is not None:
            main.confirm_quit()
        else:
            self.exit()

    async def on_unmount(self) -> None:
        # A demo pool opened from the picker is also kept by the directory: closed once, there.
        if self.pool is not None and self.pools is not None:
            await self.pools.release(self.pool)
        elif self.pool is not None:
            await self.pool.aclose()
        if self.pools is not None:
            await self.pools.aclose()
