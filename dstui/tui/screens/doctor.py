"""The auth doctor as a screen: the checks of `dstui doctor`, run in a worker with the app's
current connection; r runs them again. Only claims are ever shown, never a token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from dstui.api.errors import safe_text
from dstui.doctor import DoctorReport
from dstui.tui.doctor_render import check_details, check_heading, summary
from dstui.tui.errors import describe_error

DoctorRun = Callable[[], Awaitable[DoctorReport]]


class DoctorScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    DoctorScreen #doctor-dialog { height: 90%; }
    DoctorScreen #doctor-scroll { height: 1fr; }
    DoctorScreen #doctor-status { height: auto; padding: 0 1; }
    DoctorScreen .check-heading { margin-top: 1; }
    DoctorScreen .check-details { padding-left: 8; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "rerun", "Run again", id="doctor-rerun"),
        Binding("escape", "close", "Close", id="doctor-close"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, run: DoctorRun, target: str) -> None:
        super().__init__(classes="dialog-screen")
        self.run = run
        self.target = target  # the endpoint the checks aim at, shown plainly
        self.report: DoctorReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="doctor-dialog") as dialog:
            dialog.border_title = "Auth doctor"
            dialog.border_subtitle = "r runs again · esc closes"
            yield Static(Content(f"checks for {safe_text(self.target)}"), id="doctor-target")
            yield VerticalScroll(can_focus=True, id="doctor-scroll")
            yield Static(id="doctor-status")

    def on_mount(self) -> None:
        self.query_one("#doctor-scroll").focus()
        self.run_checks()

    async def _show(self, report: DoctorReport | None, status: Content) -> None:
        scroll = self.query_one("#doctor-scroll", VerticalScroll)
        await scroll.remove_children()
        if report is not None:
            rows: list[Static] = []
            for check in report.checks:
                rows.append(Static(check_heading(check), classes="check-heading"))
                rows.append(Static(check_details(check), classes="check-details"))
            await scroll.mount_all(rows)
        self.query_one("#doctor-status", Static).update(status)

    @work(group="doctor", exclusive=True, exit_on_error=False, description="Running the doctor")
    async def run_checks(self) -> None:
        self.report = None
        await self._show(None, Content.styled("running the checks…", "$text-muted"))
        try:
            report = await self.run()
        except Exception as exc:  # the engine reports its own failures; this is the backstop
            await self._show(None, Content.styled(describe_error(exc), "$text-error"))
            return
        self.report = report
        await self._show(report, summary(report))

    def action_rerun(self) -> None:
        self.run_checks()

    def action_close(self) -> None:
        self.dismiss(None)
