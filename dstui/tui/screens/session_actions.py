"""The session list's lifecycle keys, owned by the main screen: n makes a new identifier, o
opens any identifier, ctrl+d deletes the selected or marked sessions (stops them in a
custom-container pool)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from dstui.api.errors import DynamicSessionsError, NotFoundError
from dstui.api.validation import new_identifier
from dstui.tui.formatting import counted, name_some
from dstui.tui.screens.controller import ScreenController
from dstui.tui.screens.modals import ConfirmModal, IdentifierModal, confirm_then

if TYPE_CHECKING:
    from dstui.tui.screens.base import PoolScreen


async def each_session(
    screen: PoolScreen,
    identifiers: list[str],
    call: Callable[[str], Awaitable[object]],
    doing: str,
) -> list[str]:
    """`call` for each session in turn; returns those it did (or that were gone already: the
    outcome the user asked for). A failure is reported, `Deleting ID failed`, and skipped."""
    done: list[str] = []
    for identifier in identifiers:
        try:
            await call(identifier)
        except NotFoundError:
            pass
        except DynamicSessionsError as exc:
            screen.report_error(f"{doing} {identifier} failed", exc)
            continue
        done.append(identifier)
    return done


class SessionActions(ScreenController):
    def __init__(self, screen: PoolScreen, *, stop_instead: Callable[[list[str]], None]) -> None:
        super().__init__(screen)
        self.stop_instead = stop_instead  # ctrl+d in a custom-container pool: stopSession

    def new_session(self) -> None:
        screen = self.screen

        def created(identifier: str | None) -> None:
            if identifier is None:
                return
            screen.sessions.add_local(identifier)
            screen.select(identifier)
            screen.report_info(
                f"{identifier} will be created by its first request (run code or open Files)."
            )

        screen.app.push_screen(
            IdentifierModal(
                "New session",
                value=new_identifier(),
                help_text=(
                    "A session is created by the first request that names it. Edit the "
                    "identifier if you like; enter accepts."
                ),
            ),
            created,
        )

    def open_session(self) -> None:
        screen = self.screen

        def opened(identifier: str | None) -> None:
            if identifier is None:
                return
            if not screen.sessions.move_to(identifier):
                screen.sessions.add_local(identifier)
            screen.select(identifier)
            screen.fetch_session(identifier)

        screen.app.push_screen(
            IdentifierModal(
                "Open session",
                help_text="Any identifier; dstui asks the pool about it (GET /session ↻).",
            ),
            opened,
        )

    def delete_sessions(self) -> None:
        screen = self.screen
        pane = screen.sessions
        # In list order, so the named ones are the ones the user sees first.
        marked = [i for i in (*pane.local_order, *pane.loaded_order) if i in pane.marks]
        targets = marked or ([screen.selected] if screen.selected else [])
        if not targets:
            return
        if screen.pool_type.is_custom:
            self.stop_instead(targets)  # no delete there
            return
        if marked:
            hidden = sum(1 for i in marked if not pane.matches_filter(i))
            extra = f" ({hidden} hidden by the filter)" if hidden else ""
            question = (
                f"Delete {counted(len(marked), 'marked session')}{extra}: "
                f"{name_some(marked)}? Their files are lost."
            )
            modal = ConfirmModal.typed_count(
                "Delete marked sessions", question, len(marked), "marked sessions"
            )
        else:
            modal = ConfirmModal(
                "Delete session",
                f"Delete {targets[0]}? Its files are lost; the identifier can be reused.",
            )
        confirm_then(self.screen.app, modal, lambda: self._launch_delete(targets))

    def _launch_delete(self, identifiers: list[str]) -> None:
        self.start(
            self._delete(identifiers), group="delete-sessions", description="Deleting sessions"
        )

    async def _delete(self, identifiers: list[str]) -> None:
        screen = self.screen
        deleted = await each_session(screen, identifiers, screen.pool.delete_session, "Deleting")
        for identifier in deleted:
            screen.facts.deleted_at[identifier] = screen.settings.clock()
        if deleted:
            screen.sessions.remove_sessions(deleted)
            screen.update_header()
            word = "session" if len(deleted) == 1 else "sessions"
            screen.report_info(f"Deleted {len(deleted)} {word}")
            screen.selected = None
            screen.select(screen.sessions.highlighted_identifier())
