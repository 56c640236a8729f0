"""The Traffic view: a recording (the proxy's, the embedded emulator's, or dstui's own
requests), followed live, filtered, one exchange in detail.

Following is cheap: every tick asks the store only for rows after the newest one shown
(`newer_than`), in a thread, so a large recording never blocks the event loop. Opening the view
never creates a recording; a missing one is waited for.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from dstui.common.clock import utc_now
from dstui.recording.exchange import Exchange
from dstui.recording.export import ExportError, curl_command, har_log
from dstui.recording.run_history import RunRecord
from dstui.recording.store import Filter, RecordingError, RecordingStore
from dstui.tui.actions import TRAFFIC, bindings_for
from dstui.tui.recording_sources import RecordingSource, TrafficOutcome
from dstui.tui.screens.recording_view import RecordingView
from dstui.tui.screens.timeline import TimelineScreen
from dstui.tui.traffic_filter import FILTER_HELP, FilterSyntaxError, describe_filter, parse_filter
from dstui.tui.traffic_render import render_detail, row_cells, shown_identifier

COLUMNS = ("#", "time", "operation", "session", "st", "ms", "what")
FIRST_LOAD = 500  # newest exchanges shown on opening or after a filter change
MAX_ROWS = 2000  # the oldest rows leave the table beyond this
POLL_S = 0.5
FILTER_DEBOUNCE_S = 0.25  # a filter is applied once typing pauses, not on every keystroke


class TrafficTable(DataTable[object]):
    """Home and End move the highlight (not the view sideways); a resize keeps it on screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "first_row", "First", show=False),
        Binding("end", "last_row", "Last", show=False),
    ]

    def action_first_row(self) -> None:
        self.scroll_x = 0
        self.action_scroll_top()

    def action_last_row(self) -> None:
        self.scroll_x = 0
        self.action_scroll_bottom()

    def on_resize(self, event: Resize) -> None:
        if self.row_count:
            self.call_after_refresh(self.move_cursor, row=self.cursor_row, animate=False)


