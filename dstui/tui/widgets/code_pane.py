"""Pane 3: a Python editor whose buffer (or selection) runs in the selected session."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Click, Key
from textual.reactive import reactive
from textual.validation import Number
from textual.widgets import Input, Static, TextArea

from dstui.api.constants import (
    DEFAULT_EXECUTION_TIMEOUT_S,
    MAX_EXECUTION_TIMEOUT_S,
    MIN_EXECUTION_TIMEOUT_S,
)
from dstui.api.display import escape_controls
from dstui.api.validation import timeout_problem
from dstui.tui.actions import CODE, bindings_for

# Shown dimmed while the buffer is empty; never part of the buffer, so typing starts afresh.
PLACEHOLDER = 'print("hello")   # type Python; ctrl+r runs it'
SHELL_PLACEHOLDER = "ls -la /mnt/data   # a bash command line (shellCommand); ctrl+r runs it"
CUSTOM_PLACEHOLDER = "no code runs in a CustomContainer pool; R sends a request to its app"
# Lines after which the next one leaves the block.
_DEDENT_AFTER = ("return", "pass", "break", "continue", "raise")
# Every key the editor understands, for the help (ctrl+a keeps its shell meaning, as ctrl+e).
EDITOR_KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+r / f5", "run the buffer, or the selection, in the target session"),
    ("enter", "new line, indented like this one (one level more after a `:`)"),
    ("tab", "indent to the next tab stop"),
    ("backspace", "in a line's leading spaces: back one indent level"),
    ("esc", "leave the editor (then 1–4, q… are pane keys again)"),
    ("f7", "select all"),
    ("shift+arrows", "select; shift+home / shift+end to the line's ends"),
    ("ctrl+a / home", "start of the line (ctrl+a as in a shell; f7 selects all)"),
    ("ctrl+e / end", "end of the line"),
    ("ctrl+←/→", "previous / next word"),
    ("pgup / pgdn", "a page up / down"),
    ("ctrl+z/ctrl+y", "undo / redo (a run loaded with f3 is one undo from the draft)"),
    ("ctrl+x/c/v", "cut / copy / paste"),
    ("ctrl+w/alt+del", "delete the word left / right of the cursor"),
    ("ctrl+u/ctrl+k", "delete to the start / end of the line"),
    ("ctrl+shift+k", "delete the line"),
    ("f3", "load an earlier run of this session (the draft stays one undo away)"),
    ("f4 / f6", "stop waiting for the run (the service cannot cancel) / async mode"),
    ("f2", "fetch the result of a run f4 stopped waiting for"),
    ("f12", "interrupt the kernel (emulator only)"),
)


def next_line_indent(line_before_cursor: str, indent_width: int) -> str:
    """The indentation for a new line: the current one, one level more after a `:` that opens
    a block, one level less after a statement that leaves it."""
    stripped = line_before_cursor.strip()
    indent = line_before_cursor[: len(line_before_cursor) - len(line_before_cursor.lstrip())]
    code = stripped.split("#", 1)[0].rstrip() if "#" in stripped else stripped
    if code.endswith(":"):
        return indent + " " * indent_width
    first_word = code.split(maxsplit=1)[0] if code else ""
    if first_word in _DEDENT_AFTER:
        return indent[: max(len(indent) - indent_width, 0)]
    return indent


class PythonEditor(TextArea):
    """A TextArea whose enter keeps the indentation and opens a Python block after `:`."""

    async def _on_key(self, event: Key) -> None:
        if event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            row, column = self.cursor_location
            before = self.document[row][:column]
            start, end = self.selection
            self.replace("\n" + next_line_indent(before, self.indent_width), start, end)
            return
        if event.key == "backspace" and not self.read_only and self._dedent():
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def _dedent(self) -> bool:
        """Backspace in a line's leading spaces goes back a whole level, as enter went in."""
        start, end = self.selection
        row, column = end
        before = self.document[row][:column]
        if start != end or not before or before.strip(" "):
            return False
        width = max(self.indent_width, 1)
        target = (column - 1) // width * width
        self.delete((row, target), end)
        return True


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


