"""Dialogs: confirm (default Cancel, optionally typed), identifier entry, upload picker,
file preview, help and run history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, OptionList, Static
from textual.widgets.option_list import Option

from dstui.api.errors import RequestValidationError
from dstui.api.validation import validate_identifier
from dstui.tui.formatting import format_size
from dstui.tui.history import RunRecord


class ConfirmModal(ModalScreen[bool]):
    """Yes/no with the focus on Cancel; with `typed`, OK stays disabled until it is typed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("n", "cancel", "No", show=False),
    ]

    def __init__(
        self, title: str, message: str, *, confirm_label: str = "Delete", typed: str | None = None
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.message = message
        self.confirm_label = confirm_label
        self.typed = typed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm-dialog") as dialog:
            dialog.border_title = self.title_text
            yield Static(Content(self.message), classes="dialog-message")
            if self.typed is not None:
                yield Static(Content(f"Type {self.typed} to confirm:"))
                yield Input(id="confirm-typed")
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

    @on(Input.Submitted, "#confirm-typed")
    def _typed_submit(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.typed:
            self.dismiss(True)

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
            self.query_one("#identifier-error", Static).update(Content(exc.message))
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
                options.append(
                    Option(
                        Content(
                            f"{run.at[:19].replace('T', ' ')}  {run.status:<9}  {first_line[:60]}"
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
