"""Dialogs: confirm (default Cancel, optionally typed), identifier entry, upload picker,
file preview, help, run history and the message log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, DirectoryTree, Input, OptionList, Static
from textual.widgets.option_list import Option

from dstui.api.constants import IDENTIFIER_MAX_LENGTH, IDENTIFIER_MIN_LENGTH
from dstui.api.errors import RequestValidationError
from dstui.api.validation import refused_identifier_characters, validate_identifier
from dstui.tui.formatting import format_size
from dstui.tui.history import RunRecord
from dstui.tui.message_log import LogEntry


class ConfirmModal(ModalScreen[bool]):
    """Yes/no with the focus on Cancel; with `typed`, OK stays disabled until it is typed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("n", "cancel", "No", show=False),
    ]

    def __init__(
        self,
        title: str,
        message: str,
        *,
        confirm_label: str = "Delete",
        typed: str | None = None,
        typed_meaning: str = "",
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.message = message
        self.confirm_label = confirm_label
        self.typed = typed
        self.typed_meaning = typed_meaning  # what the typed value counts, for a wrong answer

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm-dialog") as dialog:
            dialog.border_title = self.title_text
            yield Static(Content(self.message), classes="dialog-message")
            if self.typed is not None:
                yield Static(Content(f"Type {self.typed} to confirm:"))
                yield Input(id="confirm-typed")
                yield Static("", id="confirm-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(
                    self.confirm_label,
                    id="confirm",
                    variant="error",
                    disabled=self.typed is not None,
                )

    def on_mount(self) -> None:
        if self.typed is not None:
            self.query_one("#confirm-typed").focus()
        else:
            self.query_one("#cancel").focus()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key == "y" and self.typed is None and not isinstance(self.focused, Input):
            self.dismiss(True)

    @on(Input.Changed, "#confirm-typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = event.value.strip() != self.typed
        self.query_one("#confirm-error", Static).update("")

    @on(Input.Submitted, "#confirm-typed")
    def _typed_submit(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value == self.typed:
            self.dismiss(True)
            return
        meaning = f" ({self.typed_meaning})" if self.typed_meaning else ""
        typed = f"{value!r} is not {self.typed}" if value else "Nothing typed"
        self.query_one("#confirm-error", Static).update(
            Content(f"{typed}: type {self.typed}{meaning} to confirm, or esc to cancel.")
        )

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class IdentifierModal(ModalScreen[str | None]):
    """Type (or accept a generated) session identifier; checked locally before closing."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, title: str, *, value: str = "", help_text: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.value = value
        self.help_text = help_text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="identifier-dialog") as dialog:
            dialog.border_title = self.title_text
            if self.help_text:
                yield Static(Content(self.help_text), classes="dialog-message")
            yield Input(self.value, placeholder="session identifier", id="identifier-input")
            yield Static("", id="identifier-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#identifier-input").focus()

    def _accept(self, value: str) -> None:
        try:
            identifier = validate_identifier(value.strip())
        except RequestValidationError as exc:
            self.query_one("#identifier-error", Static).update(
                Content(f"{identifier_problem(value.strip(), exc)}\n{exc.hint}")
            )
            return
        self.dismiss(identifier)

    @on(Input.Submitted, "#identifier-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self._accept(event.value)

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self._accept(self.query_one("#identifier-input", Input).value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


_CHARACTER_NAMES = {" ": "space", "\t": "tab", "\u00a0": "no-break space"}


def identifier_problem(value: str, exc: RequestValidationError) -> str:
    """The refused characters named one by one (`space`, not a quoted blank that a line
    break can split); other problems keep the validator's own words."""
    refused = refused_identifier_characters(value)
    if not refused or not IDENTIFIER_MIN_LENGTH <= len(value) <= IDENTIFIER_MAX_LENGTH:
        return exc.message[:1].upper() + exc.message[1:] + "."
    names = [
        _CHARACTER_NAMES.get(ch) or (repr(ch) if ch.isprintable() else ascii(ch)) for ch in refused
    ]
    return f"Not allowed in an identifier: {', '.join(names)}."


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
            dialog.border_title = f"Upload to {self.remote_dir}"
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
            error.update(Content(f"Not a file: {path}"))
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


class TextModal(ModalScreen[None]):
    """A read-only view (file preview, help); escape or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, title: str, body: Content, *, dialog_id: str = "text-dialog") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.body = body
        self.dialog_id = dialog_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id=self.dialog_id) as dialog:
            dialog.border_title = self.title_text
            dialog.border_subtitle = "esc closes"
            with VerticalScroll(can_focus=True, id="text-scroll"):
                yield Static(self.body, id="text-body")

    def on_mount(self) -> None:
        self.query_one("#text-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)


def help_content(sections: Iterable[tuple[str, Sequence[tuple[str, str, bool]]]]) -> Content:
    """Sections of (key, action, keeps-session-alive) rows."""
    lines: list[Content] = [
        Content.styled(
            "↻ marks actions that send a request naming the session, which resets its cooldown "
            "(keeps it alive). Selecting a row never does.",
            "$text-muted",
        )
    ]
    for title, rows in sections:
        if not rows:
            continue  # a pane with no keys of its own (the Code pane: see Editor)
        lines.append(Content(""))
        lines.append(Content.styled(title, "bold $primary"))
        for key, action, touches in rows:
            lines.append(
                Content.assemble(
                    (f"  {key:<16}", "bold $accent"),
                    action,
                    (" ↻" if touches else "", "$warning"),
                )
            )
    return Content("\n").join(lines)


class HistoryModal(ModalScreen[int | None]):
    """Pick a previous run of this session to recall its code and output."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, identifier: str, runs: Sequence[RunRecord]) -> None:
        super().__init__(classes="dialog-screen")
        self.identifier = identifier
        self.runs = runs

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="history-dialog") as dialog:
            dialog.border_title = f"Runs in {self.identifier}"
            options = []
            for index in range(len(self.runs) - 1, -1, -1):
                run = self.runs[index]
                first_line = run.code.strip().splitlines()[0] if run.code.strip() else "(empty)"
                number = f"#{run.number:<3} " if run.number else ""  # older runs have none
                options.append(
                    Option(
                        Content(
                            f"{number}{run.at[:19].replace('T', ' ')}  {run.status:<9}  "
                            f"{first_line[:60]}"
                        ),
                        id=str(index),
                    )
                )
            yield OptionList(*options, id="history-list")

    def on_mount(self) -> None:
        self.query_one("#history-list").focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)


class MessagesModal(ModalScreen[None]):
    """The message log, newest first: every toast with its full error, hint and ids."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
        Binding("c", "copy_entry", "Copy", show=False),
    ]

    def __init__(self, entries: Sequence[LogEntry]) -> None:
        super().__init__(classes="dialog-screen")
        self.entries = list(reversed(entries))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="messages-dialog") as dialog:
            dialog.border_title = f"Messages ({len(self.entries)})"
            dialog.border_subtitle = "c copies the highlighted message · esc closes"
            if not self.entries:
                yield Static(Content.styled("No messages yet.", "$text-muted"))
            options = [
                Option(_log_entry_content(entry), id=str(index))
                for index, entry in enumerate(self.entries)
            ]
            yield OptionList(*options, id="messages-list")

    def on_mount(self) -> None:
        self.query_one("#messages-list").focus()

    def action_copy_entry(self) -> None:
        index = self.query_one("#messages-list", OptionList).highlighted
        if index is None or not 0 <= index < len(self.entries):
            return
        self.app.copy_to_clipboard(self.entries[index].full_text())
        self.query_one("#messages-dialog").border_subtitle = "copied · esc closes"

    def action_close(self) -> None:
        self.dismiss(None)


_SEVERITY_MARK = {
    "error": ("✘", "bold $text-error"),
    "warning": ("!", "bold $text-warning"),
    "information": ("·", "$text-muted"),
}


def _log_entry_content(entry: LogEntry) -> Content:
    mark, style = _SEVERITY_MARK.get(entry.severity, ("·", ""))
    lines = [Content.assemble((f"{entry.at} ", "$text-muted"), (f"{mark} ", style), entry.text)]
    for label, value in entry.details():
        lines.append(Content.assemble((f"    {label}: ", "bold $secondary"), value))
    return Content("\n").join(lines)


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
                Content(
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
            dialog.border_title = f"Save {self.source_name} as"
            yield Static(
                Content(f"A relative path is saved under {self.folder}."),
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
