"""What every part of the main screen shares: the pool, the panes, status and errors, and
the one request that confirms a session exists.

The screen is assembled from parts (run_actions, file_actions, main) that each subclass this.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from textual import work
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from dstui.api.errors import DynamicSessionsError, SessionNotFoundError
from dstui.api.protocol import SessionPoolAPI
from dstui.tui.errors import describe_error
from dstui.tui.settings import AppSettings
from dstui.tui.widgets.chrome import StatusBar, TopBar
from dstui.tui.widgets.code_pane import CodePane
from dstui.tui.widgets.files_pane import FilesPane
from dstui.tui.widgets.metadata_pane import MetadataPane
from dstui.tui.widgets.session_table import SessionsPane


class PoolScreen(Screen[None]):
    def __init__(self, pool: SessionPoolAPI, settings: AppSettings) -> None:
        super().__init__(id="main")
        self.pool = pool
        self.settings = settings
        self.selected: str | None = None
        self._busy: dict[Worker[Any], str] = {}
        self._error_context = ""

    @property
    def sessions(self) -> SessionsPane:
        return self.query_one(SessionsPane)

    @property
    def metadata(self) -> MetadataPane:
        return self.query_one(MetadataPane)

    @property
    def code(self) -> CodePane:
        return self.query_one(CodePane)

    @property
    def files(self) -> FilesPane:
        return self.query_one(FilesPane)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    # -- status and errors ------------------------------------------------------------------

    def report_error(self, context: str, exc: BaseException) -> None:
        text = f"{context}: {describe_error(exc)}"
        self._error_context = context
        # Stamped, so a later success elsewhere does not make an old error look current.
        self.status.error = f"{self._stamp()} {text}"
        self.app.notify(text, severity="error", markup=False, timeout=8)

    def selected_or_hint(self) -> str | None:
        """The selected identifier; with none, a hint on how to get one."""
        if self.selected is None:
            self.app.notify(
                "Select a session first (or press n for a new one).", severity="warning"
            )
        return self.selected

    def clear_error(self, *contexts: str) -> None:
        """The same kind of request has just succeeded: its last error no longer holds."""
        if self._error_context in contexts:
            self._error_context = ""
            self.status.error = ""

    def report_info(self, text: str) -> None:
        self.app.notify(text, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.RUNNING:
            self._busy[worker] = worker.description or worker.name
        else:
            self._busy.pop(worker, None)
        self.status.busy = next(reversed(self._busy.values()), "") if self._busy else ""
        if event.state is WorkerState.ERROR and worker.error is not None:
            # Backstop: workers handle expected errors themselves; anything else lands here.
            self.report_error(worker.description or "background task", worker.error)

    def _stamp(self) -> str:
        return self.settings.clock().astimezone(UTC).strftime("%H:%M:%S")

    def _group_running(self, group: str) -> bool:
        return any(w.group == group and w.is_running for w in self.workers)

    def _update_header(self) -> None:
        """The loaded count in the header, painted in the frame after the table's. Painted
        together, the dirty area would span the header to the table and re-render every pane
        in between (Textual crops a partial update to the union of its regions): ~15 ms more
        per page while scrolling through thousands of sessions."""
        self.call_after_refresh(self._paint_header)

    def _paint_header(self) -> None:
        self.query_one(TopBar).loaded = self.sessions.summary_for_header()

    # -- sessions the user named ----------------------------------------------------------

    def confirm_created(self, identifier: str) -> None:
        """A request to a session the list has not shown yet has just succeeded, so the pool
        has it now: fetch its real metadata (it was touched a moment ago anyway)."""
        row = self.sessions.session(identifier)
        if row is not None and row.local:
            self.fetch_session(identifier)

    @work(
        group="session-details", exclusive=True, exit_on_error=False, description="Fetching session"
    )
    async def fetch_session(self, identifier: str) -> None:
        try:
            session = await self.pool.get_session(identifier)
        except SessionNotFoundError as exc:
            self.report_error(f"{identifier} is not on the pool", exc)
            return
        except DynamicSessionsError as exc:
            self.report_error(f"Fetching {identifier} failed", exc)
            return
        self.sessions.update_session(session)
        self._update_header()
        if self.selected == identifier:
            self.metadata.show_session(
                session, f"GET /session at {self._stamp()} (reset its cooldown)"
            )
