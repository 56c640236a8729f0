"""Pane 1: the pool's sessions, loaded page by page, with a live "expires in" column.

Highlighting a row only reads what the list page returned; it never calls the session (any
request naming a session resets its cooldown and keeps it, and its bill, alive).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from dstui.api.display import escape_controls
from dstui.api.models import Session
from dstui.tui.actions import SESSIONS, bindings_for
from dstui.tui.formatting import Clock, counted, format_countdown, format_idle, short_time
from dstui.tui.widgets.virtual_table import Column, VirtualTable

NEAR_END_ROWS = 10
MARK = "✓"


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A loaded session, or one the user created/opened that the list has not shown yet."""

    session: Session
    local: bool = False  # not (yet) seen in a list page


class SessionTable(VirtualTable):
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(SESSIONS)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        pane = self.parent
        if isinstance(pane, SessionsPane):
            pane.refresh_countdowns()


MARK_COLUMN = Column("mark", " ", 1)
# The columns both session tables (this pool's, and across pools) end with.
TIME_COLUMNS = (
    Column("created", "created", 11),
    Column("accessed", "idle", 6),
    Column("expires", "expires", 7),
)
COLUMNS = (MARK_COLUMN, Column("id", "identifier", 18), *TIME_COLUMNS)


class SessionsPane(Vertical):
    ALLOW_MAXIMIZE = True

    class Highlighted(Message):
        def __init__(self, identifier: str | None) -> None:
            super().__init__()
            self.identifier = identifier

    def __init__(self, clock: Clock) -> None:
        super().__init__(id="sessions-pane", classes="pane")
        self.clock = clock
        self.rows: dict[str, SessionRow] = {}
        self.local_order: list[str] = []
        self.loaded_order: list[str] = []
        self.marks: set[str] = set()
        self.filter_text = ""
        self.more_available = False
        self.loading = False
        # What the summary suggests when the pool has no sessions (empty in --read-only).
        self.empty_hint = "n starts one"
        self.failure = ""  # the last listing failed: what the empty pane says instead
        self._failure_summary = ""  # the same, short enough for the one-line summary
        self._filter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        # The filter field is mounted on first use: an Input costs ~10 ms of start-up.
        yield SessionTable(COLUMNS, near_end=NEAR_END_ROWS, id="session-table")
        yield Static("", id="sessions-summary")

    def on_mount(self) -> None:
        self.border_title = "1 Sessions"

    @property
    def table(self) -> SessionTable:
        return self.query_one(SessionTable)

    # -- data -------------------------------------------------------------------------------

    def _cells(self, row: SessionRow, now: datetime) -> tuple[str | Text, ...]:
        session = row.session
        mark = MARK if session.identifier in self.marks else " "
        shown = Text(escape_controls(session.identifier))  # server text: no markup, no escapes
        if row.local:
            return (mark, shown, "—", "—", "new")
        return (
            mark,
            shown,
            short_time(session.created_at),
            format_idle(session.last_accessed_at, now),
            format_countdown(session.expires_at, now),
        )

    def matches_filter(self, identifier: str) -> bool:
        """Whether the current filter shows this identifier."""
        return not self.filter_text or self.filter_text.lower() in identifier.lower()

    def _add(self, identifiers: Iterable[str], now: datetime) -> None:
        self.table.add_rows(
            (identifier, self._cells(self.rows[identifier], now))
            for identifier in identifiers
            if self.matches_filter(identifier)
        )

    def reset(self) -> None:
        self.rows.clear()
        self.loaded_order.clear()
        self.marks.clear()
        self.local_order.clear()
        self.table.clear()

    def append_page(self, sessions: Iterable[Session], more_available: bool) -> None:
        """Add one list page; a session the user had created locally becomes a listed one."""
        fresh: list[str] = []
        promoted = False
        for session in sessions:
            identifier = session.identifier
            if identifier in self.local_order:
                self.local_order.remove(identifier)
                promoted = True
            elif identifier in self.rows:
                continue
            self.rows[identifier] = SessionRow(session)
            self.loaded_order.append(identifier)
            fresh.append(identifier)
        self.more_available = more_available
        if promoted:
            self.rebuild()
        else:
            self._add(fresh, self.clock())
        self.update_summary()

    def replace_all(self, sessions: Iterable[Session], more_available: bool) -> None:
        """A refresh: keep local rows and marks that still exist, keep the cursor's session."""
        keep = self.highlighted_identifier()
        local = [i for i in self.local_order if i in self.rows]
        local_rows = {i: self.rows[i] for i in local}
        self.rows = dict(local_rows)
        self.loaded_order = []
        for session in sessions:
            if session.identifier in local_rows:
                local.remove(session.identifier)
            self.rows[session.identifier] = SessionRow(session)
            self.loaded_order.append(session.identifier)
        self.local_order = local
        self.marks &= set(self.rows)
        self.more_available = more_available
        self.rebuild(keep)
        self.update_summary()

    def add_local(self, identifier: str) -> None:
        """A session the user named (new or opened) that no list page has shown."""
        if identifier not in self.rows:
            self.rows[identifier] = SessionRow(Session(identifier, None, None, None, None), True)
            self.local_order.insert(0, identifier)
        self.rebuild(identifier)
        self.update_summary()

    def update_session(self, session: Session) -> None:
        row = self.rows.get(session.identifier)
        if row is None:
            return
        self.rows[session.identifier] = SessionRow(session)
        if session.identifier in self.local_order:
            self.local_order.remove(session.identifier)
            self.loaded_order.insert(0, session.identifier)
            self.rebuild()  # the cursor stays where the user put it: the run target too
            self.update_summary()
            return
        self._update_row(session.identifier)

    def remove_sessions(self, identifiers: Iterable[str]) -> None:
        gone = set(identifiers)
        for identifier in gone:
            self.rows.pop(identifier, None)
        self.loaded_order = [i for i in self.loaded_order if i not in gone]
        self.local_order = [i for i in self.local_order if i not in gone]
        self.marks -= gone
        self.rebuild()
        self.update_summary()

    def rebuild(self, keep: str | None = None) -> None:
        table = self.table
        keep = keep or self.highlighted_identifier()
        table.clear()
        self._add([*self.local_order, *self.loaded_order], self.clock())
        if keep is not None:
            self.move_to(keep)

    def move_to(self, identifier: str) -> bool:
        index = self.table.row_index(identifier)
        if index is None:
            return False
        self.table.move_cursor(index)
        return True

    def _update_row(self, identifier: str) -> None:
        cells = self._cells(self.rows[identifier], self.clock())
        for column, value in zip(COLUMNS, cells, strict=True):
            self.table.update_cell(identifier, column.key, value)

    def highlighted_identifier(self) -> str | None:
        return self.table.highlighted_key()

    def session(self, identifier: str) -> SessionRow | None:
        return self.rows.get(identifier)

    def toggle_mark(self, identifier: str) -> None:
        if identifier in self.marks:
            self.marks.discard(identifier)
        else:
            self.marks.add(identifier)
        self.table.update_cell(identifier, "mark", MARK if identifier in self.marks else " ")
        self.update_summary()

    def refresh_countdowns(self) -> None:
        """Rewrite the "idle" and "expires in" cells of the rows on screen (the 1 s tick and
        scrolling): both move with time, not only with the next listing."""
        table = self.table
        now = self.clock()
        for identifier in table.visible_keys():
            entry = self.rows.get(identifier)
            if entry is None or entry.local:
                continue
            idle = format_idle(entry.session.last_accessed_at, now)
            if table.get_cell(identifier, "accessed") != idle:
                table.update_cell(identifier, "accessed", idle)
            value = format_countdown(entry.session.expires_at, now)
            if table.get_cell(identifier, "expires") != value:
                table.update_cell(identifier, "expires", value)

    def show_failure(self, note: str, *, summary: str = "") -> None:
        """The listing failed (note) or worked (""): an empty table says so, not nothing;
        a long note gets a short `summary` for the one-line summary."""
        self.failure = note
        self._failure_summary = summary or note
        self.table.empty_text = note
        self.table.refresh()
        self.update_summary()

    def update_summary(self) -> None:
        loaded = len(self.loaded_order)
        if self.failure and not (loaded or self.local_order):
            parts = [self._failure_summary]
        elif not (loaded or self.local_order or self.loading or self.more_available):
            parts = ["the pool has no sessions", self.empty_hint]
        elif self.loading:
            parts = [f"{loaded} loaded", "loading more…"]
        else:
            parts = [f"{loaded} loaded", "more available" if self.more_available else "all"]
        if self.local_order:
            parts.append(f"{len(self.local_order)} new")
        if self.filter_text:
            parts.append(f"{self.table.row_count} match “{self.filter_text}”")
        if self.marks:
            parts.append(f"{len(self.marks)} marked")
        # Fixed one-line widget: no layout pass; Content, so a typed filter is never markup.
        self.query_one("#sessions-summary", Static).update(
            Content(" · ".join(part for part in parts if part)), layout=False
        )

    def summary_for_header(self) -> str:
        more = " · more available" if self.more_available else ""
        count = len(self.loaded_order)
        return f"{counted(count, 'session')} loaded{more}"

    # -- filter -----------------------------------------------------------------------------

    def _filter_field(self) -> Input | None:
        return self.query_one_optional("#session-filter", Input)

    def open_filter(self) -> None:
        field = self._filter_field()
        if field is None:
            field = Input(
                placeholder="filter loaded sessions (esc clears)",
                id="session-filter",
                compact=True,
            )
            self.mount(field, before=self.table)
        field.display = True
        field.focus()

    def clear_filter(self) -> None:
        field = self._filter_field()
        if field is not None:
            field.value = ""
            field.display = False
        if self.filter_text:
            self.filter_text = ""
            self.rebuild()
            self.update_summary()
        # At once, not after a refresh: a key right behind esc must not reach the field.
        self.screen.set_focus(self.table)

    @on(Input.Changed, "#session-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(0.15, lambda: self._apply_filter(event.value))

    def _apply_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        self.rebuild()
        self.update_summary()

    @on(Input.Submitted, "#session-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._apply_filter(event.value)
        self.table.focus()

    # -- events -----------------------------------------------------------------------------

    @on(VirtualTable.RowHighlighted, "#session-table")
    def _row_highlighted(self, event: VirtualTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(event.key))
