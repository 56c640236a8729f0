"""What the Traffic and Timeline views share: recordings opened on first use (never created)
and closed on leaving, a stacked layout when narrow, and the theme's status colours."""

from __future__ import annotations

from pathlib import Path

from textual.events import Resize
from textual.screen import Screen

from dstui.recording.store import RecordingStore
from dstui.tui.recording_sources import TrafficOutcome

NARROW_WIDTH = 110  # below this the detail goes under the table


class RecordingView(Screen[TrafficOutcome | None]):
    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self._stores: dict[Path, RecordingStore] = {}

    def opened_store(self, path: Path) -> RecordingStore:
        """The recording at `path`, opened once; RecordingError while it does not exist."""
        store = self._stores.get(path)
        if store is None:
            store = RecordingStore(path, create=False)
            self._stores[path] = store
        return store

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW_WIDTH, "-narrow")

    def on_unmount(self) -> None:
        for store in self._stores.values():
            store.close()
        self._stores.clear()

    def status_colours(self) -> dict[str, str]:
        """The theme's error, warning and success colours (those it defines)."""
        theme = self.app.current_theme
        found = {"error": theme.error, "warning": theme.warning, "success": theme.success}
        return {name: colour for name, colour in found.items() if colour}
