"""Pane 4: the selected session's /mnt/data, one directory at a time.

Listing a session's files is a request that names it, so it resets the session's cooldown:
the pane lists only when the user opens it (focus) or presses `r`.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Static
from textual.widgets.data_table import CellDoesNotExist

from dstui.api.constants import MOUNT_ROOT
from dstui.api.display import escape_controls
from dstui.api.models import RemoteFile
from dstui.tui.actions import FILES, bindings_for
from dstui.tui.formatting import counted, format_size, short_time

PARENT_KEY = ".."


def progress_bar(done: int, total: int | None, width: int) -> Content:
    """`██████░░░░  62%`; an unknown total shows the bytes so far only."""
    if not total:
        return Content.styled(format_size(done), "$accent")
    fraction = min(max(done / total, 0.0), 1.0)
    filled = round(fraction * width)
    return Content.assemble(
        ("█" * filled, "$accent"), ("░" * (width - filled), "$text-muted"), f" {fraction:4.0%}"
    )


class FilesTable(DataTable[str | Text]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g,home", "first_row", "First", show=False),
        Binding("G,end", "last_row", "Last", show=False),
        *bindings_for(FILES),
    ]

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=max(self.row_count - 1, 0))


# Fixed columns, and the least the free ones get; the name column takes what is left.
SIZE_WIDTH = 9
MODIFIED_WIDTH = 11
MIN_NAME_WIDTH = 16
START_NAME_WIDTH = 20
MIN_TYPE_WIDTH = 10
MAX_TYPE_WIDTH = 32
CELL_PADDING = 2  # one cell either side of every column


def column_widths(room: int, longest_type: int) -> tuple[int, int]:
    """(name, type) widths for a table `room` cells wide: type gets what its longest value
    needs (within bounds), name the rest, and neither less than its minimum."""
    free = room - SIZE_WIDTH - MODIFIED_WIDTH - 4 * CELL_PADDING
    type_width = max(MIN_TYPE_WIDTH, min(longest_type, MAX_TYPE_WIDTH, free - MIN_NAME_WIDTH))
    return max(MIN_NAME_WIDTH, free - type_width), type_width


def shown_type(entry: RemoteFile) -> str:
    """The media type without its parameters (`; charset=utf-8` only costs width)."""
    if entry.is_dir:
        return "directory"
    return (entry.content_type or "").split(";")[0].strip() or "—"


class FilesPane(Vertical):
    ALLOW_MAXIMIZE = True

    def __init__(self) -> None:
        super().__init__(id="files-pane", classes="pane")
        self.identifier: str | None = None
        self.path = ""
        self.entries: dict[str, RemoteFile] = {}
        self._widths = (0, 0)

    def compose(self) -> ComposeResult:
        yield Static(id="files-path")
        table = FilesTable(id="files-table", cursor_type="row")
        self._add_columns(table, START_NAME_WIDTH, MIN_TYPE_WIDTH)
        yield table
        yield Static(id="transfer-progress")
        yield Static(id="files-note")

    def on_mount(self) -> None:
        self.border_title = "4 Files"
        self.query_one("#transfer-progress").display = False
        self.show_placeholder(None)

    @property
    def table(self) -> FilesTable:
        return self.query_one(FilesTable)

    def _add_columns(self, table: FilesTable, name_width: int, type_width: int) -> None:
        self._widths = (name_width, type_width)
        table.add_column("name", key="name", width=name_width)
        table.add_column("size", key="size", width=SIZE_WIDTH)
        table.add_column("modified", key="modified", width=MODIFIED_WIDTH)
        table.add_column("type", key="type", width=type_width)

    def _fit_columns(self) -> None:
        """Give the columns the pane's width (re-adding them: DataTable keeps set widths)."""
        width = self.table.scrollable_content_region.width
        if not width:
            return
        types = [len(shown_type(f)) for f in self.entries.values()]
        widths = column_widths(width, max([len("directory"), *types]))
        if widths != self._widths:
            self.table.clear(columns=True)
            self._add_columns(self.table, *widths)

    def on_resize(self) -> None:
        self.call_after_refresh(self._relayout)

    def _relayout(self) -> None:
        if self.identifier is not None and self.entries:
            self.show_listing(self.identifier, self.path, list(self.entries.values()))

    def focus_primary(self) -> None:
        self.table.focus()

    def remote_dir(self) -> str:
        return f"{MOUNT_ROOT}/{self.path}" if self.path else MOUNT_ROOT

    def show_placeholder(self, selected: str | None) -> None:
        """Nothing listed for the selected session yet (listing would touch it)."""
        if self.table.row_count:
            self.table.clear()
        self.entries = {}
        self.query_one("#files-path", Static).update(
            Content.styled(MOUNT_ROOT if selected else "no session selected", "$text-muted"),
            layout=False,
        )
        note = "Focus this pane (4) or press r to list files ↻" if selected else ""
        self.query_one("#files-note", Static).update(
            Content.styled(note, "$text-muted"), layout=False
        )

    def show_listing(self, identifier: str, path: str, files: list[RemoteFile]) -> None:
        keep = (
            self.highlighted_name() if (identifier, path) == (self.identifier, self.path) else None
        )
        self.identifier = identifier
        self.path = path
        self.entries = {f.name: f for f in files}
        table = self.table
        table.clear()
        self._fit_columns()
        if path:
            table.add_row("../", "", "", "parent directory", key=PARENT_KEY)
        ordered = sorted(files, key=lambda f: (not f.is_dir, f.name.lower()))
        for entry in ordered:
            name = f"{entry.name}/" if entry.is_dir else entry.name
            table.add_row(
                # Server text: never markup, and control characters shown escaped.
                Text(
                    escape_controls(name),
                    style="bold" if entry.is_dir else "",
                    overflow="ellipsis",
                    no_wrap=True,
                ),
                "" if entry.is_dir else format_size(entry.size),
                short_time(entry.last_modified),
                Text(shown_type(entry), overflow="ellipsis", no_wrap=True),
                key=entry.name,
            )
        self.query_one("#files-path", Static).update(
            Content.assemble(
                (escape_controls(self.remote_dir()), "bold"),
                ("  ", ""),
                (escape_controls(identifier), "$text-muted"),
            ),
            layout=False,
        )
        count = sum(1 for f in files if not f.is_dir)
        dirs = len(files) - count
        self.query_one("#files-note", Static).update(
            Content.styled(
                f"{counted(count, 'file')} · {counted(dirs, 'directory', 'directories')}",
                "$text-muted",
            ),
            layout=False,
        )
        if keep is not None and keep in self.entries:
            table.move_cursor(row=table.get_row_index(keep), animate=False)

    def highlighted_name(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

    def highlighted_entry(self) -> RemoteFile | None:
        name = self.highlighted_name()
        return None if name is None else self.entries.get(name)

    def highlighted_path(self) -> str | None:
        """The full path of the entry under the cursor (`/mnt/data/dir/name`); None on `..`."""
        entry = self.highlighted_entry()
        return None if entry is None else f"{self.remote_dir()}/{entry.name}"

    def show_progress(self, label: str, done: int, total: int | None) -> None:
        bar = self.query_one("#transfer-progress", Static)
        bar.display = True
        bar.update(progress_bar(done, total, max(bar.size.width - 8, 10)), layout=False)
        self.query_one("#files-note", Static).update(Content(label), layout=False)

    def hide_progress(self) -> None:
        self.query_one("#transfer-progress", Static).display = False

    def show_failure(self, note: str) -> None:
        """Listing failed: the empty table says where the error went."""
        if self.table.row_count:
            self.table.clear()
        self.entries = {}
        self.identifier = None
        self.set_note(note)

    def set_note(self, text: str) -> None:
        self.query_one("#files-note", Static).update(Content(text), layout=False)
