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
from dstui.api.models import RemoteFile
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
        Binding("enter", "screen.open_entry", "Open dir", show=False, id="open-entry"),
        Binding("backspace", "screen.parent_directory", "Up", id="parent-directory"),
        Binding("u", "screen.upload_file", "Upload↻", id="upload-file"),
        Binding("d", "screen.download_file", "Download↻", id="download-file"),
        Binding("ctrl+d", "screen.delete_file", "Delete↻", id="delete-file"),
        Binding("p", "screen.preview_file", "Preview↻", id="preview-file"),
        Binding("r", "screen.refresh_files", "List↻", id="refresh-files"),
    ]


class FilesPane(Vertical):
    ALLOW_MAXIMIZE = True

    def __init__(self) -> None:
        super().__init__(id="files-pane", classes="pane")
        self.identifier: str | None = None
        self.path = ""
        self.entries: dict[str, RemoteFile] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="files-path")
        table = FilesTable(id="files-table", cursor_type="row")
        table.add_column("name", key="name", width=20)
        table.add_column("size", key="size", width=9)
        table.add_column("modified", key="modified", width=11)
        table.add_column("type", key="type", width=10)
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
        if path:
            table.add_row("../", "", "", "parent directory", key=PARENT_KEY)
        ordered = sorted(files, key=lambda f: (not f.is_dir, f.name.lower()))
        for entry in ordered:
            name = f"{entry.name}/" if entry.is_dir else entry.name
            table.add_row(
                Text(name, style="bold" if entry.is_dir else ""),  # server text, not markup
                "" if entry.is_dir else format_size(entry.size),
                short_time(entry.last_modified),
                Text("directory" if entry.is_dir else (entry.content_type or "—")),
                key=entry.name,
            )
        self.query_one("#files-path", Static).update(
            Content.assemble((self.remote_dir(), "bold"), ("  ", ""), (identifier, "$text-muted")),
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

    def show_progress(self, label: str, done: int, total: int | None) -> None:
        bar = self.query_one("#transfer-progress", Static)
        bar.display = True
        bar.update(progress_bar(done, total, max(bar.size.width - 8, 10)), layout=False)
        self.query_one("#files-note", Static).update(Content(label), layout=False)

    def hide_progress(self) -> None:
        self.query_one("#transfer-progress", Static).display = False

    def set_note(self, text: str) -> None:
        self.query_one("#files-note", Static).update(Content(text), layout=False)