class TrafficScreen(RecordingView):
    DEFAULT_CSS = """
    TrafficScreen { layout: vertical; }
    #traffic-title { height: 1; background: $panel; color: $text; padding: 0 1; }
    #traffic-filter { height: 1; border: none; padding: 0 1; background: $surface; }
    #traffic-filter:focus { background: $boost; }
    #traffic-hint { height: 1; color: $text-muted; padding: 0 1; }
    #traffic-hint.-error { color: $text-error; }
    #traffic-body { height: 1fr; }
    #traffic-table { width: 3fr; height: 1fr; }
    #traffic-detail { width: 2fr; height: 1fr; border-left: solid $primary-muted; padding: 0 1; }
    TrafficScreen.-narrow #traffic-body { layout: vertical; }
    TrafficScreen.-narrow #traffic-table { width: 1fr; height: 1fr; }
    TrafficScreen.-narrow #traffic-detail {
        width: 1fr; height: 1fr; border-left: none; border-top: solid $primary-muted;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(TRAFFIC)

    def __init__(
        self,
        sources: Sequence[RecordingSource],
        *,
        masked: bool = True,
        poll_s: float = POLL_S,
        first_load: int = FIRST_LOAD,
        max_rows: int = MAX_ROWS,
        initial_filter: str = "",
        session_listed: Callable[[str], bool] = lambda _identifier: True,
        timeline_sources: Sequence[RecordingSource] | None = None,
        runs: Callable[[str], Sequence[RunRecord]] = lambda _identifier: (),
        har_dir: Path = Path("."),
        clock: Callable[[], datetime] = utc_now,
        filter_debounce_s: float = FILTER_DEBOUNCE_S,
        pool_origin: str = "",
    ) -> None:
        super().__init__(id="traffic")
        if not sources:
            raise ValueError("the Traffic view needs at least one recording")
        self.sources = list(sources)
        self.source_index = 0
        self.masked = masked
        self.poll_s = poll_s
        self.first_load = first_load
        self.max_rows = max_rows
        self.initial_filter = initial_filter
        self.session_listed = session_listed
        self.timeline_sources = list(timeline_sources or sources)
        self.runs = runs
        self.har_dir = har_dir
        self.clock = clock
        self.where = Filter()
        self.exchanges: dict[int, Exchange] = {}
        self.after = 0  # the newest exchange number asked for so far
        self._curl_for: tuple[int, str] | None = None
        self._problem = ""
        self.filter_debounce_s = filter_debounce_s
        self.pool_origin = origin_of(pool_origin)  # the open pool's scheme://host[:port]
        self._filter_timer: Timer | None = None
        self._filter_error = ""  # shown under the field until the text parses again

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="traffic-title", markup=False)
        yield Input(
            value=self.initial_filter,
            placeholder=f"/ filter: {FILTER_HELP}",
            id="traffic-filter",
        )
        yield Static(id="traffic-hint", markup=False)
        with Horizontal(id="traffic-body"):
            table = TrafficTable(id="traffic-table", cursor_type="row", zebra_stripes=True)
            yield table
            with VerticalScroll(id="traffic-detail"):
                yield Static(id="traffic-detail-body")
        yield Footer()

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#traffic-table", DataTable)

    @property
    def source(self) -> RecordingSource:
        return self.sources[self.source_index]

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.table.add_column(column, key=column)
        if self.initial_filter:
            self._set_filter(self.initial_filter)
        self.table.focus()
        self._show_detail(None)
        self.reload()
        if self.poll_s > 0:
            self.set_interval(self.poll_s, self.poll_now, name="traffic-follow")

    def _update_title(self) -> None:
        count = len(self.exchanges)
        shown = f"{count} shown" if count < self.max_rows else f"the newest {count}"
        # The essentials first: at 80 columns the path is what gets cut.
        parts = [f"Traffic · {self.source.label}", describe_filter(self.where), shown]
        foreign = self._not_this_pool()
        if foreign:
            parts.append(foreign)
        parts.append(str(self.source.path))
        self.query_one("#traffic-title", Static).update(" · ".join(parts))

    def _not_this_pool(self) -> str:
        """Whether the rows shown can be the open pool's: a recording is the embedded
        emulator's or a proxy's, not necessarily this pool's."""
        if not self.pool_origin or not self.exchanges:
            return ""
        others = sum(
            1
            for e in self.exchanges.values()
            if e.origin and origin_of(e.origin) != self.pool_origin
        )
        if others == len(self.exchanges):
            return "none from this pool"
        return f"{others} from another endpoint" if others else ""

    def _hint(self, text: str, *, error: bool = False) -> None:
        hint = self.query_one("#traffic-hint", Static)
        hint.update(text)
        hint.set_class(error, "-error")

    # -- reading the store (in a thread) -------------------------------------------------

    def _store(self) -> RecordingStore:
        return self.opened_store(self.source.path)

    def _first_rows(self, where: Filter) -> tuple[int, list[Exchange]]:
        store = self._store()
        top = store.last_number()  # read first: nothing written meanwhile is skipped
        return top, store.recent(self.first_load, where)

    @work(group="traffic-load", exclusive=True, exit_on_error=False, description="Reading traffic")
    async def reload(self) -> None:
        """Everything matching the filter again (on opening, a filter change, a switch)."""
        self.workers.cancel_group(self, "traffic-poll")
        where = self.where
        try:
            top, rows = await asyncio.to_thread(self._first_rows, where)
        except RecordingError as exc:
            self._no_recording(str(exc))
            return
        self._problem = ""
        self.table.clear()
        self.exchanges.clear()
        self.after = max(top, rows[-1].id or 0) if rows else top
        self._append(rows, follow=True)
        if not rows:
            self._show_detail(None)
        self._show_filter_state()

    def _show_filter_state(self) -> None:
        if self._filter_error:
            self._hint(self._filter_error, error=True)
        else:
            self._hint(self._ready_hint())

    def _ready_hint(self) -> str:
        return "enter: load an execution's code · c: copy as curl · g: go to its session"

    def _no_recording(self, reason: str) -> None:
        self._problem = reason
        self.table.clear()
        self.exchanges.clear()
        self._hint(
            f"{reason} (waiting for it: the embedded emulator and `dstui proxy` record there)",
            error=True,
        )
        self._update_title()
        self._show_detail(None)

    def poll_now(self) -> None:
        """One follow step: ask for what is newer than the newest row (never two at once)."""
        running = any(
            w.group in ("traffic-load", "traffic-poll") and w.is_running for w in self.workers
        )
        if not running:
            if self._problem:
                self.reload()
            else:
                self._poll()

    @work(group="traffic-poll", exit_on_error=False, description="Following traffic")
    async def _poll(self) -> None:
        where, after = self.where, self.after
        try:
            rows = await asyncio.to_thread(lambda: self._store().newer_than(after, where))
        except RecordingError as exc:
            self._no_recording(str(exc))
            return
        if where != self.where or after != self.after:
            return  # a reload has started over meanwhile
        if rows:
            self.after = rows[-1].id or self.after
            at_end = self.table.cursor_row >= self.table.row_count - 1
            self._append(rows, follow=at_end)

    def _append(self, rows: list[Exchange], *, follow: bool) -> None:
        table = self.table
        colours = self.status_colours()
        for exchange in rows:
            if exchange.id is None or exchange.id in self.exchanges:
                continue
            self.exchanges[exchange.id] = exchange
            cells = row_cells(exchange, masked=self.masked, colours=colours)
            table.add_row(*cells, key=str(exchange.id))
        while len(self.exchanges) > self.max_rows:
            oldest = next(iter(self.exchanges))
            del self.exchanges[oldest]
            table.remove_row(str(oldest))
        if follow and table.row_count:
            table.move_cursor(row=table.row_count - 1)
        self._update_title()

    # -- selection and detail -------------------------------------------------------------

    def highlighted(self) -> Exchange | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.exchanges.get(int(key)) if key is not None else None

    @on(DataTable.RowHighlighted, "#traffic-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(self.highlighted())

    def _show_detail(self, exchange: Exchange | None) -> None:
        body = self.query_one("#traffic-detail-body", Static)
        if exchange is None:
            body.update("No exchange selected." if not self._problem else "")
            return
        curl = None
        if self._curl_for is not None and self._curl_for[0] == exchange.id:
            curl = self._curl_for[1]
        body.update(render_detail(exchange, masked=self.masked, curl=curl))

    @on(DataTable.RowSelected, "#traffic-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        """enter: an execution's code goes into the editor (the draft stays one ctrl+z away)."""
        exchange = self.highlighted()
        if exchange is None:
            return
        if not exchange.code:
            self.app.notify(
                f"#{exchange.id} is {exchange.operation}: only an execution has code to load.",
                markup=False,
            )
            return
        origin = origin_of(exchange.origin) if exchange.origin else ""
        if self.pool_origin and origin and origin != self.pool_origin:
            self.dismiss(TrafficOutcome(None, exchange.code, exchange.id, recorded_at=origin))
            return
        self.dismiss(TrafficOutcome(exchange.identifier, exchange.code, exchange.id))

    def action_copy_curl(self) -> None:
        exchange = self.highlighted()
        if exchange is None:
            return
        try:
            command = curl_command(exchange)
        except ExportError as exc:
            self.app.notify(str(exc), severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(command)
        self._curl_for = (exchange.id or 0, command)
        self._show_detail(exchange)
        self.app.notify(
            f"Copied #{exchange.id} as curl: set DSTUI_TOKEN, then paste it.", markup=False
        )

    def action_go_to_session(self) -> None:
        exchange = self.highlighted()
        if exchange is None or not exchange.identifier:
            self.app.notify("This exchange names no session.", markup=False)
            return
        if not self.session_listed(exchange.identifier):
            self.app.notify(
                f"{exchange.identifier} is only in the recording: the loaded session list does "
                "not have it (expired, deleted, or another pool).",
                severity="warning",
                markup=False,
            )
            return
        self.dismiss(TrafficOutcome(exchange.identifier, exchange_id=exchange.id))

    def action_timeline(self) -> None:
        """T: the highlighted exchange's session, in order, from every recording."""
        exchange = self.highlighted()
        if exchange is None or not exchange.identifier:
            self.app.notify("This exchange names no session.", markup=False)
            return

        def closed(outcome: TrafficOutcome | None) -> None:
            if outcome is not None:
                self.dismiss(outcome)

        self.app.push_screen(
            TimelineScreen(
                exchange.identifier,
                self.timeline_sources,
                in_pool=self.session_listed(exchange.identifier),
                runs=self.runs,
                poll_s=self.poll_s and 2.0,
            ),
            closed,
        )

    def action_export_har(self) -> None:
        """h: the rows shown (the filter applies) as one HAR 1.2 file, written atomically."""
        if not self.exchanges:
            self.app.notify("Nothing to export: no exchange is shown.", markup=False)
            return
        name = f"traffic-{self.clock().astimezone(UTC):%Y%m%d-%H%M%S}.har"
        target = self.har_dir / name
        self._write_har(target, list(self.exchanges.values()))

    @work(group="traffic-har", exit_on_error=False, description="Writing HAR")
    async def _write_har(self, target: Path, exchanges: list[Exchange]) -> None:
        # In a thread: 2,000 exchanges with their code and output take ~200 ms to write.
        try:
            await asyncio.to_thread(write_har, target, exchanges)
        except OSError as exc:
            self.app.notify(
                f"Could not write {target}: {exc.strerror or exc}", severity="error", markup=False
            )
            return
        self.app.notify(f"Wrote {len(exchanges)} exchanges to {target} (HAR 1.2).", markup=False)

    # -- filter, source, masking ----------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#traffic-filter", Input).focus()

    @on(Input.Changed, "#traffic-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        text = event.value
        self._filter_timer = self.set_timer(self.filter_debounce_s, lambda: self.apply_filter(text))

    @on(Input.Submitted, "#traffic-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.apply_filter(event.value)
        self.table.focus()

    def apply_filter(self, text: str) -> None:
        """The typed filter in force now (reloading when it changed)."""
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if self._set_filter(text):
            self.reload()

    @property
    def filter_pending(self) -> bool:
        return self._filter_timer is not None

    def _set_filter(self, text: str) -> bool:
        """True when the filter changed; text that cannot be read is never applied: the
        last good filter stays, and the hint names both."""
        try:
            where = parse_filter(text)
        except FilterSyntaxError as exc:
            self._filter_error = f"kept: {describe_filter(self.where)} · {exc}"
            self._show_filter_state()
            return False
        self._filter_error = ""
        self._show_filter_state()
        changed = where != self.where
        self.where = where
        return changed

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.table.focus()
            return
        self.dismiss(None)

    def action_switch_source(self) -> None:
        if len(self.sources) < 2:
            self.app.notify("Only one recording is available here.", markup=False)
            return
        self.source_index = (self.source_index + 1) % len(self.sources)
        self.reload()

    def action_toggle_mask(self) -> None:
        self.masked = not self.masked
        table = self.table
        for number, exchange in self.exchanges.items():
            shown = shown_identifier(exchange.identifier, masked=self.masked)
            table.update_cell(str(number), "session", Text(shown))
        self._show_detail(self.highlighted())
        state = "masked" if self.masked else "shown in full"
        self.app.notify(f"Session identifiers {state}.", markup=False)


def origin_of(url: str) -> str:
    """`https://host:port` of an endpoint or origin, lower-cased; "" for none."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def write_har(target: Path, exchanges: list[Exchange]) -> None:
    """The HAR file whole or not at all: written beside it, then moved into place (0600: the
    bodies may hold what the agent ran)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(har_log(exchanges), out, ensure_ascii=False, indent=1)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
