"""DstuiApp: themes, keymap, the single 1 s timer, and the main screen wired to one pool."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import BindingType
from textual.events import DescendantFocus
from textual.screen import Screen
from textual.widgets import Input, TextArea

from dstui.api.protocol import SessionPoolAPI
from dstui.tui.commands import DstuiCommands
from dstui.tui.screens.main import MainScreen
from dstui.tui.settings import AppSettings
from dstui.tui.themes import DEFAULT_THEME, bundled_themes_dir, load_themes, user_themes_dir

STATE_FILE = "tui-state.json"


class DstuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "dstui"
    COMMANDS = App.COMMANDS | {DstuiCommands}
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, pool: SessionPoolAPI, settings: AppSettings) -> None:
        super().__init__()
        self.pool = pool
        self.settings = settings
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
        self.set_keymap(dict(self.settings.keymap))
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
        wanted = self.settings.theme or self._saved_theme() or DEFAULT_THEME
        if wanted not in self.available_themes:
            self._theme_warning = f"Unknown theme {wanted!r}; using {DEFAULT_THEME}."
            wanted = DEFAULT_THEME
        self.theme = wanted

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
        try:
            data = json.loads(self._state_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        theme = data.get("theme") if isinstance(data, dict) else None
        return theme if isinstance(theme, str) else None

    def _save_theme(self, name: str) -> None:
        path = self._state_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"theme": name}), encoding="utf-8")
        except OSError as exc:
            self.notify(f"Could not save the theme choice: {exc}", severity="warning", markup=False)

    # -- timers -----------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.main_screen.is_attached:
            self.main_screen.tick()

    def _periodic_refresh(self) -> None:
        if self.main_screen.is_attached:
            self.main_screen.periodic_refresh()

    async def on_unmount(self) -> None:
        close = getattr(self.pool, "aclose", None)
        if close is not None:
            await close()
