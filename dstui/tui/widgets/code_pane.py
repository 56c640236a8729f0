"""Pane 3: a Python editor whose buffer (or selection) runs in the selected session."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Click
from textual.reactive import reactive
from textual.validation import Number
from textual.widgets import Input, Static, TextArea

from dstui.api.constants import (
    DEFAULT_EXECUTION_TIMEOUT_S,
    MAX_EXECUTION_TIMEOUT_S,
    MIN_EXECUTION_TIMEOUT_S,
)

DEFAULT_CODE = 'import sys\nprint("hello from", sys.version.split()[0])\n'


class AsyncToggle(Static):
    """`[x] async` — f6 or a click switches between waiting and polling the execution."""

    value: reactive[bool] = reactive(False)

    def render(self) -> Content:
        box = "[x]" if self.value else "[ ]"
        return Content.assemble(
            (box, "bold $accent" if self.value else "$text-muted"), " async (f6)"
        )

    def on_click(self, event: Click) -> None:
        self.value = not self.value


class CodePane(Vertical):
    ALLOW_MAXIMIZE = True

    def compose(self) -> ComposeResult:
        with Horizontal(id="run-controls"):
            yield Static("timeout", id="timeout-label")
            yield Input(
                str(DEFAULT_EXECUTION_TIMEOUT_S),
                type="integer",
                max_length=3,
                validators=[
                    Number(minimum=MIN_EXECUTION_TIMEOUT_S, maximum=MAX_EXECUTION_TIMEOUT_S)
                ],
                id="timeout",
                compact=True,
                tooltip=f"{MIN_EXECUTION_TIMEOUT_S}–{MAX_EXECUTION_TIMEOUT_S} seconds",
            )
            yield Static("s", id="timeout-unit")
            yield AsyncToggle(id="async-mode")
            yield Static("", id="run-target")
        # The language is set once the session list is on screen (enable_highlighting):
        # building the tree-sitter query takes ~50 ms on the event loop.
        yield TextArea.code_editor(DEFAULT_CODE, theme="css", id="editor")
        with VerticalScroll(id="output-scroll", can_focus=True):
            yield Static(
                Content.styled("ctrl+r / f5 runs the buffer (or the selection)", "$text-muted"),
                id="output",
            )

    def __init__(self) -> None:
        super().__init__(id="code-pane", classes="pane")

    def on_mount(self) -> None:
        self.border_title = "3 Code"

    def enable_highlighting(self) -> None:
        if self.editor.language != "python":
            self.editor.language = "python"

    @property
    def editor(self) -> TextArea:
        return self.query_one("#editor", TextArea)

    def focus_primary(self) -> None:
        self.editor.focus()

    def code_to_run(self) -> str:
        editor = self.editor
        selected = editor.selected_text
        return selected if selected.strip() else editor.text

    def timeout_seconds(self) -> int | None:
        field = self.query_one("#timeout", Input)
        try:
            value = int(field.value)
        except ValueError:
            return None
        if MIN_EXECUTION_TIMEOUT_S <= value <= MAX_EXECUTION_TIMEOUT_S:
            return value
        return None

    @property
    def asynchronous(self) -> bool:
        return self.query_one(AsyncToggle).value

    def toggle_async(self) -> None:
        toggle = self.query_one(AsyncToggle)
        toggle.value = not toggle.value

    def set_read_only(self) -> None:
        """--read-only: the buffer can be read, not run; the run controls go away."""
        self.editor.read_only = True
        for control in ("#timeout-label", "#timeout", "#timeout-unit", "#async-mode"):
            self.query_one(control).display = False
        self.show_output(
            Content.styled(
                "--read-only: code is not run from here (nothing is sent)", "$text-muted"
            )
        )

    def set_target(self, identifier: str | None, read_only: bool) -> None:
        target = self.query_one("#run-target", Static)
        if read_only:
            target.update(
                Content.styled("read-only: runs disabled", "$text-warning"),
                layout=False,
            )
        elif identifier is None:
            target.update(Content.styled("no session selected", "$text-muted"), layout=False)
        else:
            target.update(Content.assemble(("in ", "$text-muted"), identifier, " ↻"), layout=False)

    def show_output(self, content: Content) -> None:
        self.query_one("#output", Static).update(content)
        self.query_one("#output-scroll", VerticalScroll).scroll_home(animate=False)
