"""Variables: the kernel's user globals in a table, from one probe statement run in the session.

Running the probe is a request naming the session (↻: it resets the cooldown). The probe is a
statement, so `_` is unchanged and no name is left behind, but it does appear in the kernel's
input history (`In`, `_i<N>`); the view says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from dstui.api.display import escape_controls
from dstui.api.errors import DynamicSessionsError
from dstui.api.variables_probe import VariablesReport
from dstui.common.units import format_bytes
from dstui.tui.actions import VARIABLES, bindings_for
from dstui.tui.errors import describe_error
from dstui.tui.formatting import counted

Probe = Callable[[bool], Awaitable[VariablesReport]]  # show_all -> the report
COLUMNS = ("name", "type", "shape/len", "size", "repr")
HISTORY_NOTE = (
    "The probe is one statement run in the kernel: it leaves no names and does not change `_`, "
    "but it appears in the kernel's history (In, _iN)."
)


def variable_cells(report: VariablesReport) -> list[tuple[Text, ...]]:
    rows: list[tuple[Text, ...]] = []
    for row in report.rows:
        size = "" if row.size_bytes is None else format_bytes(row.size_bytes)
        shown = "(timed out)" if row.repr is None else escape_controls(row.repr)
        dim = "dim" if row.hidden_by_default else ""
        rows.append(
            (
                Text(escape_controls(row.name), style=dim),
                Text(escape_controls(row.type_name), style=dim),
                Text(row.extent, justify="right"),
                Text(size, justify="right"),
                Text(shown, style="italic" if row.repr is None else dim),
            )
        )
    return rows


def report_summary(report: VariablesReport) -> str:
    shown = len(report.rows)
    parts = [f"{shown} name{'s' if shown != 1 else ''}" if shown else "No user globals"]
    if report.hidden:
        hidden = ", ".join(
            f"{count} {group}"
            for group, count in sorted(report.counts.items())
            if group != "variable" and count
        )
        parts.append(f"hidden: {hidden} (a shows them ↻)")
    elif report.show_all:
        parts.append("modules, functions and IPython names shown (a hides them ↻)")
    if report.truncated:
        parts.append("more names exist than the probe sends")
    if report.timed_out:
        parts.append(f"{counted(report.timed_out, 'value')} took too long to describe")
    parts.append(f"probe {report.elapsed_ms:.0f} ms in the kernel")
    return " · ".join(parts)


class VariablesModal(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(VARIABLES)
    DEFAULT_CSS = """
    VariablesModal { align: center middle; }
    #variables-dialog {
        width: 95%; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    #variables-summary { height: auto; color: $text-muted; }
    #variables-summary.-error { color: $text-error; }
    #variables-note { height: auto; color: $text-muted; margin-bottom: 1; }
    #variables-table { height: 1fr; }
    """

    def __init__(self, identifier: str, probe: Probe, *, show_all: bool = False) -> None:
        super().__init__(id="variables")
        self.identifier = identifier
        self.probe = probe
        self.show_all = show_all
        self.report: VariablesReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="variables-dialog") as dialog:
            dialog.border_title = Content(f"Variables in {escape_controls(self.identifier)} ↻")
            dialog.border_subtitle = "esc closes"
            yield Static("Running the probe…", id="variables-summary", markup=False)
            yield Static(HISTORY_NOTE, id="variables-note")
            yield DataTable(id="variables-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#variables-table", DataTable)

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.table.add_column(column, key=column)
        self.table.focus()
        self.run_probe()

    @work(group="variables-probe", exclusive=True, exit_on_error=False, description="Variables")
    async def run_probe(self) -> None:
        summary = self.query_one("#variables-summary", Static)
        summary.set_class(False, "-error")
        summary.update("Running the probe…")
        try:
            report = await self.probe(self.show_all)
        except DynamicSessionsError as exc:
            summary.set_class(True, "-error")
            summary.update(f"The probe failed: {describe_error(exc)}")
            return
        self.report = report
        self.table.clear()
        self.table.add_rows(variable_cells(report))
        summary.update(report_summary(report))

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.run_probe()

    def action_probe(self) -> None:
        self.run_probe()

    def action_close(self) -> None:
        self.dismiss(None)
