"""Sessions across pools (k9s' all-namespaces view): every picker pool's sessions in one
virtual table with a pool column, and idle cleanup (select by idle time or expiry, delete with
the typed-count confirmation, a per-session report).

Loading streams: pools are listed a few at a time, page by page, and the pages reach the table
in batches every FLUSH_S, so the event loop never holds on to one page's work for long. Each
pool's listing is bounded (ROWS_PER_POOL; the service allows 600). The idle and expiry columns
are as of the listing (the title says when); r lists again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from dstui.api.arm_models import SessionPoolResource
from dstui.api.display import escape_controls
from dstui.api.errors import DynamicSessionsError, safe_text
from dstui.api.protocol import SessionPoolAPI
from dstui.api.prune import (
    Candidate,
    PoolTarget,
    PruneCriteria,
    PruneOutcome,
    PruneResult,
    delete_candidates,
)
from dstui.tui.across_rows import AcrossRow, AcrossRows, LazyTable
from dstui.tui.actions import ACROSS, bindings_for
from dstui.tui.errors import describe_error
from dstui.tui.formatting import counted, format_duration
from dstui.tui.gc_policy import keep_out_of_full_collections
from dstui.tui.key_line import key_line
from dstui.tui.pool_directory import PoolDirectory, PoolSwitcher, has_session_list
from dstui.tui.screens.cleanup_modal import CleanupModal
from dstui.tui.screens.modals import ConfirmModal, TextModal, confirm_then
from dstui.tui.settings import AppSettings
from dstui.tui.widgets.virtual_table import Cell

LIST_CONCURRENCY = 8
ROWS_PER_POOL = 1000  # the service allows 600 a pool; a server sending more is cut here
FLUSH_S = 0.1  # loaded pages reach the table at most this often
REPORT_LINES = 200  # the per-session report names this many, then counts the rest
NO_LIST = "CustomContainer: no list"  # fits the identifier column; the summary says more


class AcrossPoolsScreen(Screen[None]):
    DEFAULT_CSS = """
    AcrossPoolsScreen { layout: vertical; }
    AcrossPoolsScreen .key-line { height: auto; background: $panel; padding: 0 1; }
    #across-title { height: 1; background: $panel; padding: 0 1; }
    #across-filter { height: 1; border: none; padding: 0 1; background: $boost; display: none; }
    #across-table { height: 1fr; }
    #across-summary { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(ACROSS)

    def __init__(
        self,
        directory: PoolDirectory,
        pools: list[SessionPoolResource] | None,
        settings: AppSettings,
        *,
        flush_s: float = FLUSH_S,
    ) -> None:
        super().__init__(id="across-pools")
        self.directory = directory
        self.pools: list[SessionPoolResource] = list(pools or [])
        self._list_pools = pools is None
        self.settings = settings
        self.flush_s = flush_s
        self.data = AcrossRows(settings.clock())
        self.filter_text = ""
        self.listed_at: datetime | None = None
        self.loading = False
        self.done_pools = 0
        self.failed_pools: dict[int, str] = {}
        self.cut_pools: set[int] = set()
        self.progress = ""  # a bulk delete in flight
        self.deleted_any = False  # the open pool's list is listed again on leaving
        self._pending: list[AcrossRow] = []
        self._summary_lines = 0  # lines the summary has now (a change needs a layout pass)
        self._flushed_once = False
        self._clients: dict[int, SessionPoolAPI] = {}
        self._flusher: Timer | None = None
        self._filter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="across-title")
        yield Input(placeholder="filter by pool or identifier (esc clears)", id="across-filter")
        yield LazyTable(self._cells_for, id="across-table")
        yield Static(id="across-summary")
        shown = [
            b
            for b in self.BINDINGS
            if not (self.settings.read_only and isinstance(b, Binding) and b.id == "across-delete")
        ]
        yield Static(key_line(shown), classes="key-line")

    @property
    def table(self) -> LazyTable:
        return self.query_one("#across-table", LazyTable)

    @property
    def marks(self) -> set[str]:
        return self.data.marks

    def _cells_for(self, key: str) -> list[Cell]:
        return self.data.cells_for(key)

    def on_mount(self) -> None:
        self.table.focus()
        self._paint_title()
        self.call_after_refresh(self.load)  # the view is painted first, then listing starts

    async def on_unmount(self) -> None:
        await self._release_clients()

    async def _release_clients(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await self.directory.release(client)

    # -- loading ----------------------------------------------------------------------------

    @work(group="across-load", exclusive=True, exit_on_error=False, description="Listing pools")
    async def load(self) -> None:
        self.loading = True
        self.listed_at = self.data.now
        self._flushed_once = False
        self.table.empty_text = "listing the sessions of every pool…"
        self._paint_title()
        if self._list_pools:
            try:
                self.pools = (await self.directory.list_pools()).pools
            except DynamicSessionsError as exc:
                self.loading = False
                self.table.empty_text = f"listing the pools failed: {describe_error(exc)}"
                self.table.refresh()
                return
        self._flusher = self.set_interval(self.flush_s, self.flush)
        gate = asyncio.Semaphore(LIST_CONCURRENCY)
        try:
            await asyncio.gather(*(self._load_pool(i, gate) for i in range(len(self.pools))))
        finally:
            self._flusher.stop()
            self.loading = False
            self.table.empty_text = "no sessions in these pools"
            self.flush()

    async def _load_pool(self, index: int, gate: asyncio.Semaphore) -> None:
        pool = self.pools[index]
        if not has_session_list(pool):
            self._pending.append(self.data.add_note(index, pool.name, NO_LIST))
            self.done_pools += 1
            return
        async with gate:
            try:
                client = self._clients.get(index) or self.directory.open(pool)
                self._clients[index] = client
                listed = 0
                async for page in client.iter_session_pages():
                    fresh = self.data.add_page(index, pool.name, page.sessions)
                    self._pending.extend(fresh)
                    if not self._flushed_once:
                        self.flush()  # the first page at once; the others in batches
                    listed += len(fresh)
                    if listed >= ROWS_PER_POOL:
                        self.cut_pools.add(index)
                        break
                    # A fast server's pages would otherwise follow each other in one turn
                    # of the loop: let it paint and read keys between pages.
                    await asyncio.sleep(0)
            except DynamicSessionsError as exc:
                message = safe_text(exc.message)
                self.failed_pools[index] = message
                self._pending.append(self.data.add_note(index, pool.name, f"— failed: {message}"))
            finally:
                self.done_pools += 1

    def flush(self) -> None:
        """Loaded rows into the table in one batch (those the filter shows)."""
        if self._pending:
            self._flushed_once = True
            pending, self._pending = self._pending, []
            if self.filter_text:
                shown = self.data.matcher(self.filter_text)
                pending = [row for row in pending if shown(row)]
            self.table.add_keys(row.key for row in pending)
            keep_out_of_full_collections()  # as the main screen does for its pages
        self._paint_summary()

    def _paint_title(self) -> None:
        when = self.listed_at.astimezone(UTC).strftime("%H:%M:%S") if self.listed_at else "—"
        self.query_one("#across-title", Static).update(
            Content.assemble(
                ("dstui", "bold $primary"),
                " │ ",
                ("sessions across pools", "bold $accent"),
                f" │ idle, expiry as of {when} · r lists again",
            )
        )

    def _paint_summary(self) -> None:
        sessions = self.data.session_count
        parts = [f"{counted(sessions, 'session')} in {counted(len(self.pools), 'pool')}"]
        if self.loading:
            parts.append(f"listing… {self.done_pools}/{len(self.pools)} pools done")
        no_list = sum(1 for pool in self.pools if not has_session_list(pool))
        if no_list:
            parts.append(f"{no_list} without a session list (CustomContainer: not empty)")
        if self.cut_pools:
            parts.append(f"{len(self.cut_pools)} cut at {ROWS_PER_POOL} rows")
        if self.filter_text:
            parts.append(f"{self.table.row_count} match “{self.filter_text}”")
        lines = [" · ".join(parts)]
        if self.failed_pools:
            index, message = next(iter(self.failed_pools.items()))
            more = len(self.failed_pools) - 1
            others = f" (and {counted(more, 'other pool')})" if more else ""
            lines.append(f"✘ {escape_controls(self.pools[index].name)}: {message}{others}")
        if self.marks:
            lines.append(self._selection_text())
        if self.progress:
            lines.append(self.progress)
        # A layout pass (~7 ms with 30,000 rows) only when the summary's height changes.
        relayout = len(lines) != self._summary_lines
        self._summary_lines = len(lines)
        self.query_one("#across-summary", Static).update(
            Content("\n").join(Content(line) for line in lines), layout=relayout
        )

    def _idle_span_text(self) -> str:
        """` (idle 31m–2h05m)` for the selection, or "" when no idle time is known."""
        span = self.data.idle_span(self.marks, self.settings.clock())
        if span is None:
            return ""
        shortest, longest = span
        return (
            f" (idle {format_duration(shortest.total_seconds())}"
            f"–{format_duration(longest.total_seconds())})"
        )

    def _selection_text(self) -> str:
        selected = counted(len(self.marks), "session")
        return f"{selected} selected{self._idle_span_text()} · ctrl+d deletes them"

    # -- filter -----------------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#across-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#across-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(0.15, lambda: self.apply_filter(event.value))

    @on(Input.Submitted, "#across-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.apply_filter(event.value)
        self.table.focus()

    def apply_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        keep = self.table.highlighted_key()
        self.table.clear()
        self.table.add_keys(row.key for row in self.data.matching(self.filter_text))
        if keep is not None and (index := self.table.row_index(keep)) is not None:
            self.table.move_cursor(index)
        self._paint_summary()

    def _clear_filter(self) -> bool:
        field = self.query_one("#across-filter", Input)
        if not field.display:
            return False
        field.value = ""
        field.display = False
        self.apply_filter("")
        self.table.focus()
        return True

    # -- selection --------------------------------------------------------------------------

    def _set_mark(self, key: str, marked: bool) -> None:
        row = self.data.by_key.get(key)
        if row is None or row.session is None:
            return
        if marked:
            self.marks.add(key)
        else:
            self.marks.discard(key)
        self.table.forget_cells(key)

    def action_toggle_mark(self) -> None:
        key = self.table.highlighted_key()
        if key is None:
            return
        self._set_mark(key, key not in self.marks)
        self.table.action_cursor_down()
        self._paint_summary()

    def action_clear_marks(self) -> None:
        for key in list(self.marks):
            self._set_mark(key, False)
        self._paint_summary()

    def action_select_idle(self) -> None:
        def chosen(criteria: PruneCriteria | None) -> None:
            if criteria is not None:
                self.select(criteria)

        self.app.push_screen(CleanupModal(), chosen)

    def select(self, criteria: PruneCriteria) -> None:
        """Mark exactly the sessions the criteria select (among those loaded)."""
        keys, undated = self.data.select(criteria, self.settings.clock())
        self.action_clear_marks()
        for key in keys:
            self._set_mark(key, True)
        note = f" ({undated} without a timestamp left out)" if undated else ""
        self.app.notify(f"Selected {counted(len(keys), 'session')}{note}.", markup=False)
        self._paint_summary()

    # -- bulk delete ------------------------------------------------------------------------

    def action_delete_selected(self) -> None:
        if self.settings.read_only:
            self.app.notify("read-only: deleting sessions disabled", severity="warning")
            return
        if not self.marks:
            self.app.notify("Select sessions first: space marks one, I selects idle ones.")
            return
        if self.deleting():
            return
        keys = [row.key for row in self.data.rows if row.key in self.marks]
        pools = len({self.data.by_key[key].pool for key in keys})
        question = (
            f"Delete {counted(len(keys), 'session')} in {counted(pools, 'pool')}"
            f"{self._idle_span_text()}? Their files are lost."
        )
        modal = ConfirmModal.typed_count(
            "Delete selected sessions", question, len(keys), "selected sessions"
        )
        confirm_then(self.app, modal, lambda: self.delete(keys))

    @work(group="across-delete", exit_on_error=False, description="Deleting sessions")
    async def delete(self, keys: list[str]) -> None:
        targets = [PoolTarget(str(index), client) for index, client in self._clients.items()]
        candidates = []
        for key in keys:
            row = self.data.by_key[key]
            assert row.session is not None
            candidates.append(Candidate(str(row.pool), row.session, None))
        tally = {outcome: 0 for outcome in PruneOutcome}

        def progressed(result: PruneResult) -> None:
            tally[result.outcome] += 1
            done = sum(tally.values())
            self.progress = (
                f"deleting {done}/{len(candidates)} · {tally[PruneOutcome.DELETED]} deleted · "
                f"{tally[PruneOutcome.GONE]} already gone · {tally[PruneOutcome.FAILED]} failed"
            )
            self._paint_summary()

        results = await delete_candidates(targets, candidates, on_result=progressed)
        self.deleted_any = True
        removed = {
            f"{result.candidate.pool}/{result.candidate.session.identifier}"
            for result in results
            if result.outcome is not PruneOutcome.FAILED
        }
        self.data.remove(removed)
        self.apply_filter(self.filter_text)
        self.progress = ""
        self._paint_summary()
        self.app.push_screen(TextModal("Idle cleanup: what happened", self._report(results)))

    def _report(self, results: list[PruneResult]) -> Content:
        tally = {outcome: 0 for outcome in PruneOutcome}
        for result in results:
            tally[result.outcome] += 1
        lines = [
            Content.styled(
                f"{tally[PruneOutcome.DELETED]} deleted · {tally[PruneOutcome.GONE]} already "
                f"gone · {tally[PruneOutcome.FAILED]} failed",
                "bold",
            )
        ]
        styles = {
            PruneOutcome.DELETED: "$text-success",
            PruneOutcome.GONE: "$text-muted",
            PruneOutcome.FAILED: "$text-error",
        }
        ordered = sorted(results, key=lambda r: r.outcome is not PruneOutcome.FAILED)
        for result in ordered[:REPORT_LINES]:
            pool = self.pools[int(result.candidate.pool)].name
            why = f": {result.reason}" if result.reason else ""
            identifier = escape_controls(result.candidate.session.identifier)
            lines.append(
                Content.assemble(
                    (f"{result.outcome.value:<8}", styles[result.outcome]),
                    f"{escape_controls(pool)}  {identifier}{why}",
                )
            )
        if len(results) > REPORT_LINES:
            lines.append(Content(f"… and {len(results) - REPORT_LINES} more"))
        return Content("\n").join(lines)

    # -- the rest ---------------------------------------------------------------------------

    def deleting(self) -> bool:
        return any(w.group == "across-delete" and w.is_running for w in self.workers)

    def action_reload(self) -> None:
        if self.loading:
            return
        if self.deleting():  # its report and the rows it removes belong to this listing
            self.app.notify("Deleting: r lists again once it is done.", markup=False)
            return
        self.data = AcrossRows(self.settings.clock())
        self.failed_pools.clear()
        self.cut_pools.clear()
        self.done_pools = 0
        self.table.clear()
        self.load()

    def action_open_pool(self) -> None:
        key = self.table.highlighted_key()
        row = self.data.by_key.get(key) if key is not None else None
        if row is None:
            return
        # The pool opens on this row's session (a note row has none: the pool's first row).
        cast(PoolSwitcher, self.app).open_pool(self.pools[row.pool], row.session)

    def action_back(self) -> None:
        if self._clear_filter():
            return
        self.app.pop_screen()
        if self.deleted_any:
            cast(PoolSwitcher, self.app).refresh_open_pool()
