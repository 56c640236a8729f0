"""A one-line-per-row table that renders only the rows on screen.

DataTable recomputes per-row offsets and measures every new cell on the event loop, so each
300-row page costs ~90 ms once ten thousand rows are loaded. Here appending a page is a list
extend and painting touches only visible rows, which keeps scrolling through a whole pool
smooth. Cells are plain strings or rich Text (never parsed as markup).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int


class VirtualTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--odd",
    }
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; background: $surface; }
    VirtualTable > .virtual-table--header {
        background: $panel; color: $foreground; text-style: bold;
    }
    VirtualTable > .virtual-table--cursor {
        background: $block-cursor-blurred-background; color: $foreground;
    }
    VirtualTable:focus > .virtual-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    VirtualTable > .virtual-table--odd { background: $surface-lighten-1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home,g", "first", "First", show=False),
        Binding("end,ctrl+end,G", "last", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class RowHighlighted(Message):
        def __init__(self, table: VirtualTable, key: str, index: int) -> None:
            super().__init__()
            self.table = table
            self.key = key
            self.index = index

        @property
        def control(self) -> VirtualTable:
            return self.table

    class NearEnd(Message):
        """The cursor or the viewport reached the last rows."""

    def __init__(
        self, columns: Sequence[Column], *, near_end: int = 10, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.columns = tuple(columns)
        self.near_end = near_end
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, list[Cell]] = {}
        self._column_index = {column.key: i for i, column in enumerate(self.columns)}
        self._row_width = sum(column.width + 2 for column in self.columns)
        self.empty_text = ""  # drawn under the header while there are no rows

    # -- data -------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    def row_keys(self) -> list[str]:
        return list(self._keys)

    def clear(self) -> None:
        self._keys = []
        self._index = {}
        self._cells = {}
        self.set_reactive(VirtualTable.cursor, 0)
        self._resize()

    def add_rows(self, rows: Iterable[tuple[str, Sequence[Cell]]]) -> None:
        was_empty = not self._keys
        for key, cells in rows:
            if key in self._index:
                continue
            self._index[key] = len(self._keys)
            self._keys.append(key)
            self._cells[key] = list(cells)
        self._resize()
        if was_empty and self._keys:
            self.cursor = 0

    def _resize(self) -> None:
        self.virtual_size = Size(self._row_width, len(self._keys) + 1)
        self.refresh()

    def get_cell(self, key: str, column: str) -> Cell:
        return self._cells[key][self._column_index[column]]

    def update_cell(self, key: str, column: str, value: Cell) -> None:
        cells = self._cells.get(key)
        if cells is None:
            return
        cells[self._column_index[column]] = value
        row = self._index[key]
        top = int(self.scroll_y)
        if top <= row < top + self.size.height:
            self.refresh_line(row + 1)  # virtual line; line 0 is the header

    def row_index(self, key: str) -> int | None:
        return self._index.get(key)

    def highlighted_key(self) -> str | None:
        if not self._keys:
            return None
        return self._keys[min(self.cursor, len(self._keys) - 1)]

    def visible_keys(self) -> list[str]:
        top = int(self.scroll_y)
        return self._keys[top : top + max(self.size.height - 1, 0)]

    # -- cursor -----------------------------------------------------------------------------

    def move_cursor(self, index: int) -> None:
        if self._keys:
            self.cursor = max(0, min(index, len(self._keys) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        if not self._keys:
            return
        self.refresh()
        # Row `new` sits on line new + 1 (line 0 is the header).
        self.scroll_to_region(Region(0, new, 1, 2), animate=False, force=True)
        self.post_message(self.RowHighlighted(self, self._keys[new], new))
        if new >= len(self._keys) - self.near_end:
            self.post_message(self.NearEnd())

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor - max(self.size.height - 2, 1))

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor + max(self.size.height - 2, 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._keys) - 1)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._keys and new_value >= self.max_scroll_y - 2:
            self.post_message(self.NearEnd())

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            self.move_cursor(int(self.scroll_y) + offset.y - 1)

    # -- rendering --------------------------------------------------------------------------

    def _line(self, cells: Sequence[Cell], style: Style) -> Strip:
        segments: list[Segment] = []
        for column, value in zip(self.columns, cells, strict=False):
            text = value.copy() if isinstance(value, Text) else Text(value)
            text.truncate(column.width, overflow="ellipsis", pad=True)
            segments.append(Segment(" ", style))
            segments.extend(
                Segment(seg.text, style + seg.style if seg.style else style)
                for seg in text.render(self.app.console)
            )
            segments.append(Segment(" ", style))
        return Strip(segments)

    def _empty_line(self, index: int, width: int, base: Style) -> Strip:
        """The empty table's note, wrapped to the table's width (a note is never cut off)."""
        lines = textwrap.wrap(self.empty_text, max(width - 2, 8)) or [""]
        if index >= len(lines):
            return Strip.blank(width, base)
        note = Strip([Segment(f" {lines[index]}", base + Style(dim=True))])
        return note.crop(0, width).extend_cell_length(width, base)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        scroll_x = int(self.scroll_x)
        if y == 0:
            header = self.get_component_rich_style("virtual-table--header")
            labels = [column.label for column in self.columns]
            strip = self._line(labels, base + header)
            return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, base + header)
        index = int(self.scroll_y) + y - 1
        if index >= len(self._keys):
            if not self._keys and self.empty_text:
                return self._empty_line(index, width, base)
            return Strip.blank(width, base)
        style = base
        if index % 2:
            style += self.get_component_rich_style("virtual-table--odd")
        if index == self.cursor:
            style += self.get_component_rich_style("virtual-table--cursor")
        strip = self._line(self._cells[self._keys[index]], style)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, style)
