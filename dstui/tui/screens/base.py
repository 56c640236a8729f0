"""What every part of the main screen shares: the pool, the panes, status and errors, and
the one request that confirms a session exists.

The screen is assembled from parts (run_actions, file_actions, main) that each subclass this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from textual import work
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from dstui.api.errors import DynamicSessionsError, SessionNotFoundError
from dstui.api.models import Session
from dstui.api.protocol import SessionPoolAPI
from dstui.tui.errors import describe_error
from dstui.tui.message_log import error_entry
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
        self.deleted_at: dict[str, datetime] = {}  # sessions deleted from here, this run
        self._revival_accepted: set[str] = set()
        # The x-ms-session-guid each session last answered with: a different one means the
        # pool put a fresh session behind the identifier.
        self.session_guids: dict[str, str] = {}
        self._cooldown: timedelta | None = None

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
        entry = error_entry(self._stamp(), context, exc)
        notify_logged = getattr(self.app, "notify_logged", None)
        if notify_logged is not None:
            notify_logged(entry, text)  # kept, with hint and ids, in the message log
        else:
            self.app.notify(text, severity="error", markup=False, timeout=8)

    def messages_key(self) -> str:
        """How the message log is opened, as the footer writes it (follows the keymap)."""
        return self.status.messages_key

    def failed_note(self, what: str) -> str:
        """What an empty pane says after its request failed."""
        return f"{what} failed: see messages ({self.messages_key()})"

    def _select(self, identifier: str | None) -> None:
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

    # -- what the pool will do with a request -------------------------------------------

    def revival_warning(self, identifier: str, doing: str) -> str | None:
        """Why `doing` (e.g. "a run") would bring the identifier back to life as a new, empty
        session; None when the session is (as far as we know) alive, or new on purpose."""
        if identifier in self._revival_accepted:
            return None
        consequence = f"{doing} creates a new, empty session with the same identifier."
        deleted = self.deleted_at.get(identifier)
        if deleted is not None:
            return f"{identifier} was deleted at {_clock_time(deleted)}; {consequence}"
        row = self.sessions.session(identifier)
        if row is None or row.local:
            return None
        expires = row.session.expires_at
        if expires is not None and expires <= self.settings.clock():
            return f"{identifier} expired at {_clock_time(expires)}; {consequence}"
        return None

    def confirm_revival(self, identifier: str, doing: str, proceed: Callable[[], object]) -> None:
        """Run `proceed` now, or after the user agreed to re-create an expired session."""
        warning = self.revival_warning(identifier, doing)
        if warning is None:
            proceed()
            return
        from dstui.tui.screens.modals import ConfirmModal

        def answered(ok: bool | None) -> None:
            if ok:
                self._revival_accepted.add(identifier)
                proceed()

        self.app.push_screen(
            ConfirmModal("Session gone", warning, confirm_label="Create it again"), answered
        )

    def pool_cooldown(self) -> timedelta | None:
        """The pool's idle cooldown, learned from the list as expiresAt − lastAccessedAt."""
        if self._cooldown is None:
            for row in self.sessions.rows.values():
                session = row.session
                if row.local or session.expires_at is None or session.last_accessed_at is None:
                    continue
                if session.expires_at > session.last_accessed_at:
                    self._cooldown = session.expires_at - session.last_accessed_at
                    break
        return self._cooldown

    def session_touched(self, identifier: str) -> None:
        """A request naming the session has just been answered: it was last accessed now and
        expires a cooldown from now. Shown as estimated until a listing confirms it."""
        self._revival_accepted.discard(identifier)
        self.deleted_at.pop(identifier, None)
        row = self.sessions.session(identifier)
        cooldown = self.pool_cooldown()
        if row is None or row.local or cooldown is None:
            return
        now = self.settings.clock()
        session = replace(
            row.session,
            last_accessed_at=now,
            expires_at=now + cooldown,
        )
        self.metadata.estimates[identifier] = (now, cooldown)
        self.sessions.update_session(session)
        if self.selected == identifier:
            self.metadata.show_session(session, self.metadata.source)

    def listed(self, sessions: Iterable[Session]) -> None:
        """A list page arrived: its figures are the pool's own, no longer estimates."""
        estimates = self.metadata.estimates
        for session in sessions:
            estimates.pop(session.identifier, None)
            self.deleted_at.pop(session.identifier, None)

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
        gone = self.revival_warning(identifier, "a run or opening Files")
        try:
            session = await self.pool.get_session(identifier)
        except SessionNotFoundError as exc:
            if gone is not None:  # GET /session only reads: it never re-creates a session
                self.report_info(f"{gone} (GET /session creates nothing.)")
                return
            self.report_error(f"{identifier} is not on the pool", exc)
            return
        except DynamicSessionsError as exc:
            self.report_error(f"Fetching {identifier} failed", exc)
            return
        self.metadata.estimates.pop(identifier, None)  # the pool's own figures now
        self.sessions.update_session(session)
        self._update_header()
        if self.selected == identifier:
            self.metadata.show_session(
                session, f"GET /session at {self._stamp()} (this request reset its cooldown)"
            )


def _clock_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%H:%M:%S UTC")
