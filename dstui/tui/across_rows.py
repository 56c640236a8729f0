"""The rows of the across-pools view: one per listed session (or one note per pool that has
no list, or whose listing failed), the filter, the idle selection, and the table that draws
them. A row's cells are built only when it is first drawn (a page is a list extend)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text

from dstui.api.display import escape_controls
from dstui.api.models import Session
from dstui.api.prune import PruneCriteria
from dstui.common.clock import as_utc
from dstui.tui.formatting import format_countdown, format_idle, short_time
from dstui.tui.widgets.session_table import MARK_COLUMN, TIME_COLUMNS
from dstui.tui.widgets.virtual_table import Cell, Column, VirtualTable

MARK = "✓"
COLUMNS = (MARK_COLUMN, Column("pool", "pool", 12), Column("id", "identifier", 24), *TIME_COLUMNS)


@dataclass(slots=True)
class AcrossRow:
    key: str
    pool: int  # index of the pool in the view's list
    session: Session | None  # None: a note about the pool (no list, listing failed)
    note: str = ""


class AcrossRows:
    """Rows cost little until they are drawn: a page only makes keys and row objects; the
    cells of a row are built when the table first draws it (cells_for)."""

    def __init__(self, now: datetime) -> None:
        self.now = now  # idle and expiry are shown as of the listing
        self.rows: list[AcrossRow] = []
        self.by_key: dict[str, AcrossRow] = {}
        self.pool_names: dict[int, str] = {}
        self.marks: set[str] = set()
        self.session_count = 0  # rows that are sessions (not notes)

    def __len__(self) -> int:
        return len(self.rows)

    def add_page(self, pool: int, pool_name: str, sessions: Iterable[Session]) -> list[AcrossRow]:
        """The page's rows not seen before (a server may repeat a session across pages)."""
        self.pool_names[pool] = pool_name
        by_key, prefix, make = self.by_key, f"{pool}/", AcrossRow
        fresh: list[AcrossRow] = []
        keep = fresh.append
        for session in sessions:
            key = prefix + session.identifier
            if key not in by_key:
                row = by_key[key] = make(key, pool, session)
                keep(row)
        self.rows.extend(fresh)
        self.session_count += len(fresh)
        return fresh

    def add_note(self, pool: int, pool_name: str, note: str) -> AcrossRow:
        self.pool_names[pool] = pool_name
        key = f"{pool}/\0note"
        if key not in self.by_key:
            row = self.by_key[key] = AcrossRow(key, pool, None, note)
            self.rows.append(row)
        return self.by_key[key]

    def cells_for(self, key: str) -> list[Cell]:
        row = self.by_key[key]
        pool = Text(escape_controls(self.pool_names.get(row.pool, "?")))
        session = row.session
        if session is None:
            return [" ", pool, Text(row.note, style="italic"), "", "", ""]
        return [
            MARK if key in self.marks else " ",
            pool,
            Text(escape_controls(session.identifier)),
            short_time(session.created_at),
            format_idle(session.last_accessed_at, self.now),
            format_countdown(session.expires_at, self.now),
        ]

    def remove(self, keys: set[str]) -> None:
        self.rows = [row for row in self.rows if row.key not in keys]
        for key in keys:
            row = self.by_key.pop(key, None)
            if row is not None and row.session is not None:
                self.session_count -= 1
        self.marks -= keys

    def matcher(self, text: str) -> Callable[[AcrossRow], bool]:
        """Whether a row shows under the filter: its pool's name or its identifier holds it."""
        needle = text.strip().lower()
        if not needle:
            return lambda _row: True
        pools = {index for index, name in self.pool_names.items() if needle in name.lower()}

        def matches(row: AcrossRow) -> bool:
            if row.pool in pools:
                return True
            return row.session is not None and needle in row.session.identifier.lower()

        return matches

    def matching(self, text: str) -> list[AcrossRow]:
        if not text.strip():
            return list(self.rows)
        matches = self.matcher(text)
        return [row for row in self.rows if matches(row)]

    def select(self, criteria: PruneCriteria, now: datetime) -> tuple[list[str], int]:
        """Keys of the sessions the criteria select, and how many could not be judged."""
        chosen: list[str] = []
        undated = 0
        for row in self.rows:
            if row.session is None:
                continue
            verdict = criteria.matches(row.session, now)
            if verdict is None:
                undated += 1
            elif verdict:
                chosen.append(row.key)
        return chosen, undated

    def idle_span(self, keys: Iterable[str], now: datetime) -> tuple[timedelta, timedelta] | None:
        """The shortest and the longest idle time among these sessions."""
        idles = [
            now - as_utc(row.session.last_accessed_at)
            for key in keys
            if (row := self.by_key.get(key)) is not None
            and row.session is not None
            and row.session.last_accessed_at is not None
        ]
        return (min(idles), max(idles)) if idles else None


class LazyTable(VirtualTable):
    """A VirtualTable whose rows are keys only: a row's cells are asked for (and kept) the
    first time it is drawn, so appending 30,000 rows is a list extend."""

    def __init__(self, cells_for: Callable[[str], list[Cell]], **kwargs: Any) -> None:
        super().__init__(COLUMNS, **kwargs)
        self.cells_for = cells_for
        self._cells = _CellCache(cells_for)

    def clear(self) -> None:
        super().clear()
        self._cells = _CellCache(self.cells_for)

    def add_keys(self, keys: Iterable[str]) -> None:
        """Append the keys the table does not have yet (each once), in order."""
        was_empty = not self._keys
        index, ordered = self._index, self._keys
        for key in keys:
            if key not in index:
                index[key] = len(ordered)
                ordered.append(key)
        self._resize()
        if was_empty and ordered:
            self.cursor = 0

    def forget_cells(self, key: str) -> None:
        """The row changed (marked): its cells are built again when drawn."""
        self._cells.pop(key, None)
        row = self._index.get(key)
        top = int(self.scroll_y)
        if row is not None and top <= row < top + self.size.height:
            self.refresh_line(row + 1)


class _CellCache(dict[str, list[Cell]]):
    def __init__(self, build: Callable[[str], list[Cell]]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, key: str) -> list[Cell]:
        cells = self[key] = self._build(key)
        return cells
