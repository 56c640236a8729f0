"""The main screen: four panes, the workers that talk to the pool, and the actions behind keys.

Rules kept here (operators' safety):
- Highlighting a session uses the list page's data only; nothing is sent that names it.
- Requests that name a session (run, files, GET /session, delete) happen only on an explicit
  action; their keys are marked ↻ in the footer, the help and the palette.
- Every worker is `exit_on_error=False`; failures become a notification and a status line.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.events import DescendantFocus, Key, Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, TextArea

from dstui.api.errors import DynamicSessionsError, EndlessPagingError, NotFoundError
from dstui.api.models import PoolMetadata, SessionPage
from dstui.api.paging import PageGuard
from dstui.api.protocol import SessionPoolAPI
from dstui.api.validation import new_identifier
from dstui.tui.formatting import counted
from dstui.tui.keymap_check import EVERYWHERE
from dstui.tui.screens.file_actions import FileActions
from dstui.tui.screens.modals import (
    ConfirmModal,
    IdentifierModal,
    MessagesModal,
    TextModal,
    help_content,
)
from dstui.tui.screens.run_actions import RunActions
from dstui.tui.settings import AppSettings
from dstui.tui.widgets.chrome import PaneBar, StatusBar, TopBar
from dstui.tui.widgets.code_pane import EDITOR_KEYS, CodePane
from dstui.tui.widgets.files_pane import FilesPane, FilesTable
from dstui.tui.widgets.footer import KeysFooter
from dstui.tui.widgets.metadata_pane import MetadataPane
from dstui.tui.widgets.session_table import SessionsPane, SessionTable


def binding_scopes() -> dict[str, list[BindingType]]:
    """Every remappable binding by where it is reachable (EVERYWHERE: any pane)."""
    return {
        EVERYWHERE: list(MainScreen.BINDINGS),
        "Sessions": list(SessionTable.BINDINGS),
        "Metadata": list(MetadataPane.BINDINGS),
        "Files": list(FilesTable.BINDINGS),
    }


NAMED_IN_CONFIRM = 5  # a bulk delete names this many sessions, then "and N more"


def name_some(identifiers: list[str], shown: int = NAMED_IN_CONFIRM) -> str:
    """`a, b, c, d, e and 3 more`: what a bulk action applies to, named."""
    named = ", ".join(identifiers[:shown])
    rest = len(identifiers) - shown
    return f"{named} and {rest} more" if rest > 0 else named


# Actions that send a request naming a session (each resets that session's cooldown).
TOUCHING_ACTIONS = frozenset(
    {
        "run_code",
        "fetch_session",
        "open_session",
        "refresh_files",
        "open_entry",
        "parent_directory",
        "upload_file",
        "download_file",
        "download_file_as",
        "delete_file",
        "preview_file",
        "open_files",
        "delete_sessions",
        "interrupt_kernel",
        "fetch_stopped_run",
    }
)
# Actions that change something; `--read-only` removes them from keys, footer and palette.
MUTATING_ACTIONS = frozenset(
    {
        "run_code",
        "cancel_run",
        "toggle_async",
        "recall_history",
        "new_session",
        "upload_file",
        "delete_file",
        "delete_sessions",
        "interrupt_kernel",
    }
)
# What a key of a --read-only session says instead of silently doing nothing.
READ_ONLY_REASONS = {
    "run_code": "runs disabled",
    "cancel_run": "runs disabled",
    "toggle_async": "runs disabled",
    "recall_history": "runs disabled",
    "interrupt_kernel": "runs disabled",
    "new_session": "new sessions disabled",
    "upload_file": "upload disabled",
    "delete_file": "file delete disabled",
    "delete_sessions": "session delete disabled",
}
INTERRUPT_EMBEDDED_ONLY = (
    "interrupt: only with the embedded emulator (dstui with no endpoint); "
    "the service has no interrupt call"
)
NARROW_WIDTH = 100
NARROW_HEIGHT = 30
# Status-bar error contexts that a successful listing clears.
LISTING_FAILED = "Listing sessions failed"
MORE_FAILED = "Loading more sessions failed"
_ENDLESS_PAGES_HINT = (
    "A faulty server or a proxy rewriting nextLink may be in the way; loading more stopped. "
    "Press r to list again."
)


def session_page_guard() -> PageGuard:
    """Bounds the infinite scroll as the client bounds a full listing (scrolling takes the
    user's time, so pages and entries are counted, not seconds)."""
    return PageGuard("list sessions", timed=False, hint=_ENDLESS_PAGES_HINT)


class MainScreen(RunActions, FileActions):
    # Zoomed, the status bar and the keys stay: work in flight, errors, and how to leave.
    ALLOW_IN_MAXIMIZED_VIEW = "#status-bar, #footer"
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: these work in the editor too, whose own f6 would select a line.
        Binding("ctrl+r", "run_code", "Run↻", id="run-code", priority=True),
        Binding("f5", "run_code", "Run↻", show=False, id="run-code-alt", priority=True),
        Binding("f4", "cancel_run", "Stop waiting", show=False, id="cancel-run", priority=True),
        Binding("f6", "toggle_async", "Async mode", show=False, id="toggle-async", priority=True),
        Binding("f3", "recall_history", "Run history", show=False, id="run-history", priority=True),
        Binding(
            "f12",
            "interrupt_kernel",
            "Interrupt↻",
            show=False,
            id="interrupt-kernel",
            priority=True,
        ),
        Binding(
            "f2",
            "fetch_stopped_run",
            "Fetch stopped run↻",
            show=False,
            id="fetch-stopped-run",
            priority=True,
        ),
        Binding("n", "new_session", "New", id="new-session"),
        Binding("o", "open_session", "Open↻", id="open-session"),
        Binding("z", "toggle_maximize", "Zoom", id="maximize-pane"),
        Binding("e", "messages", "Messages", id="messages"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "app.quit", "Quit", id="quit"),
        Binding("1", "focus_pane(1)", "Sessions", show=False, id="focus-sessions"),
        Binding("2", "focus_pane(2)", "Metadata", show=False, id="focus-metadata"),
        Binding("3", "focus_pane(3)", "Code", show=False, id="focus-code"),
        Binding("4", "focus_pane(4)", "Files", show=False, id="focus-files"),
        Binding("tab", "next_pane(1)", "Next", show=False, id="focus-next"),
        Binding("shift+tab", "next_pane(-1)", "Previous", show=False, id="focus-previous"),
        Binding("colon", "app.command_palette", "Commands", show=False, id="command-palette"),
    ]

    def __init__(self, pool: SessionPoolAPI, settings: AppSettings) -> None:
        super().__init__(pool, settings)
        self.next_link: str | None = None
        self._pages = session_page_guard()
        self.active_pane = 1
        self._identity_asked = False

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TopBar(
            self.settings.pool_label,
            self.pool.api_version,
            self.settings.identity,
            emulator=self.settings.emulator,
        )
        yield PaneBar(id="pane-bar")
        with Grid(id="panes"):
            # Grid order: sessions | code on top, metadata | files below (numbers stay 1–4).
            yield SessionsPane(self.settings.clock)
            yield CodePane()
            yield MetadataPane(self.settings.clock)
            yield FilesPane()
        yield StatusBar(animate=not self.settings.test_mode)
        yield KeysFooter()

    def panes(self) -> tuple[Widget, Widget, Widget, Widget]:
        return (self.sessions, self.metadata, self.code, self.files)

    def on_mount(self) -> None:
        self.code.set_target(None, self.settings.read_only)
        if self.settings.read_only:
            self.code.set_read_only()
            self.sessions.empty_hint = ""
        self._set_active_pane(1)
        self.status.messages_key = self._key_for("messages") or "e"
        self.sessions.table.focus()
        self.load_sessions()

    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH or event.size.height < NARROW_HEIGHT
        self.set_class(narrow, "-narrow")

    def _set_active_pane(self, number: int) -> None:
        self.active_pane = number
        for index, pane in enumerate(self.panes(), start=1):
            pane.set_class(index == number, "-active")
        self.query_one(PaneBar).active = number

    def _pane_number(self, widget: Widget) -> int | None:
        for index, pane in enumerate(self.panes(), start=1):
            if widget is pane or pane in widget.ancestors:
                return index
        return None

    @on(DescendantFocus)
    def _focus_moved(self, event: DescendantFocus) -> None:
        if event.widget is not self.focused:
            return  # overtaken by a later focus change (`esc 1` in one burst)
        number = self._pane_number(event.widget)
        if number is None:
            return
        if number != self.active_pane:
            self._set_active_pane(number)
        if number == 4:
            self._files_opened()

    def _files_opened(self) -> None:
        """Opening the Files pane lists the selected session's files (an explicit request)."""
        if self.selected is not None and self.files.identifier != self.selected:
            self.list_files(self.selected, "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interrupt_kernel" and not self.settings.emulator:
            return False  # an emulator-only extension: the service has no such call
        return not (self.settings.read_only and action in MUTATING_ACTIONS)

    # -- the 1 s tick (driven by the app's single timer) --------------------------------------

    def tick(self) -> None:
        self.sessions.refresh_countdowns()
        self.metadata.refresh_details()

    def periodic_refresh(self) -> None:
        """Paused while a modal is open, a filter is typed or a refresh is already running."""
        if self.app.screen is not self or self.sessions.filter_text:
            return
        if isinstance(self.focused, Input) or self._group_running("sessions-refresh"):
            return
        self.load_sessions(refresh=True)

    # -- sessions ---------------------------------------------------------------------------

    @work(
        group="sessions-refresh",
        exclusive=True,
        exit_on_error=False,
        description="Loading sessions",
    )
    async def load_sessions(self, refresh: bool = False) -> None:
        pane = self.sessions
        wanted = max(len(pane.loaded_order), 1) if refresh else 1
        self.workers.cancel_group(self, "sessions-page")
        pane.loading = False
        pages = session_page_guard()
        try:
            page = await self.pool.list_sessions_page()
            pages.received(len(page.sessions), page.next_link)
            sessions = list(page.sessions)
            next_link = page.next_link
            while refresh and next_link is not None and len(sessions) < wanted:
                page = await self.pool.list_sessions_page(next_link)
                pages.received(len(page.sessions), page.next_link)
                sessions.extend(page.sessions)
                next_link = page.next_link
        except DynamicSessionsError as exc:
            self.report_error(LISTING_FAILED, exc)
            pane.show_failure(self.failed_note("listing"))
            self.call_after_refresh(self.code.enable_highlighting)
            return
        pane.show_failure("")
        self.next_link = next_link
        self._pages = pages
        self.listed(sessions)  # the pool's own figures replace estimated expiries
        if refresh:
            pane.replace_all(sessions, next_link is not None)
            self._show_metadata(self.selected)  # the same session, as the new list has it
        else:
            pane.reset()
            pane.append_page(sessions, next_link is not None)
        # The list is painted first; the editor's syntax highlighting (~45 ms) right after.
        self.call_after_refresh(self.code.enable_highlighting)
        self.status.refreshed = self._stamp()
        self.clear_error(LISTING_FAILED, MORE_FAILED)
        self._update_header()
        if not self._identity_asked:
            self._identity_asked = True
            self.show_identity()
        if not refresh and pane.table.row_count:
            self._select(pane.highlighted_identifier())

    @work(group="identity", exit_on_error=False, description="Reading the signed-in identity")
    async def show_identity(self) -> None:
        """After the first listing the token is at hand: name whom it was issued to."""
        try:
            who = await self.pool.signed_in_identity()
        except DynamicSessionsError:
            return  # the header keeps the auth kind; a failing token shows on every request
        if who:
            kind = self.settings.identity
            self.query_one(TopBar).identity = f"{who} · {kind}" if kind else who

    @on(SessionTable.NearEnd)
    def _near_end(self, event: SessionTable.NearEnd) -> None:
        event.stop()
        self.action_load_more()

    def action_load_more(self) -> None:
        if self.next_link is None or self._group_running("sessions-page"):
            return
        if self._group_running("sessions-refresh"):
            return
        self.load_next_page(self.next_link)

    @work(group="sessions-page", exit_on_error=False, description="Loading more sessions")
    async def load_next_page(self, next_link: str) -> None:
        pane = self.sessions
        pane.loading = True
        pane.update_summary()
        try:
            page = await self.pool.list_sessions_page(next_link)
        except DynamicSessionsError as exc:
            self.report_error(MORE_FAILED, exc)
            return
        finally:
            pane.loading = False
        self.next_link = None if self._paging_must_stop(page) else page.next_link
        pane.append_page(page.sessions, self.next_link is not None)
        self._update_header()

    def _paging_must_stop(self, page: SessionPage) -> bool:
        """True, and reported, once the server keeps sending new pages past every bound."""
        try:
            self._pages.received(len(page.sessions), page.next_link)
        except EndlessPagingError as exc:
            self.report_error(MORE_FAILED, exc)
            return True
        return False

    @on(SessionsPane.Highlighted)
    def _highlighted(self, event: SessionsPane.Highlighted) -> None:
        self._select(event.identifier)

    def _select(self, identifier: str | None) -> None:
        """Show what the list already told us; sends nothing."""
        if identifier == self.selected:
            return
        self.selected = identifier
        self._show_metadata(identifier)
        self.session_selected(identifier)
        if self.files.identifier != identifier:
            self.files.show_placeholder(identifier)
            self.files.identifier = None
            if self.active_pane == 4 and identifier is not None and self._pane_visible(4):
                self.list_files(identifier, "")

    def _show_metadata(self, identifier: str | None) -> None:
        """What the list (or the user's naming it) told us about the session; sends nothing."""
        row = self.sessions.session(identifier) if identifier else None
        if row is None:
            self.metadata.show_session(None, "")
        elif row.local:
            creates = "" if self.settings.read_only else " (run code or open Files)"
            self.metadata.show_session(
                row.session, f"not on the pool yet — created by its first request{creates}"
            )
        else:
            self.metadata.show_session(
                row.session, "from the session list (no request sent to the session)"
            )

    def _pane_visible(self, number: int) -> bool:
        focused = self.focused
        return focused is not None and self._pane_number(focused) == number

    def action_open_files(self) -> None:
        """enter on a session row drills into its files (pane 4 lists them ↻)."""
        if self.selected_or_hint() is not None:
            self.action_focus_pane(4)

    def action_refresh_sessions(self) -> None:
        self.load_sessions(refresh=True)

    def action_filter_sessions(self) -> None:
        self.sessions.open_filter()

    def action_clear_filter(self) -> None:
        if self.maximized is not None:
            self.action_toggle_maximize()
            return
        self.sessions.clear_filter()

    # -- inputs: esc always leaves them --------------------------------------------------------

    def leave_input(self) -> bool:
        """esc in an input (filter, timeout, editor, package search) moves the focus to its
        pane, synchronously, so a key right behind it (`esc 1`) is never typed into it."""
        focused = self.focused
        if not isinstance(focused, Input | TextArea):
            return False
        number = self._pane_number(focused)
        if number == 1:
            self.sessions.clear_filter()
            return True
        home = self._pane_home(number)
        if home is None:
            return False
        self.set_focus(home)
        return True

    def _pane_home(self, number: int | None) -> Widget | None:
        """The pane's widget that takes no typing: where esc and `1`–`4` land."""
        if number == 1:
            return self.sessions.table
        if number == 2:
            return self.query_one("#metadata-scroll")
        if number == 3:
            return self.query_one("#output-scroll")
        if number == 4:
            return self.files.table
        return None

    def action_toggle_mark(self) -> None:
        identifier = self.sessions.highlighted_identifier()
        if identifier is not None:
            self.sessions.toggle_mark(identifier)
            self.sessions.table.action_cursor_down()

    def action_copy_identifier(self) -> None:
        identifier = self.sessions.highlighted_identifier()
        if identifier is None:
            return
        self.app.copy_to_clipboard(identifier)
        self.report_info(f"Copied {identifier}")

    def action_new_session(self) -> None:
        def created(identifier: str | None) -> None:
            if identifier is None:
                return
            self.sessions.add_local(identifier)
            self._select(identifier)
            self.report_info(
                f"{identifier} will be created by its first request (run code or open Files)."
            )

        self.app.push_screen(
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

    def action_open_session(self) -> None:
        def opened(identifier: str | None) -> None:
            if identifier is None:
                return
            if not self.sessions.move_to(identifier):
                self.sessions.add_local(identifier)
            self._select(identifier)
            self.fetch_session(identifier)

        self.app.push_screen(
            IdentifierModal(
                "Open session",
                help_text="Any identifier; dstui asks the pool about it (GET /session ↻).",
            ),
            opened,
        )

    def action_fetch_session(self) -> None:
        if self.selected is not None:
            self.fetch_session(self.selected)

    def action_pool_metadata(self) -> None:
        self.load_pool_metadata()

    @work(
        group="pool-metadata",
        exclusive=True,
        exit_on_error=False,
        description="Loading pool metadata",
    )
    async def load_pool_metadata(self) -> None:
        try:
            metadata: PoolMetadata = await self.pool.get_pool_metadata()
        except DynamicSessionsError as exc:
            self.report_error("Pool metadata failed", exc)
            self.metadata.show_pool_failed(self.failed_note("pool metadata"))
            return
        self.metadata.show_pool(metadata, self.pool.endpoint, self.pool.api_version)
        self.metadata.add_class("-with-pool")
        # Small terminals: the runtimes, kernel and api-version rows first, not the session's.
        # (After the layout that gives the scroll its new height, hence two refreshes.)
        self.call_after_refresh(self.call_after_refresh, self._scroll_to_pool_summary)

    def _scroll_to_pool_summary(self) -> None:
        scroll = self.query_one("#metadata-scroll")
        scroll.scroll_to_widget(self.query_one("#pool-summary"), animate=False, top=True)

    def action_delete_sessions(self) -> None:
        pane = self.sessions
        # In list order, so the named ones are the ones the user sees first.
        marked = [i for i in (*pane.local_order, *pane.loaded_order) if i in pane.marks]
        targets = marked or ([self.selected] if self.selected else [])
        if not targets:
            return
        if marked:
            hidden = sum(1 for i in marked if not pane.matches_filter(i))
            extra = f" ({hidden} hidden by the filter)" if hidden else ""
            modal = ConfirmModal(
                "Delete marked sessions",
                f"Delete {counted(len(marked), 'marked session')}{extra}: "
                f"{name_some(marked)}? Their files are lost.",
                typed=str(len(marked)),
                typed_meaning="the number of marked sessions",
            )
        else:
            modal = ConfirmModal(
                "Delete session",
                f"Delete {targets[0]}? Its files are lost; the identifier can be reused.",
            )

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.delete_sessions(targets)

        self.app.push_screen(modal, confirmed)

    @work(group="delete-sessions", exit_on_error=False, description="Deleting sessions")
    async def delete_sessions(self, identifiers: list[str]) -> None:
        deleted: list[str] = []
        for identifier in identifiers:
            try:
                await self.pool.delete_session(identifier)
            except NotFoundError:
                pass  # already expired or deleted: the outcome the user asked for
            except DynamicSessionsError as exc:
                self.report_error(f"Deleting {identifier} failed", exc)
                continue
            deleted.append(identifier)
            self.deleted_at[identifier] = self.settings.clock()
        if deleted:
            self.sessions.remove_sessions(deleted)
            self._update_header()
            word = "session" if len(deleted) == 1 else "sessions"
            self.report_info(f"Deleted {len(deleted)} {word}")
            self.selected = None
            self._select(self.sessions.highlighted_identifier())

    # -- panes, help ------------------------------------------------------------------------

    def action_focus_pane(self, number: int) -> None:
        """Focus the pane at once, so the next key of a burst (`2 m`) already goes there;
        `3` always lands in the editor."""
        self._set_active_pane(number)
        pane = self.panes()[number - 1]
        target = self.code.editor if number == 3 else self._pane_home(number)
        if target is not None:
            self.set_focus(target)
        if self.focused is not target:  # not focusable until the next layout (tabs)
            self.call_after_refresh(self._focus_pane_widget, pane)

    def _focus_pane_widget(self, pane: Widget) -> None:
        if isinstance(pane, SessionsPane):
            pane.table.focus()
        elif isinstance(pane, MetadataPane | CodePane | FilesPane):
            pane.focus_primary()

    def action_next_pane(self, step: int) -> None:
        if self.has_class("-narrow"):
            self.action_focus_pane((self.active_pane - 1 + step) % 4 + 1)
        elif step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def action_toggle_maximize(self) -> None:
        """Zoom the active pane (whatever in it has the focus); z or esc restores it."""
        if self.maximized is not None:
            self.minimize()
        else:
            self.maximize(self.panes()[self.active_pane - 1], container=False)

    def watch_maximized(self, old: Widget | None, new: Widget | None) -> None:
        """A zoomed pane says how to leave the zoom (header and pane bar are hidden)."""
        if old is not None:
            old.border_subtitle = ""
        if new is not None:
            zoom = self._key_for("maximize-pane") or "z"
            new.border_subtitle = f"zoomed · {zoom} or esc restores"
        if self.is_mounted:
            self.query_one(KeysFooter).refresh()

    def _key_for(self, binding_id: str) -> str | None:
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.id == binding_id:
                return self._display(binding)
        return None

    def _display(self, binding: Binding) -> str:
        """The binding's first key as the footer writes it, after the keymap."""
        keys = self.app._keymap.get(binding.id or "", binding.key)
        return self.app.get_key_display(replace(binding, key=keys.split(",")[0].strip()))

    def action_keys(self) -> dict[str, str]:
        """Action → its keys (`ctrl+d (Sessions) / ctrl+d (Files)`), for the palette."""
        found: dict[str, list[str]] = {}
        for scope, group in binding_scopes().items():
            for binding in group:
                if not isinstance(binding, Binding) or not binding.description:
                    continue
                action = binding.action.removeprefix("screen.").removeprefix("app.")
                where = "" if scope == EVERYWHERE else f" ({scope})"
                label = f"{self._display(binding)}{where}"
                if label not in found.setdefault(action, []):
                    found[action].append(label)
        return {action: " / ".join(labels) for action, labels in found.items()}

    def action_messages(self) -> None:
        log = getattr(self.app, "messages", None)
        self.app.push_screen(MessagesModal(list(log) if log is not None else []))

    def on_key(self, event: Key) -> None:
        """A key whose action is off here (--read-only, emulator only) says so, instead of
        doing nothing."""
        if event.key in self.active_bindings:
            return
        for _node, bindings in self._binding_chain:
            for binding in bindings.key_to_bindings.get(event.key, []):
                action = binding.action.split("(")[0].removeprefix("screen.")
                reason = self._inactive_reason(action)
                if reason is not None:
                    event.stop()
                    self.app.notify(reason, severity="warning", markup=False)
                    return

    def _inactive_reason(self, action: str) -> str | None:
        if self.settings.read_only and action in READ_ONLY_REASONS:
            return f"read-only: {READ_ONLY_REASONS[action]}"
        if action == "interrupt_kernel" and not self.settings.emulator:
            return INTERRUPT_EMBEDDED_ONLY
        return None

    def action_help(self) -> None:
        pane_rows: list[tuple[str, str, bool]] = []
        global_rows: list[tuple[str, str, bool]] = []
        for active in self.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system or binding.id is None:
                continue  # only dstui's own (remappable) keys, not every widget default
            action = binding.action.split("(")[0].removeprefix("screen.").removeprefix("app.")
            label = binding.description.removesuffix("↻")
            row = (self.app.get_key_display(binding), label, action in TOUCHING_ACTIONS)
            if isinstance(active.node, Screen) or active.node is self.app:
                global_rows.append(row)
            else:
                pane_rows.append(row)
        global_rows.append(("ctrl+q", "Quit (anywhere)", False))
        global_rows.append(("ctrl+p", "Command palette (every action)", False))
        name = ("Sessions", "Metadata", "Code", "Files")[self.active_pane - 1]
        sections = [(f"{name} pane", pane_rows), ("Everywhere", global_rows)]
        if self.active_pane == 3:
            sections.insert(1, ("Editor", [(key, text, False) for key, text in EDITOR_KEYS]))
        body = help_content(sections)
        self.app.push_screen(TextModal("Keys", body, dialog_id="help-dialog"))
