"""The main screen's pool keys, as a controller the screen owns: P (the pool picker), A (sessions
across every pool), the pool's ARM properties that `m` shows next to /metadata, and the session
to select once a pool opened from the across-pools view has listed its first page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.widgets import Static

from dstui.api.models import Session
from dstui.tui.pool_directory import NO_ARM, NO_ARM_PICKER, PoolDirectory
from dstui.tui.pool_properties import render_properties, render_unavailable
from dstui.tui.screens.controller import ScreenController
from dstui.tui.widgets.session_table import SessionsPane

if TYPE_CHECKING:
    from dstui.tui.screens.base import PoolScreen

# The empty table wraps the whole note; the one-line summary below it says the short one.
NO_SESSION_LIST = (
    "CustomContainer pool: it has no data-plane session list or files (this is not an empty "
    "pool); o opens an identifier"
)
NO_SESSION_LIST_SHORT = "CustomContainer: no session list (not empty)"
NO_PROPERTIES_HERE = "pool properties: open this pool from the pool picker (P) to see them"


def show_no_session_list(pane: SessionsPane) -> None:
    pane.show_failure(NO_SESSION_LIST, summary=NO_SESSION_LIST_SHORT)


class PoolController(ScreenController):
    """The pool keys' flows; the session to select on opening belongs to the instance."""

    def __init__(self, screen: PoolScreen) -> None:
        super().__init__(screen)
        self._select_when_listed: Session | None = None

    def directory(self) -> PoolDirectory | None:
        directory = getattr(self.screen.app, "pools", None)
        return directory if isinstance(directory, PoolDirectory) else None

    def lists_sessions(self) -> bool:
        """False for a custom-container pool (from ARM, --container-type or its answers)."""
        return not self.screen.pool_type.is_custom

    def open_picker(self) -> None:
        from dstui.tui.screens.pool_picker import PoolPickerScreen

        directory = self.directory()
        if directory is None:
            self.screen.app.notify(NO_ARM_PICKER, severity="warning", markup=False)
            return
        current = self.screen.settings.pool_key or None
        self.screen.app.push_screen(PoolPickerScreen(directory, current=current))

    def open_across(self) -> None:
        from dstui.tui.screens.across_pools import AcrossPoolsScreen

        directory = self.directory()
        if directory is None:
            self.screen.app.notify(NO_ARM_PICKER, severity="warning", markup=False)
            return
        self.screen.app.push_screen(AcrossPoolsScreen(directory, None, self.screen.settings))

    def show_properties(self) -> None:
        """Below the /metadata summary: what ARM says about the pool (no request sent)."""
        scroll = self.screen.query_one("#metadata-scroll", VerticalScroll)
        shown = scroll.query_one_optional("#pool-properties", Static)
        if shown is None:
            shown = Static(id="pool-properties")
            scroll.mount(shown, after="#pool-summary")
        resource = self.screen.settings.pool_resource
        if resource is None:
            note = NO_PROPERTIES_HERE if self.directory() is not None else NO_ARM
            shown.update(render_unavailable(note))
            return
        sessions = self.screen.sessions
        shown.update(
            render_properties(resource, len(sessions.loaded_order), sessions.more_available)
        )

    def deleting(self) -> list[str]:
        """A bulk delete (or stop) in flight, in words: switching pools would cut it short."""
        running = self.screen.group_running
        if running("delete-sessions") or running("stop-sessions"):
            return ["a delete of sessions"]
        return []

    # -- opened from the across-pools view on one of its sessions --------------------------

    def select_when_listed(self, session: Session) -> None:
        """`enter` on an across-pools row: once the first page is in, that row is the cursor's
        (as the across listing saw it, if the first page does not have it). Sends nothing."""
        self._select_when_listed = session

    def first_page_listed(self) -> None:
        session, self._select_when_listed = self._select_when_listed, None
        if session is None:
            return
        pane = self.screen.sessions
        if pane.session(session.identifier) is None:
            pane.add_local(session.identifier)  # then made a listed row: the pool has it
            pane.update_session(session)
        if pane.move_to(session.identifier):
            self.screen.select(session.identifier)
