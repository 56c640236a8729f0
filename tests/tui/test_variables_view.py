"""The Variables view: the probe's report as a table; `a` re-probes with every name (Pilot)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from dstui.api.variables_probe import ProbeError, VariableRow, VariablesReport
from dstui.tui.screens.variables import HISTORY_NOTE, VariablesModal

USER_ROWS = (
    VariableRow(
        "frame",
        "pandas.DataFrame",
        "variable",
        shape=(120, 4),
        size_bytes=8_960,
        repr="   a  b  c  d\n0  1  2  3  4…",
    ),
    VariableRow("rows", "list", "variable", length=5, size_bytes=120, repr="[0, 1, 4, 9, 16]"),
    VariableRow("slow", "mymod.Slow", "variable", timed_out=True),
    VariableRow("token_like", "str", "variable", length=12, size_bytes=61, repr="'[bold]x[/]\x1b'"),
)
HIDDEN_ROWS = (
    VariableRow("np", "module", "module", repr="<module 'numpy'>"),
    VariableRow("In", "list", "ipython", length=7, size_bytes=120, repr="['', 'x = 1', …]"),
)


def report(show_all: bool) -> VariablesReport:
    rows = USER_ROWS + HIDDEN_ROWS if show_all else USER_ROWS
    return VariablesReport(
        rows=tuple(sorted(rows, key=lambda r: r.name)),
        counts={"variable": 4, "module": 1, "ipython": 1},
        truncated=False,
        timed_out=1,
        elapsed_ms=12.0,
        show_all=show_all,
    )


class VariablesHostApp(App[None]):
    def __init__(self, *, fail: bool = False, identifier: str = "agent-chat-00001") -> None:
        super().__init__()
        self.calls: list[bool] = []
        self.fail = fail
        self.identifier = identifier

    def compose(self) -> ComposeResult:
        yield Static("host")

    async def probe(self, show_all: bool) -> VariablesReport:
        self.calls.append(show_all)
        if self.fail:
            raise ProbeError(f"the variables probe printed no answer line {self.identifier}")
        return report(show_all)

    def on_mount(self) -> None:
        self.animation_level = "none"
        self.push_screen(VariablesModal(self.identifier, self.probe))


async def settled(pilot: Pilot[Any]) -> VariablesModal:
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, VariablesModal)
    return screen


def text(screen: VariablesModal, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_table_of_user_globals_and_the_history_note() -> None:
    app = VariablesHostApp()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await settled(pilot)
        assert app.calls == [False]
        names = [str(screen.table.get_row_at(i)[0]) for i in range(screen.table.row_count)]
        assert names == ["frame", "rows", "slow", "token_like"]
        assert str(screen.table.get_row_at(0)[2]) == "120×4"
        assert str(screen.table.get_row_at(2)[4]) == "(timed out)"
        # A repr is shown as text: markup stays literal, control characters escaped.
        assert str(screen.table.get_row_at(3)[4]) == "'[bold]x[/]\\x1b'"
        summary = text(screen, "#variables-summary")
        assert "hidden: 1 ipython, 1 module" in summary and "1 value took too long" in summary
        assert "appears in the kernel's history" in text(screen, "#variables-note")
        assert "history" in HISTORY_NOTE


async def test_a_shows_every_name_by_probing_again() -> None:
    app = VariablesHostApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await settled(pilot)
        await pilot.press("a")
        screen = await settled(pilot)
        assert app.calls == [False, True]
        assert screen.table.row_count == 6
        assert "shown (a hides them" in text(screen, "#variables-summary")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, VariablesModal)


async def test_a_failed_probe_says_why() -> None:
    app = VariablesHostApp(fail=True)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await settled(pilot)
        assert "The probe failed: the variables probe printed no answer line" in text(
            screen, "#variables-summary"
        )
        assert screen.table.row_count == 0


async def test_a_hostile_identifier_and_error_stay_text() -> None:
    """The session's name (from a listing) and the error (from the server) are never markup."""
    app = VariablesHostApp(fail=True, identifier="[red]x[/]")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await settled(pilot)
        assert "printed no answer line [red]x[/]" in text(screen, "#variables-summary")
        dialog = screen.query_one("#variables-dialog")
        assert "Variables in [red]x[/]" in str(dialog._border_title)
