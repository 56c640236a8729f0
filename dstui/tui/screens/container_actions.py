"""The main screen adapting to its pool's type (dstui/tui/pool_type.py), and the keys that only
some pools have: a Shell pool's command line, a custom container's stop and request pane,
and the auth doctor (every pool).

Shell pools: the Code pane is a command line run as `shellCommand`; the result shows the exit
code. Custom containers: no session list, no files, no runs; `o` opens an identifier through
`.management/getSession`, ctrl+d stops it (`stopSession`), R requests a path of its app.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from dstui.tui.formatting import counted, name_some
from dstui.tui.pool_type import CUSTOM_CONTAINER, SHELL
from dstui.tui.screens.controller import ScreenController
from dstui.tui.screens.modals import ConfirmModal, confirm_then
from dstui.tui.screens.pool_actions import show_no_session_list
from dstui.tui.screens.session_actions import each_session
from dstui.tui.widgets.chrome import TopBar

if TYPE_CHECKING:
    pass

CUSTOM_NOTE = (
    "CustomContainer pool: no code runs here (no execution API). "
    "R sends a request to the selected session's own app; o opens an identifier; "
    "ctrl+d stops it."
)
NO_DOCTOR = "The auth doctor needs a real connection (not available with --demo)."


class PoolTypeController(ScreenController):
    """What changes with the pool's type, and the keys only some pools have; the screen owns it
    and hands it `pool_type_changed` and those keys' actions."""

    def adapt(self) -> None:
        """Show the type in the header and adapt the panes to it (also once at start)."""
        screen, kind = self.screen, self.screen.pool_type
        screen.query_one(TopBar).pool_type = (
            kind.kind if kind.kind in (SHELL, CUSTOM_CONTAINER) else ""
        )
        screen.code.set_shell_mode(kind.is_shell, custom=kind.is_custom)
        if kind.is_custom:
            show_no_session_list(screen.sessions)
            screen.code.show_output(Content.styled(CUSTOM_NOTE, "$text-muted"))
        screen.refresh_bindings()
        if kind.source.startswith("learned"):
            screen.report_info(f"This is a {kind.kind} pool ({kind.source}): the panes follow it.")

    def toggle_argv(self) -> None:
        refused = self.screen.pool_type.argv_refusal()
        if refused is not None:
            self.screen.app.notify(refused, severity="warning", markup=False)
            return
        self.screen.code.toggle_argv()

    def show_pool_type(self) -> None:
        """The pool view (m): the container type and where dstui learned it (ARM's own
        properties name it already; an unknown type says nothing)."""
        kind = self.screen.pool_type
        if not kind.kind or kind.source == "ARM":
            return
        scroll = self.screen.query_one("#metadata-scroll", VerticalScroll)
        shown = scroll.query_one_optional("#pool-type", Static)
        if shown is None:
            shown = Static(id="pool-type")
            scroll.mount(shown, before="#pool-summary")
        shown.update(Content.assemble(("container type ", "$text-muted"), kind.described()))

    # -- custom containers ---------------------------------------------------------------

    def container_request(self) -> None:
        from dstui.tui.screens.container_request import ContainerRequestScreen

        screen = self.screen
        refused = screen.pool_type.request_refusal()
        if refused is not None:
            screen.app.notify(refused, severity="warning", markup=False)
            return
        identifier = screen.selected_or_hint()
        if identifier is not None:
            screen.app.push_screen(
                ContainerRequestScreen(screen.pool, identifier, screen.confirm_created)
            )

    def confirm_stop(self, targets: list[str]) -> None:
        """ctrl+d in a custom-container pool: stopSession, confirmed by typing the count."""
        named = name_some(targets)
        modal = ConfirmModal.typed_count(
            "Stop sessions" if len(targets) > 1 else "Stop session",
            f"Stop {counted(len(targets), 'session')}: {named}? Its app and everything it "
            "started end; the next request to the identifier starts a new one.",
            len(targets),
            "sessions to stop",
            confirm_label="Stop",
        )
        stop = partial(self._stop_sessions, targets)
        confirm_then(
            self.screen.app,
            modal,
            lambda: self.start(stop(), group="stop-sessions", description="Stopping sessions"),
        )

    async def _stop_sessions(self, identifiers: list[str]) -> None:
        screen = self.screen
        stopped = await each_session(screen, identifiers, screen.pool.stop_session, "Stopping")
        if stopped:
            screen.sessions.remove_sessions(stopped)
            screen.report_info(f"Stopped {counted(len(stopped), 'session')}")
            screen.selected = None
            screen.select(screen.sessions.highlighted_identifier())

    # -- the auth doctor ----------------------------------------------------------------

    def doctor(self) -> None:
        from dstui.tui.screens.doctor import DoctorScreen

        source = self.screen.settings.doctor
        if source is None:
            self.screen.app.notify(NO_DOCTOR, severity="warning", markup=False)
            return
        endpoint = self.screen.pool.endpoint
        self.screen.app.push_screen(DoctorScreen(partial(source.run, endpoint), endpoint))
