"""The Files pane's dialogs: the upload picker, a download's name clash and its "save as",
and the file preview (t shows the end, f follows it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, DirectoryTree, Input, Static

from dstui.tui.formatting import format_size
from dstui.tui.screens.modals import TextModal, safe_text, safe_title


class _RootNamedTree(DirectoryTree):
    """Shows the start folder by its name only (keeps screenshots free of home paths)."""

    def on_mount(self) -> None:
        self.root.set_label(Path(self.path).name or str(self.path))


class UploadModal(ModalScreen[Path | None]):
    """Pick a local file (typed path or the directory browser); too-large files are refused."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(
        self, start_dir: Path, max_bytes: int, remote_dir: str, *, initial: Path | None = None
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.start_dir = start_dir
        self.max_bytes = max_bytes
        self.remote_dir = remote_dir
        self.initial = initial  # a path to offer again (the last upload that failed)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="upload-dialog") as dialog:
            dialog.border_title = safe_title(f"Upload to {self.remote_dir}")
            yield Input(
                str(self.initial or ""),
                placeholder="local file path (enter uploads)",
                id="upload-path",
            )
            yield _RootNamedTree(self.start_dir, id="upload-tree")
            yield Static("", id="upload-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Upload", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#upload-path").focus()

    def _accept(self, value: str) -> None:
        error = self.query_one("#upload-error", Static)
        if not value.strip():
            error.update("Choose a file first.")
            return
        path = Path(value.strip()).expanduser()
        if not path.is_absolute():
            path = (self.start_dir / path).absolute()
        if not path.is_file():
            error.update(safe_text(f"Not a file: {path}"))
            return
        size = path.stat().st_size
        if size > self.max_bytes:
            error.update(
                Content(
                    f"{path.name} is {format_size(size)}; the pool accepts at most "
                    f"{format_size(self.max_bytes)} per file."
                )
            )
            return
        self.dismiss(path)

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#upload-path", Input).value = str(event.path)
        self.query_one("#upload-error", Static).update("")

    @on(Input.Submitted, "#upload-path")
    def _submitted(self, event: Input.Submitted) -> None:
        self._accept(event.value)

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self._accept(self.query_one("#upload-path", Input).value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ClashModal(ModalScreen[str | None]):
    """A download's destination exists: replace it, keep both, or pick another name."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, dest: Path, source_name: str, kept_name: str) -> None:
        super().__init__(classes="dialog-screen")
        self.dest = dest
        self.source_name = source_name
        self.kept_name = kept_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="clash-dialog") as dialog:
            dialog.border_title = "File exists"
            yield Static(
                safe_text(
                    f"{self.dest} exists. Replace it with {self.source_name} from the session, "
                    f"keep both (saves as {self.kept_name}), or save under another name?"
                ),
                classes="dialog-message",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Save as…", id="save-as")
                yield Button("Keep both", id="keep-both")
                yield Button("Overwrite", id="overwrite", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel").focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "cancel" else event.button.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SaveAsModal(ModalScreen[Path | None]):
    """Where to save a download: a path, relative ones under the download folder."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, source_name: str, folder: Path) -> None:
        super().__init__(classes="dialog-screen")
        self.source_name = source_name
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="save-as-dialog") as dialog:
            dialog.border_title = safe_title(f"Save {self.source_name} as")
            yield Static(
                safe_text(f"A relative path is saved under {self.folder}."),
                classes="dialog-message",
            )
            yield Input(self.source_name, placeholder="local path", id="save-as-path")
            yield Static("", id="save-as-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#save-as-path").focus()

    def _accept(self, value: str) -> None:
        if not value.strip():
            self.query_one("#save-as-error", Static).update("Type a file name first.")
            return
        path = Path(value.strip()).expanduser()
        path = path if path.is_absolute() else self.folder / path
        if path.is_dir():
            path = path / self.source_name
        self.dismiss(path)

    @on(Input.Submitted, "#save-as-path")
    def _submitted(self, event: Input.Submitted) -> None:
        self._accept(event.value)

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self._accept(self.query_one("#save-as-path", Input).value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def kept_name(dest: Path) -> Path:
    """`report (1).csv`, `report (2).csv`, …: the first name next to dest that is free."""
    for number in range(1, 10_000):
        candidate = dest.with_name(f"{dest.stem} ({number}){dest.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"no free name next to {dest}")


FOLLOW_INTERVAL_S = 2.0


class PreviewModal(TextModal):
    """A text file's preview; `t` shows its end instead, `f` follows it (re-read every 2 s,
    each read a request to the session ↻)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "tail", "End", show=False),
        Binding("f", "follow", "Follow", show=False),
    ]

    def __init__(
        self,
        title: str,
        body: Content,
        read_end: Callable[[], Awaitable[tuple[Content, bool]]],
    ) -> None:
        """`read_end` gives the file's end and whether it could be read (False stops f)."""
        super().__init__(title, body, dialog_id="preview-dialog")
        self.read_end = read_end
        self.following = False
        self._reading = False
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self._subtitle()

    def _subtitle(self) -> None:
        follow = "f stops following" if self.following else "f follows ↻"
        self.query_one(
            f"#{self.dialog_id}"
        ).border_subtitle = f"t shows the end ↻ · {follow} · esc closes"

    def action_tail(self) -> None:
        self._read_end()

    def action_follow(self) -> None:
        if self.following:
            self._stop_following()
            return
        self.following = True
        self._read_end()
        self._timer = self.set_interval(FOLLOW_INTERVAL_S, self._read_end)
        self._subtitle()

    def _stop_following(self) -> None:
        self.following = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._subtitle()

    def _read_end(self) -> None:
        if self._reading:
            return  # a slow read is still under way: this tick is skipped, not queued
        self._reading = True
        self._read_end_worker()

    @work(group="preview-end", exit_on_error=False)
    async def _read_end_worker(self) -> None:
        try:
            body, ok = await self.read_end()
        finally:
            self._reading = False
        self.query_one("#text-body", Static).update(body)
        self.query_one("#text-scroll", VerticalScroll).scroll_end(animate=False)
        if not ok and self.following:
            self._stop_following()  # the error was reported once; no new one every tick
