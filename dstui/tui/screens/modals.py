"""Dialogs: confirm (default Cancel, optionally typed), identifier entry, a text view (help),
run history and the message log; the Files pane's own are in `file_dialogs`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from dstui.api.constants import IDENTIFIER_MAX_LENGTH, IDENTIFIER_MIN_LENGTH
from dstui.api.display import escape_controls
from dstui.api.errors import RequestValidationError
from dstui.api.validation import refused_identifier_characters, validate_identifier
from dstui.recording.run_history import RunRecord
from dstui.tui.message_log import LogEntry


def safe_title(text: str) -> Content:
    """A dialog title from names a session or a file may carry: no markup, and control
    characters (a newline included) written as visible escapes."""
    return Content(escape_controls(text))


def safe_text(text: str) -> Content:
    """A dialog's message: as `safe_title`, but its line breaks stay."""
    return Content(escape_controls(text, keep_newlines=True))


def confirm_then(app: App[Any], modal: ConfirmModal, proceed: Callable[[], object]) -> None:
    """Show `modal`; `proceed` runs once it is confirmed (Cancel and esc do nothing)."""

    def answered(ok: bool | None) -> None:
        if ok:
            proceed()

    app.push_screen(modal, answered)


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

    @classmethod
    def typed_count(
        cls, title: str, message: str, count: int, counted: str, *, confirm_label: str = "Delete"
    ) -> ConfirmModal:
        """A bulk action's question: OK once the number of `counted` (`marked sessions`) is
        typed."""
        typed_meaning = f"the number of {counted}"
        return cls(
            title,
            message,
            confirm_label=confirm_label,
            typed=str(count),
            typed_meaning=typed_meaning,
        )

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm-dialog") as dialog:
            dialog.border_title = safe_title(self.title_text)
            yield Static(safe_text(self.message), classes="dialog-message")
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
            dialog.border_title = safe_title(self.title_text)
            if self.help_text:
                yield Static(safe_text(self.help_text), classes="dialog-message")
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
            dialog.border_title = safe_title(self.title_text)
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
            dialog.border_title = safe_title(f"Runs in {self.identifier}")
            options = []
            for index in range(len(self.runs) - 1, -1, -1):
                run = self.runs[index]
                first_line = run.code.strip().splitlines()[0] if run.code.strip() else "(empty)"
                number = f"#{run.number:<3} " if run.number else ""  # older runs have none
                status = run.status if run.exit_code is None else f"exit {run.exit_code}"
                options.append(
                    Option(
                        Content(
                            f"{number}{run.at[:19].replace('T', ' ')}  {status:<9}  "
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
