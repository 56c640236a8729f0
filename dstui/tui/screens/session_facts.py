"""What this run of dstui knows about sessions beyond the list: which it deleted, which
answered from a fresh session, the pool's cooldown, and when a request would bring a gone
session back to life."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from textual.app import App

from dstui.api.models import Session
from dstui.tui.settings import AppSettings
from dstui.tui.widgets.metadata_pane import MetadataPane
from dstui.tui.widgets.session_table import SessionsPane


class _Screen(Protocol):
    """What the facts read of the main screen."""

    settings: AppSettings
    selected: str | None

    @property
    def app(self) -> App[Any]: ...

    @property
    def sessions(self) -> SessionsPane: ...

    @property
    def metadata(self) -> MetadataPane: ...


class SessionFacts:
    def __init__(self, screen: _Screen) -> None:
        self.screen = screen
        self.deleted_at: dict[str, datetime] = {}  # sessions deleted from here, this run
        self._revival_accepted: set[str] = set()
        # The x-ms-session-guid each session last answered with: a different one means the
        # pool put a fresh session behind the identifier.
        self.session_guids: dict[str, str] = {}
        self._cooldown: timedelta | None = None

    def revival_warning(self, identifier: str, doing: str) -> str | None:
        """Why `doing` (e.g. "a run") would bring the identifier back to life as a new, empty
        session; None when the session is (as far as we know) alive, or new on purpose."""
        if identifier in self._revival_accepted:
            return None
        consequence = f"{doing} creates a new, empty session with the same identifier."
        deleted = self.deleted_at.get(identifier)
        if deleted is not None:
            return f"{identifier} was deleted at {_clock_time(deleted)}; {consequence}"
        row = self.screen.sessions.session(identifier)
        if row is None or row.local:
            return None
        expires = row.session.expires_at
        if expires is not None and expires <= self.screen.settings.clock():
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

        self.screen.app.push_screen(
            ConfirmModal("Session gone", warning, confirm_label="Create it again"), answered
        )

    def pool_cooldown(self) -> timedelta | None:
        """The pool's idle cooldown, learned from the list as expiresAt − lastAccessedAt."""
        if self._cooldown is None:
            for row in self.screen.sessions.rows.values():
                session = row.session
                if row.local or session.expires_at is None or session.last_accessed_at is None:
                    continue
                if session.expires_at > session.last_accessed_at:
                    self._cooldown = session.expires_at - session.last_accessed_at
                    break
        return self._cooldown

    def touched(self, identifier: str) -> None:
        """A request naming the session has just been answered: it was last accessed now and
        expires a cooldown from now. Shown as estimated until a listing confirms it."""
        self._revival_accepted.discard(identifier)
        self.deleted_at.pop(identifier, None)
        screen = self.screen
        row = screen.sessions.session(identifier)
        cooldown = self.pool_cooldown()
        if row is None or row.local or cooldown is None:
            return
        now = screen.settings.clock()
        session = replace(row.session, last_accessed_at=now, expires_at=now + cooldown)
        screen.metadata.estimates[identifier] = (now, cooldown)
        screen.sessions.update_session(session)
        if screen.selected == identifier:
            screen.metadata.show_session(session, screen.metadata.source)

    def listed(self, sessions: Iterable[Session]) -> None:
        """A list page arrived: its figures are the pool's own, no longer estimates."""
        estimates = self.screen.metadata.estimates
        for session in sessions:
            estimates.pop(session.identifier, None)
            self.deleted_at.pop(session.identifier, None)


def _clock_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%H:%M:%S UTC")
