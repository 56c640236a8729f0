"""The main screen: four panes, the workers that talk to the pool, and the actions behind keys.

Rules kept here (operators' safety):
- Highlighting a session uses the list page's data only; nothing is sent that names it.
- Requests that name a session (run, files, GET /session, delete) happen only on an explicit
  action; their keys are marked ↻ in the footer, the help and the palette.
- Every worker is `exit_on_error=False`; failures become a notification and a status line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.command import Provider
from textual.containers import Grid
from textual.events import DescendantFocus, Key, Resize
from textual.widget import Widget
from textual.widgets import Input, TextArea

from dstui.api.errors import DynamicSessionsError, EndlessPagingError
from dstui.api.models import PoolMetadata, SessionPage
from dstui.api.paging import PageGuard
from dstui.api.protocol import SessionPoolAPI
from dstui.tui.actions import (
    ACTIONS,
    GLOBAL,
    bindings_for,
)
from dstui.tui.gc_policy import keep_out_of_full_collections
from dstui.tui.palette import MainScreenCommands, shown_key
from dstui.tui.screens.base import PoolScreen
from dstui.tui.screens.container_actions import PoolTypeController
from dstui.tui.screens.debug_actions import DebugViews
from dstui.tui.screens.files_controller import FilesController
from dstui.tui.screens.files_watch import FilesWatcher
from dstui.tui.screens.key_help import KeyHelp
from dstui.tui.screens.modals import (
    MessagesModal,
)
from dstui.tui.screens.pool_actions import PoolController, show_no_session_list
from dstui.tui.screens.run_controller import RunController
from dstui.tui.screens.session_actions import SessionActions
from dstui.tui.settings import AppSettings
from dstui.tui.widgets.chrome import PaneBar, StatusBar, TopBar
from dstui.tui.widgets.code_pane import CodePane
from dstui.tui.widgets.files_pane import FilesPane
from dstui.tui.widgets.footer import KeysFooter
from dstui.tui.widgets.metadata_pane import MetadataPane
from dstui.tui.widgets.session_table import SessionsPane, SessionTable

NO_POOL_METADATA = (
    "CustomContainer pools have no /metadata (no runtimes or packages to list); "
    "the pool's properties come from ARM"
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


class MainScreen(PoolScreen):
    # Zoomed, the status bar and the keys stay: work in flight, errors, and how to leave.
    ALLOW_IN_MAXIMIZED_VIEW = "#status-bar, #footer"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(GLOBAL)
    # Here, not on the app: under a modal the palette offers none of these.
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {MainScreenCommands}

    def __init__(self, pool: SessionPoolAPI, settings: AppSettings) -> None:
        super().__init__(pool, settings)
        self.runs = RunController(self)
        self.file_ops = FilesController(self)
        self.pool_ops = PoolController(self)
        self.pool_kind = PoolTypeController(self)
        self.session_ops = SessionActions(self, stop_instead=self.pool_kind.confirm_stop)
        self.key_help = KeyHelp(self)
        self.debug_views = DebugViews(self)
        self.files_watch = FilesWatcher(self, settings.watch_interval_s)
        self.next_link: str | None = None
        self._pages = session_page_guard()
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
        self.pool_type_changed()  # Shell: a command line; CustomContainer: no list, no runs
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
        self.files_watch.focus_moved(event.widget)
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
            self.file_ops.list_files(self.selected, "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.key_help.inactive_reason(action) is None

    # -- the 1 s tick (driven by the app's single timer) --------------------------------------

    def tick(self) -> None:
        self.sessions.refresh_countdowns()
        self.metadata.refresh_details()

    def periodic_refresh(self) -> None:
        """Paused while a modal is open, a filter is typed or a refresh is already running."""
        if self.app.screen is not self or self.sessions.filter_text:
            return
        if isinstance(self.focused, Input) or self.group_running("sessions-refresh"):
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
        if not self.pool_ops.lists_sessions():
            show_no_session_list(pane)
            return
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
            if self.learn_pool_type(exc, "the session list"):
                return  # a custom container's refusal: the pane says so, no error
            self.report_error(LISTING_FAILED, exc)
            pane.show_failure(self.failed_note("listing"))
            self.call_after_refresh(self.code.enable_highlighting)
            return
        pane.show_failure("")
        self.next_link = next_link
        self._pages = pages
        self.facts.listed(sessions)  # the pool's own figures replace estimated expiries
        if refresh:
            pane.replace_all(sessions, next_link is not None)
            self._show_metadata(self.selected)  # the same session, as the new list has it
        else:
            pane.reset()
            pane.append_page(sessions, next_link is not None)
            keep_out_of_full_collections()
        # The list is painted first; the editor's syntax highlighting (~45 ms) right after.
        self.call_after_refresh(self.code.enable_highlighting)
        self.status.refreshed = self.stamp()
        self.clear_error(LISTING_FAILED, MORE_FAILED)
        self.update_header()
        if not self._identity_asked:
            self._identity_asked = True
            self.show_identity()
        if not refresh and pane.table.row_count:
            self.select(pane.highlighted_identifier())
        if not refresh:
            self.pool_ops.first_page_listed()  # a session picked in the across-pools view

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
        if self.next_link is None or self.group_running("sessions-page"):
            return
        if self.group_running("sessions-refresh"):
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
        keep_out_of_full_collections()
        self.update_header()

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
        self.select(event.identifier)

    def select(self, identifier: str | None) -> None:
        """Show what the list already told us; sends nothing."""
        if identifier == self.selected:
            return
        self.selected = identifier
        self._show_metadata(identifier)
        self.runs.session_selected(identifier)
        if self.files.identifier != identifier:
            self.files.show_placeholder(identifier)
            self.files.identifier = None
            if self.active_pane == 4 and identifier is not None and self._pane_visible(4):
                self.file_ops.list_files(identifier, "")

    def _show_metadata(self, identifier: str | None) -> None:
        """What the list (or the user's naming it) told us about the session; sends nothing."""
        row = self.sessions.session(identifier) if identifier else None
        if row is None:
            self.metadata.show_session(None, "")
        elif row.local:
            creates = "" if self.settings.read_only else " (run code or open Files)"
            if self.pool_type.is_custom:
                creates = " (R sends a request to its app)"
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
        self.session_ops.new_session()

    def action_open_session(self) -> None:
        self.session_ops.open_session()

    def action_fetch_session(self) -> None:
        if self.selected is not None:
            self.fetch_session(self.selected)

    def pool_type_changed(self) -> None:
        self.pool_kind.adapt()

    def action_toggle_argv(self) -> None:
        self.pool_kind.toggle_argv()

    def action_container_request(self) -> None:
        self.pool_kind.container_request()

    def action_doctor(self) -> None:
        self.pool_kind.doctor()

    def action_pool_picker(self) -> None:
        self.pool_ops.open_picker()

    def action_across_pools(self) -> None:
        self.pool_ops.open_across()

    def action_pool_metadata(self) -> None:
        self.pool_kind.show_pool_type()
        self.pool_ops.show_properties()
        self.load_pool_metadata()

    @work(
        group="pool-metadata",
        exclusive=True,
        exit_on_error=False,
        description="Loading pool metadata",
    )
    async def load_pool_metadata(self) -> None:
        if self.pool_type.is_custom:
            self.metadata.show_pool_note(NO_POOL_METADATA)
            return
        try:
            metadata: PoolMetadata = await self.pool.get_pool_metadata()
        except DynamicSessionsError as exc:
            if self.learn_pool_type(exc, "pool metadata") and self.pool_type.is_custom:
                self.metadata.show_pool_note(NO_POOL_METADATA)
                return
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
        self.session_ops.delete_sessions()

    # -- the Code pane's and the Files pane's actions: their controllers hold the flows ------

    @on(TextArea.Changed, "#editor")
    def _draft_edited(self) -> None:
        self.runs.drafts.edited()

    def on_unmount(self) -> None:
        self.runs.drafts.keep()

    def confirm_quit(self) -> None:
        self.runs.confirm_quit()

    def action_run_code(self) -> None:
        self.runs.run_code()

    def action_cancel_run(self) -> None:
        self.runs.stopped.cancel_run()

    def action_interrupt_kernel(self) -> None:
        self.runs.stopped.interrupt_kernel()

    def action_fetch_stopped_run(self) -> None:
        self.runs.stopped.fetch_stopped_run()

    def action_toggle_async(self) -> None:
        self.runs.toggle_async()

    def action_recall_history(self) -> None:
        self.runs.recall_history()

    def action_copy_output(self) -> None:
        self.runs.copy_output()

    def action_refresh_files(self) -> None:
        self.file_ops.refresh_files()

    def action_open_entry(self) -> None:
        self.file_ops.open_entry()

    def action_parent_directory(self) -> None:
        self.file_ops.parent_directory()

    def action_upload_file(self) -> None:
        self.file_ops.upload_file()

    def action_download_file(self) -> None:
        self.file_ops.download_file()

    def action_download_file_as(self) -> None:
        self.file_ops.download_file_as()

    def action_delete_file(self) -> None:
        self.file_ops.delete_file()

    def action_preview_file(self) -> None:
        self.file_ops.preview_file()

    def action_copy_file_path(self) -> None:
        self.file_ops.copy_file_path()

    def action_watch_files(self) -> None:
        self.files_watch.toggle()

    # -- live debugging: each opens its own view --------------------------------------------

    def action_traffic(self) -> None:
        self.debug_views.open_traffic()

    def action_timeline(self) -> None:
        self.debug_views.open_timeline()

    def action_variables(self) -> None:
        self.debug_views.open_variables()

    def action_export_session(self) -> None:
        self.debug_views.export_session()

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
        for action in ACTIONS:
            if action.id == binding_id:
                return shown_key(self.app, action.binding(GLOBAL))
        return None

    def action_messages(self) -> None:
        log = getattr(self.app, "messages", None)
        self.app.push_screen(MessagesModal(list(log) if log is not None else []))

    def on_key(self, event: Key) -> None:
        self.key_help.explain_inactive(event)

    def action_help(self) -> None:
        self.key_help.show_help(self.active_pane)
