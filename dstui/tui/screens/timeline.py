"""One session's timeline: what the agent (and dstui) did in it, in order, from the recordings
and dstui's run history, with duplicates merged. Reads files only: it never calls the session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Static

from dstui.api.display import escape_controls
from dstui.recording.run_history import RunRecord
from dstui.recording.store import RecordingError, RecordingStore
from dstui.recording.timeline import TimelineEntry, build_timeline
from dstui.tui.actions import TIMELINE, bindings_for
from dstui.tui.recording_sources import RecordingSource, TrafficOutcome
from dstui.tui.screens.recording_view import RecordingView
from dstui.tui.timeline_render import entry_cells, render_entry

COLUMNS = ("time", "status", "kind", "run", "ms", "seen by", "what")
POLL_S = 2.0


class TimelineScreen(RecordingView):
    DEFAULT_CSS = """
    TimelineScreen { layout: vertical; }
    #timeline-title { height: 1; background: $panel; padding: 0 1; }
    #timeline-hint { height: 1; color: $text-muted; padding: 0 1; }
    #timeline-hint.-only-recorded { color: $text-warning; }
    #timeline-body { height: 1fr; }
    #timeline-table { width: 3fr; height: 1fr; }
    #timeline-detail { width: 2fr; height: 1fr; border-left: solid $primary-muted; padding: 0 1; }
    TimelineScreen.-narrow #timeline-body { layout: vertical; }
    TimelineScreen.-narrow #timeline-table { width: 1fr; }
    TimelineScreen.-narrow #timeline-detail {
        width: 1fr; border-left: none; border-top: solid $primary-muted;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(TIMELINE)

    def __init__(
        self,
        identifier: str,
        sources: Sequence[RecordingSource],
        *,
        in_pool: bool,
        runs: Callable[[str], Sequence[RunRecord]] = lambda _identifier: (),
        poll_s: float = POLL_S,
    ) -> None:
        super().__init__(id="timeline")
        self.identifier = identifier
        self.sources = list(sources)
        self.in_pool = in_pool
        self.runs = runs
        self.poll_s = poll_s
        self.entries: list[TimelineEntry] = []
        self._missing: list[str] = []
        self._seen_numbers: tuple[int, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(id="timeline-title", markup=False)
        yield Static(id="timeline-hint", markup=False)
        with Horizontal(id="timeline-body"):
            yield DataTable(id="timeline-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="timeline-detail"):
                yield Static(id="timeline-detail-body")
        yield Footer()

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#timeline-table", DataTable)

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.table.add_column(column, key=column)
        self.table.focus()
        where = "in the session list" if self.in_pool else "only in the recording"
        hint = self.query_one("#timeline-hint", Static)
        hint.set_class(not self.in_pool, "-only-recorded")
        if self.in_pool:
            hint.update(f"{where} · enter: load an execution's code · g: go to it in the list")
        else:
            hint.update(
                f"{where}: the loaded session list does not have it (expired, deleted, or "
                "another pool) · enter: load an execution's code"
            )
        self.load_timeline()
        if self.poll_s > 0:
            self.set_interval(self.poll_s, self._poll, name="timeline-follow")

    # -- reading (in a thread) -----------------------------------------------------------

    def _open_stores(self) -> dict[str, RecordingStore]:
        """The recordings that exist, by label; the others are named as not recorded yet."""
        self._missing = []
        stores: dict[str, RecordingStore] = {}
        for source in self.sources:
            try:
                stores[source.label] = self.opened_store(source.path)
            except RecordingError:
                self._missing.append(source.label)
        return stores

    def _read(self) -> tuple[tuple[int, ...], list[TimelineEntry]]:
        stores = self._open_stores()
        numbers = tuple(store.last_number() for store in stores.values())
        entries = build_timeline(self.identifier, stores, runs=self.runs(self.identifier))
        return numbers, entries

    def _numbers(self) -> tuple[int, ...]:
        return tuple(store.last_number() for store in self._open_stores().values())

    @work(group="timeline-load", exclusive=True, exit_on_error=False, description="Timeline")
    async def load_timeline(self) -> None:
        try:
            numbers, entries = await asyncio.to_thread(self._read)
        except RecordingError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        self._seen_numbers = numbers
        self._show(entries)

    @work(group="timeline-poll", exit_on_error=False, description="Timeline")
    async def _poll_once(self) -> None:
        try:
            numbers = await asyncio.to_thread(self._numbers)
        except RecordingError:
            return
        if numbers != self._seen_numbers:  # something was recorded: rebuild (cheap, bounded)
            self.load_timeline()

    def _poll(self) -> None:
        if not any(w.is_running for w in self.workers):
            self._poll_once()

    def _show(self, entries: list[TimelineEntry]) -> None:
        table = self.table
        at_end = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        kept = table.cursor_row
        self.entries = entries
        table.clear()
        colours = {name: f"bold {colour}" for name, colour in self.status_colours().items()}
        for index, entry in enumerate(entries):
            table.add_row(*entry_cells(entry, colours), key=str(index))
        if entries:
            table.move_cursor(row=len(entries) - 1 if at_end else min(kept, len(entries) - 1))
        self._update_title()
        self._show_detail()

    def _update_title(self) -> None:
        executions = sum(1 for entry in self.entries if entry.kind == "execution")
        parts = [
            f"Timeline · {escape_controls(self.identifier)}",
            f"{len(self.entries)} entries, {executions} executions",
            "from " + ", ".join(s.label for s in self.sources if s.label not in self._missing),
        ]
        if self._missing:
            parts.append(f"not recorded yet: {', '.join(self._missing)}")
        self.query_one("#timeline-title", Static).update(" · ".join(parts))

    # -- selection -------------------------------------------------------------------------

    def highlighted(self) -> TimelineEntry | None:
        row = self.table.cursor_row
        return self.entries[row] if self.entries and 0 <= row < len(self.entries) else None

    @on(DataTable.RowHighlighted, "#timeline-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        entry = self.highlighted()
        body = self.query_one("#timeline-detail-body", Static)
        if entry is None:
            body.update("Nothing recorded for this session yet.")
        else:
            body.update(render_entry(entry))

    @on(DataTable.RowSelected, "#timeline-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        entry = self.highlighted()
        if entry is None:
            return
        if not entry.code:
            self.app.notify(f"This is {entry.operation}: no code to load.", markup=False)
            return
        self.dismiss(TrafficOutcome(self.identifier, entry.code))

    def action_go_to_session(self) -> None:
        if not self.in_pool:
            self.app.notify(
                f"{self.identifier} is only in the recording: the loaded session list does not "
                "have it.",
                severity="warning",
                markup=False,
            )
            return
        self.dismiss(TrafficOutcome(self.identifier))

    def action_reload(self) -> None:
        self.load_timeline()

    def action_back(self) -> None:
        self.dismiss(None)