class ArgvToggle(Static):
    """`[x] argv` — a Shell pool's buffer split like a shell and run without one (ctrl+t)."""

    DEFAULT_CSS = "ArgvToggle { width: auto; padding: 0 1; display: none; }"
    value: reactive[bool] = reactive(False)

    def render(self) -> Content:
        box = "[x]" if self.value else "[ ]"
        return Content.assemble(
            (box, "bold $accent" if self.value else "$text-muted"), " argv (ctrl+t)"
        )

    def on_click(self, event: Click) -> None:
        self.value = not self.value


class OutputScroll(VerticalScroll, can_focus=True):
    """The run's output under the editor; its keys (`y` copies) work while it has the focus."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for(CODE)


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
            yield ArgvToggle(id="argv-mode")
        # The language is set once the session list is on screen (enable_highlighting):
        # building the tree-sitter query takes ~50 ms on the event loop.
        yield PythonEditor.code_editor(
            "", theme="css", id="editor", placeholder=Content.styled(PLACEHOLDER, "italic")
        )
        with OutputScroll(id="output-scroll"):
            yield Static(
                Content.styled("ctrl+r / f5 runs the buffer (or the selection)", "$text-muted"),
                id="output",
            )

    def __init__(self) -> None:
        super().__init__(id="code-pane", classes="pane")
        self._target = Content()
        self.shell = False  # a Shell pool: the buffer is a bash command line

    def on_mount(self) -> None:
        self.border_title = "3 Code"

    def enable_highlighting(self) -> None:
        language = "bash" if self.shell else "python"
        if self.editor.language != language:
            self.editor.language = language

    def set_shell_mode(self, shell: bool, *, custom: bool = False) -> None:
        """A Shell pool's command line instead of a Python editor (same keys, drafts, history);
        `custom`: a custom-container pool, where nothing runs (the placeholder says so)."""
        text = CUSTOM_PLACEHOLDER if custom else SHELL_PLACEHOLDER if shell else PLACEHOLDER
        self.editor.placeholder = Content.styled(text, "italic")
        if shell == self.shell:
            return
        self.shell = shell
        self.border_title = "3 Shell" if shell else "3 Code"
        self.query_one(ArgvToggle).display = shell and not self.editor.read_only
        if self.editor.language is not None:
            self.enable_highlighting()

    @property
    def editor(self) -> TextArea:
        return self.query_one("#editor", TextArea)

    def focus_primary(self) -> None:
        self.editor.focus()

    def load_code(self, code: str) -> None:
        """Replace the buffer as one edit, so ctrl+z brings the draft back."""
        editor = self.editor
        editor.history.checkpoint()
        editor.replace(code, (0, 0), editor.document.end)
        editor.history.checkpoint()
        editor.move_cursor((0, 0))

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
        return value if timeout_problem(value) is None else None

    @property
    def asynchronous(self) -> bool:
        return self.query_one(AsyncToggle).value

    @property
    def argv(self) -> bool:
        """Shell pools: run the buffer as an argv (execCommandAndArgs), not through bash."""
        return self.shell and self.query_one(ArgvToggle).value

    def toggle_argv(self) -> None:
        toggle = self.query_one(ArgvToggle)
        toggle.value = not toggle.value

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

    def set_target(
        self,
        identifier: str | None,
        read_only: bool,
        *,
        pool: str = "",
        running_in: str | None = None,
    ) -> None:
        """The run target, on the line above the output: the session first (a narrow pane
        cuts the end), then the pool. While a run is in flight it names the session the run
        is in, wherever the cursor is."""
        pool_part = (f" · {pool}", "$text-muted") if pool else ""
        if read_only:
            content = Content.styled("read-only: runs disabled", "$text-warning")
        elif running_in is not None:
            content = Content.assemble(
                ("▶ running in ", "bold $accent"), escape_controls(running_in), " ↻", pool_part
            )
        elif identifier is None:
            content = Content.styled("no session selected", "$text-muted")
        else:
            shown = escape_controls(identifier)  # from a listing: may hold control characters
            content = Content.assemble(("run in ", "$text-muted"), shown, " ↻", pool_part)
        content = Content.assemble(" ", content, " ")
        self._target = content
        self.query_one("#output-scroll", VerticalScroll).border_title = content

    @property
    def target_text(self) -> str:
        """The run target as plain text."""
        return self._target.plain

    def show_output(self, content: Content) -> None:
        self.query_one("#output", Static).update(content)
        self.query_one("#output-scroll", VerticalScroll).scroll_home(animate=False)
