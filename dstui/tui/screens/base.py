"""The main screen's shared surface: the pool, the panes, status and errors, the selection,
and the one request that confirms a session exists. The flows live in controllers the screen
owns (RunController, FilesController, SessionActions, KeyHelp; SessionFacts for what is known
about sessions).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from textual import work
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from dstui.api.errors import (
    AuthenticationError,
    DynamicSessionsError,
    PermissionDeniedError,
    SessionNotFoundError,
)
from dstui.api.protocol import SessionPoolAPI
from dstui.recording.run_history import RunHistory
from dstui.tui.errors import describe_error
from dstui.tui.message_log import error_entry
from dstui.tui.pool_type import PoolType
from dstui.tui.screens.session_facts import SessionFacts
from dstui.tui.settings import AppSettings
from dstui.tui.widgets.chrome import StatusBar, TopBar
from dstui.tui.widgets.code_pane import CodePane
from dstui.tui.widgets.files_pane import FilesPane
from dstui.tui.widgets.metadata_pane import MetadataPane
from dstui.tui.widgets.session_table import SessionsPane

DOCTOR_KEY = "H"


class PoolScreen(Screen[None]):
    def __init__(self, pool: SessionPoolAPI, settings: AppSettings) -> None:
        super().__init__(id="main")
        self.pool = pool
        self.settings = settings
        self.selected: str | None = None
        self.active_pane = 1  # 1 Sessions, 2 Metadata, 3 Code, 4 Files
        self._busy: dict[Worker[Any], str] = {}
        self._error_context = ""
        self.facts = SessionFacts(self)
        self.history = RunHistory(settings.data_dir / "history")  # every session's past runs
        arm_type = settings.pool_resource.container_type if settings.pool_resource else None
        # A pool picked from ARM has its own type; --container-type is for the pool dstui opened.
        override = None if settings.pool_key else settings.container_type
        self.pool_type = PoolType.initial(override, arm_type)

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
        if isinstance(exc, AuthenticationError | PermissionDeniedError):
            text += f" ({DOCTOR_KEY} runs the auth doctor: which of the usual causes it is.)"
        self._error_context = context
        # Stamped, so a later success elsewhere does not make an old error look current.
        self.status.error = f"{self.stamp()} {text}"
        entry = error_entry(self.stamp(), context, exc)
        notify_logged = getattr(self.app, "notify_logged", None)
        if notify_logged is not None:
            notify_logged(entry, text)  # kept, with hint and ids, in the message log
        else:
            self.app.notify(text, severity="error", markup=False, timeout=8)

    def learn_pool_type(self, exc: BaseException, what: str) -> bool:
        """A refusal that tells the pool's type (custom container, Shell): adapt the panes."""
        if not self.pool_type.learn(exc, what):
            return False
        self.pool_type_changed()
        return True

    def pool_type_changed(self) -> None:
        """The main screen adapts its panes (its PoolTypeController)."""

    def key_description(self, binding: Binding) -> str:
        """A key's word in the footer and the help, as this pool has it (ctrl+d says Stop in a
        custom container)."""
        action = binding.action.split("(")[0].rpartition(".")[2]
        return self.pool_type.key_description(action, binding.description)

    def messages_key(self) -> str:
        """How the message log is opened, as the footer writes it (follows the keymap)."""
        return self.status.messages_key

    def failed_note(self, what: str) -> str:
        """What an empty pane says after its request failed."""
        return f"{what} failed: see messages ({self.messages_key()})"

    def select(self, identifier: str | None) -> None:
        """Make `identifier` the run and files target; MainScreen also redraws its panes."""
        self.selected = identifier

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

    def stamp(self) -> str:
        return self.settings.clock().astimezone(UTC).strftime("%H:%M:%S")

    def group_running(self, group: str) -> bool:
        return any(w.group == group and w.is_running for w in self.workers)

    def update_header(self) -> None:
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
        gone = self.facts.revival_warning(identifier, "a run or opening Files")
        try:
            # Custom containers have no data-plane GET /session: the pool's .management one.
            session = await self.pool.get_session(identifier, management=self.pool_type.is_custom)
        except SessionNotFoundError as exc:
            if gone is not None:  # GET /session only reads: it never re-creates a session
                self.report_info(f"{gone} (GET /session creates nothing.)")
                return
            if self.pool_type.is_custom:  # not an error: the app starts on the first request
                self.report_info(f"{identifier} has no session yet: R starts one with a request.")
                return
            self.report_error(f"{identifier} is not on the pool", exc)
            return
        except DynamicSessionsError as exc:
            self.report_error(f"Fetching {identifier} failed", exc)
            return
        self.metadata.estimates.pop(identifier, None)  # the pool's own figures now
        self.sessions.update_session(session)
        self.update_header()
        if self.selected == identifier:
            self.metadata.show_session(
                session, f"GET /session at {self.stamp()} (this request reset its cooldown)"
            )
