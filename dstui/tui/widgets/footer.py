"""The key bar: the focused pane's keys and the global ones, drawn by a single widget.

Textual's Footer builds one widget per key and rebuilds all of them on every focus move; at
start-up that was ~55 ms of a ~290 ms first frame, and ~15 ms of every `tab`. This bar reads
`screen.active_bindings` when it renders, so a focus move is one repaint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import RenderResult
from textual.content import Content
from textual.events import Click
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, TextArea

KEY_STYLE = "bold $footer-key-foreground"
DISABLED_STYLE = "dim"
HELP_KEY = "question_mark"
# Kept when the bar is too narrow, by binding id: new, open, zoom, messages, help, quit.
KEPT_IDS = frozenset({"new-session", "open-session", "maximize-pane", "messages", "help", "quit"})
LEAVE_INPUT = "Leave field"
ZOOM_ID = "maximize-pane"
ZOOMED_DESCRIPTION = "Unzoom (esc too)"


@dataclass(frozen=True, slots=True)
class _Key:
    key: str  # what a click simulates
    label: str  # how the key is written
    description: str
    enabled: bool
    kept: bool = False  # never dropped for room
    pane: bool = False  # the focused pane's own key: dropped before the global ones


class KeysFooter(Widget, can_focus=False):
    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="footer")
        self._spans: list[tuple[int, int, str]] = []  # x from, x to, key

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is self.screen:
            self.refresh()

    def _keys(self) -> tuple[list[_Key], _Key | None]:
        """One entry per action (its first key), in binding order, plus the palette key."""
        shown: list[_Key] = []
        seen_actions: set[str] = set()
        palette: _Key | None = None
        if isinstance(self.screen.focused, Input | TextArea):
            # Typing goes to the field; say how to get the pane keys back.
            shown.append(_Key("escape", "esc", LEAVE_INPUT, True, kept=True))
        zoomed = self.screen.maximized is not None
        # The pool's word for a key (ctrl+d says Stop in a custom container): the screen's.
        describe = getattr(self.screen, "key_description", None)
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            description = describe(binding) if describe is not None else binding.description
            if zoomed and binding.id == ZOOM_ID:
                description = ZOOMED_DESCRIPTION  # the header and pane bar are hidden now
            entry = _Key(
                key,
                self.app.get_key_display(binding),
                description,
                active.enabled,
                kept=key == HELP_KEY or binding.id in KEPT_IDS,
                pane=not isinstance(active.node, Screen) and active.node is not self.app,
            )
            if key == self.app.COMMAND_PALETTE_BINDING:
                if self.app.ENABLE_COMMAND_PALETTE:
                    palette = entry
            elif binding.show and binding.action not in seen_actions:
                seen_actions.add(binding.action)
                shown.append(entry)
        return shown, palette

    def render(self) -> RenderResult:
        shown, palette = self._keys()
        pieces = [(entry, self._piece(entry)) for entry in shown]
        tail = self._piece(palette) if palette is not None else Content("")
        room = self.size.width - tail.cell_length
        # Too narrow: drop the pane's keys from the end, then global ones, but never `?`
        # (which lists all of them), zoom, new, open, messages or quit.
        while pieces and sum(piece.cell_length for _, piece in pieces) > room:
            droppable = [i for i, (entry, _) in enumerate(pieces) if not entry.kept]
            droppable = [i for i in droppable if pieces[i][0].pane] or droppable
            if not droppable:
                break
            del pieces[droppable[-1]]
        parts: list[Content] = []
        spans: list[tuple[int, int, str]] = []
        x = 0
        for entry, piece in pieces:
            spans.append((x, x + piece.cell_length, entry.key))
            parts.append(piece)
            x += piece.cell_length
        if palette is not None:
            start = max(x, self.size.width - tail.cell_length)
            parts += [Content(" " * (start - x)), tail]
            spans.append((start, start + tail.cell_length, palette.key))
        self._spans = spans
        return Content.assemble(*parts)

    @staticmethod
    def _piece(entry: _Key) -> Content:
        piece = Content.assemble(
            (f" {entry.label}", KEY_STYLE), f" {entry.description} " if entry.description else " "
        )
        return piece if entry.enabled else piece.stylize(DISABLED_STYLE)

    def on_click(self, event: Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
