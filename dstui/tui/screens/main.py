"""The main screen: four panes, the workers that talk to the pool, and the actions behind keys.

Rules kept here (operators' safety):
- Highlighting a session uses the list page's data only; nothing is sent that names it.
- Requests that name a session (run, files, GET /session, delete) happen only on an explicit
  action; their keys are marked ↻ in the footer, the help and the palette.
- Every worker is `exit_on_error=False`; failures become a notification and a status line.
"""

from __future__ import annotations

import asyncio
import pprint
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.content import Content
from textual.events import DescendantFocus, Resize
from textual.highlight import highlight
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from dstui.api.constants import DEFAULT_OUTPUT_MAX_LENGTH, MAX_UPLOAD_BYTES
from dstui.api.errors import DynamicSessionsError, NotFoundError, SessionNotFoundError
from dstui.api.models import Execution, PoolMetadata, RemoteFile
from dstui.api.protocol import SessionPoolAPI
from dstui.api.validation import new_identifier
from dstui.tui.errors import describe_error
from dstui.tui.formatting import format_size
from dstui.tui.history import RunHistory, RunRecord
from dstui.tui.screens.modals import (
    ConfirmModal,
    HistoryModal,
    IdentifierModal,
    TextModal,
    UploadModal,
    help_content,
)
from dstui.tui.settings import AppSettings
from dstui.tui.widgets.chrome import PaneBar, StatusBar, TopBar
from dstui.tui.widgets.code_pane import CodePane
from dstui.tui.widgets.files_pane import PARENT_KEY, FilesPane
from dstui.tui.widgets.footer import KeysFooter
from dstui.tui.widgets.metadata_pane import MetadataPane
from dstui.tui.widgets.output_view import render_run, render_running
from dstui.tui.widgets.session_table import SessionsPane, SessionTable

if TYPE_CHECKING:
    from dstui.tui.app import DstuiApp

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
        "delete_file",
        "preview_file",
        "delete_sessions",
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
    }
)
NARROW_WIDTH = 100
NARROW_HEIGHT = 30
PREVIEW_MAX_BYTES = 256 * 1024


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run_code", "Run↻", id="run-code"),
        Binding("f5", "run_code", "Run↻", show=False, id="run-code-alt"),
        Binding("f4", "cancel_run", "Cancel run", show=False, id="cancel-run"),
        Binding("f6", "toggle_async", "Async mode", show=False, id="toggle-async"),
        Binding("f3", "recall_history", "Run history", show=False, id="run-history"),
        Binding("n", "new_session", "New", id="new-session"),
        Binding("o", "open_session", "Open↻", id="open-session"),
        Binding("z", "toggle_maximize", "Zoom", id="maximize-pane"),
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
        super().__init__(id="main")
        self.pool = pool
        self.settings = settings
        self.history = RunHistory(settings.data_dir / "history")
        self.selected: str | None = None
        self.next_link: str | None = None
        self.active_pane = 1
        self._busy: dict[Worker[Any], str] = {}
        self._run_started = 0.0
        self._polls = 0

    @property
    def dstui_app(self) -> DstuiApp:
        from dstui.tui.app import DstuiApp

        assert isinstance(self.app, DstuiApp)
        return self.app

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

    def panes(self) -> tuple[Widget, Widget, Widget, Widget]:
        return (self.sessions, self.metadata, self.code, self.files)

    def on_mount(self) -> None:
        self.code.set_target(None, self.settings.read_only)
        if self.settings.read_only:
            self.code.editor.read_only = True
        self._set_active_pane(1)
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
        return not (self.settings.read_only and action in MUTATING_ACTIONS)

    # -- status and errors ------------------------------------------------------------------

    def report_error(self, context: str, exc: BaseException) -> None:
        text = f"{context}: {describe_error(exc)}"
        self.status.error = text
        self.app.notify(text, severity="error", markup=False, timeout=8)

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

    def _group_running(self, group: str) -> bool:
        return any(w.group == group and w.is_running for w in self.workers)

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
        try:
            page = await self.pool.list_sessions_page()
            sessions = list(page.sessions)
            next_link = page.next_link
            while refresh and next_link is not None and len(sessions) < wanted:
                page = await self.pool.list_sessions_page(next_link)
                sessions.extend(page.sessions)
                next_link = page.next_link
        except DynamicSessionsError as exc:
            self.report_error("Listing sessions failed", exc)
            self.call_after_refresh(self.code.enable_highlighting)
            return
        self.next_link = next_link
        if refresh:
            pane.replace_all(sessions, next_link is not None)
        else:
            pane.reset()
            pane.append_page(sessions, next_link is not None)
        # The list is painted first; the editor's syntax highlighting (~45 ms) right after.
        self.call_after_refresh(self.code.enable_highlighting)
        self.status.refreshed = self._stamp()
        self.status.error = ""
        self._update_header()
        if not refresh and pane.table.row_count:
            self._select(pane.highlighted_identifier())

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
            self.report_error("Loading more sessions failed", exc)
            return
        finally:
            pane.loading = False
        self.next_link = page.next_link
        pane.append_page(page.sessions, page.next_link is not None)
        self._update_header()

    def _update_header(self) -> None:
        self.query_one(TopBar).loaded = self.sessions.summary_for_header()

    @on(SessionsPane.Highlighted)
    def _highlighted(self, event: SessionsPane.Highlighted) -> None:
        self._select(event.identifier)

    def _select(self, identifier: str | None) -> None:
        """Show what the list already told us; sends nothing."""
        if identifier == self.selected:
            return
        self.selected = identifier
        row = self.sessions.session(identifier) if identifier else None
        if row is None:
            self.metadata.show_session(None, "")
        elif row.local:
            self.metadata.show_session(
                row.session,
                "not on the pool yet — created by its first request (run code or open Files)",
            )
        else:
            self.metadata.show_session(
                row.session, "from the session list (no request sent to the session)"
            )
        self.code.set_target(identifier, self.settings.read_only)
        if self.files.identifier != identifier:
            self.files.show_placeholder(identifier)
            self.files.identifier = None
            if self.active_pane == 4 and identifier is not None and self._pane_visible(4):
                self.list_files(identifier, "")

    def _pane_visible(self, number: int) -> bool:
        focused = self.focused
        return focused is not None and self._pane_number(focused) == number

    def action_refresh_sessions(self) -> None:
        self.load_sessions(refresh=True)

    def action_filter_sessions(self) -> None:
        self.sessions.open_filter()

    def action_clear_filter(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        self.sessions.clear_filter()

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
        if self.selected == identifier:
            self.metadata.show_session(
                session, f"GET /session at {self._stamp()} (reset its cooldown)"
            )

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
            return
        self.metadata.show_pool(metadata)

    def action_delete_sessions(self) -> None:
        pane = self.sessions
        marked = sorted(pane.marks)
        targets = marked or ([self.selected] if self.selected else [])
        if not targets:
            return
        if marked:
            hidden = sum(1 for i in marked if not pane._matches(i))
            extra = f" ({hidden} hidden by the filter)" if hidden else ""
            modal = ConfirmModal(
                "Delete marked sessions",
                f"Delete {len(marked)} marked sessions{extra}? Their files are lost.",
                typed=str(len(marked)),
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
        if deleted:
            self.sessions.remove_sessions(deleted)
            self._update_header()
            word = "session" if len(deleted) == 1 else "sessions"
            self.report_info(f"Deleted {len(deleted)} {word}")
            self.selected = None
            self._select(self.sessions.highlighted_identifier())

    # -- code -------------------------------------------------------------------------------

    def action_run_code(self) -> None:
        identifier = self.selected
        if identifier is None:
            self.app.notify(
                "Select a session first (or press n for a new one).", severity="warning"
            )
            return
        timeout = self.code.timeout_seconds()
        if timeout is None:
            self.app.notify(
                "The timeout must be a whole number of seconds, 1–220.", severity="error"
            )
            return
        code = self.code.code_to_run()
        if not code.strip():
            self.app.notify("Nothing to run: the editor is empty.", severity="warning")
            return
        if self._group_running("execute"):
            self.app.notify("A run is in progress (f4 cancels it).", severity="warning")
            return
        self.run_code(identifier, code, timeout, self.code.asynchronous)

    @work(group="execute", exit_on_error=False, description="Running code")
    async def run_code(self, identifier: str, code: str, timeout: int, asynchronous: bool) -> None:
        self._run_started = time.perf_counter()
        self._polls = 0
        ticker = None
        if not self.settings.test_mode:
            # Quick runs paint their result directly; slower ones show a running line.
            ticker = self.set_interval(
                0.2, lambda: self._show_running(identifier, asynchronous), name="run-ticker"
            )

        def polled(_: Execution) -> None:
            self._polls += 1
            self._show_running(identifier, asynchronous)

        at = self.settings.clock().astimezone(UTC).isoformat(timespec="seconds")
        try:
            execution = await self.pool.execute(
                identifier,
                code,
                timeout=timeout,
                output_max_length=DEFAULT_OUTPUT_MAX_LENGTH,
                asynchronous=asynchronous,
                on_poll=polled,
            )
        except asyncio.CancelledError:
            record = RunRecord(
                at=at,
                code=code,
                status="Canceled",
                elapsed_ms=self._elapsed_ms(),
                asynchronous=asynchronous,
                error="Canceled here; the pool may still finish the run in the session.",
            )
            self._finish_run(identifier, record)
            raise
        except DynamicSessionsError as exc:
            record = RunRecord(
                at=at,
                code=code,
                status="Error",
                elapsed_ms=self._elapsed_ms(),
                asynchronous=asynchronous,
                error=describe_error(exc),
            )
            self._finish_run(identifier, record)
            self.report_error("Run failed", exc)
            return
        finally:
            if ticker is not None:
                ticker.stop()
        record = self._record(at, code, execution, asynchronous)
        self._finish_run(identifier, record)

    def _elapsed_ms(self) -> float | None:
        if self.settings.test_mode:
            return None  # wall time would make snapshots differ run to run
        return (time.perf_counter() - self._run_started) * 1000

    def _show_running(self, identifier: str, asynchronous: bool) -> None:
        elapsed = (
            0.0 if self.settings.test_mode else (time.perf_counter() - self._run_started) * 1000
        )
        self.code.show_output(render_running(identifier, elapsed, self._polls, asynchronous))

    def _record(self, at: str, code: str, execution: Execution, asynchronous: bool) -> RunRecord:
        image_path: str | None = None
        if execution.image is not None:
            image_path = self._save_image(execution)
        result = execution.result
        if result is None or result == "":
            result_text = ""
        elif isinstance(result, str):
            result_text = result
        else:
            result_text = pprint.pformat(result, width=60)
        return RunRecord(
            at=at,
            code=code,
            status=execution.status.value,
            duration_ms=execution.duration_ms,
            elapsed_ms=self._elapsed_ms(),
            stdout=execution.stdout,
            stderr=execution.stderr,
            result_text=result_text,
            stdout_truncated=execution.stdout_truncated,
            stderr_truncated=execution.stderr_truncated,
            image_path=image_path,
            asynchronous=asynchronous,
            timings=dict(execution.timings),
        )

    def _save_image(self, execution: Execution) -> str | None:
        assert execution.image is not None
        fmt = "".join(ch for ch in execution.image.format.lower() if ch.isalnum())[:8] or "png"
        name = "".join(ch for ch in execution.id if ch.isalnum() or ch in "-_")[:64] or "image"
        target = self.settings.data_dir / "images" / f"{name}.{fmt}"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(execution.image.data())
        except (OSError, DynamicSessionsError) as exc:
            self.report_error("Saving the image failed", exc)
            return None
        return str(target)

    def _finish_run(self, identifier: str, record: RunRecord) -> None:
        self.code.show_output(render_run(record, DEFAULT_OUTPUT_MAX_LENGTH))
        # Paint the output first; the history file is written right after.
        self.call_after_refresh(self._save_run, identifier, record)

    def _save_run(self, identifier: str, record: RunRecord) -> None:
        try:
            self.history.append(identifier, record)
        except OSError as exc:
            self.report_error("Saving the run history failed", exc)

    def action_cancel_run(self) -> None:
        if self._group_running("execute"):
            self.workers.cancel_group(self, "execute")

    def action_toggle_async(self) -> None:
        self.code.toggle_async()

    def action_recall_history(self) -> None:
        identifier = self.selected
        if identifier is None:
            return
        runs = self.history.runs(identifier)
        if not runs:
            self.app.notify("No runs recorded for this session yet.", markup=False)
            return

        def chosen(index: int | None) -> None:
            if index is None or not 0 <= index < len(runs):
                return
            record = runs[index]
            self.code.editor.text = record.code
            self.code.show_output(render_run(record, DEFAULT_OUTPUT_MAX_LENGTH))

        self.app.push_screen(HistoryModal(identifier, runs), chosen)

    # -- files ------------------------------------------------------------------------------

    @work(group="files-list", exclusive=True, exit_on_error=False, description="Listing files")
    async def list_files(self, identifier: str, path: str) -> None:
        try:
            files = await self.pool.list_files(identifier, path=path)
        except DynamicSessionsError as exc:
            self.report_error("Listing files failed", exc)
            return
        if self.selected == identifier:
            self.files.show_listing(identifier, path, files)

    def _files_target(self) -> tuple[str, str] | None:
        if self.selected is None:
            return None
        if self.files.identifier != self.selected:
            return self.selected, ""
        return self.selected, self.files.path

    def action_refresh_files(self) -> None:
        target = self._files_target()
        if target is not None:
            self.list_files(*target)

    def action_open_entry(self) -> None:
        name = self.files.highlighted_name()
        target = self._files_target()
        if name is None or target is None:
            return
        if name == PARENT_KEY:
            self.action_parent_directory()
            return
        entry = self.files.entries.get(name)
        if entry is not None and entry.is_dir:
            self.list_files(target[0], f"{target[1]}/{name}".strip("/"))
        elif entry is not None:
            self.action_preview_file()

    def action_parent_directory(self) -> None:
        target = self._files_target()
        if target is None or not target[1]:
            return
        self.list_files(target[0], target[1].rpartition("/")[0])

    def _selected_file(self) -> tuple[str, str, RemoteFile] | None:
        entry = self.files.highlighted_entry()
        if self.files.identifier is None or entry is None or entry.is_dir:
            return None
        return self.files.identifier, self.files.path, entry

    def action_upload_file(self) -> None:
        target = self._files_target()
        if target is None:
            return
        identifier, path = target

        def chosen(local: Path | None) -> None:
            if local is not None:
                self.upload(identifier, path, local)

        remote = f"/mnt/data/{path}" if path else "/mnt/data"
        self.app.push_screen(
            UploadModal(self.settings.upload_start_dir, MAX_UPLOAD_BYTES, remote), chosen
        )

    def _progress(self, verb: str, name: str) -> Callable[[int, int | None], None]:
        def update(done: int, total: int | None) -> None:
            size = format_size(total) if total is not None else "?"
            self.files.show_progress(f"{verb} {name}: {format_size(done)} of {size}", done, total)

        return update

    @work(group="transfer", exit_on_error=False, description="Uploading")
    async def upload(self, identifier: str, path: str, local: Path) -> None:
        try:
            uploaded = await self.pool.upload_file(
                identifier, local, path=path, progress=self._progress("Uploading", local.name)
            )
        except (DynamicSessionsError, OSError) as exc:
            self.files.hide_progress()
            self.report_error(f"Uploading {local.name} failed", exc)
            return
        self.files.hide_progress()
        self.report_info(f"Uploaded {uploaded.name} ({format_size(uploaded.size)})")
        if self.selected == identifier:
            self.list_files(identifier, path)
        self.files.set_note(f"Uploaded {uploaded.name} ({format_size(uploaded.size)})")

    def action_download_file(self) -> None:
        chosen = self._selected_file()
        if chosen is None:
            return
        identifier, path, entry = chosen
        dest = self.settings.download_dir / entry.name
        if dest.exists():

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.download(identifier, path, entry.name, dest, True)

            self.app.push_screen(
                ConfirmModal(
                    "Overwrite?",
                    f"{dest} exists. Replace it with {entry.name} from the session?",
                    confirm_label="Overwrite",
                ),
                confirmed,
            )
            return
        self.download(identifier, path, entry.name, dest, False)

    @work(group="transfer", exit_on_error=False, description="Downloading")
    async def download(
        self, identifier: str, path: str, name: str, dest: Path, overwrite: bool
    ) -> None:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            saved = await self.pool.download_file(
                identifier,
                name,
                dest,
                path=path,
                overwrite=overwrite,
                progress=self._progress("Downloading", name),
            )
        except (DynamicSessionsError, OSError) as exc:
            self.files.hide_progress()
            self.report_error(f"Downloading {name} failed", exc)
            return
        self.files.hide_progress()
        self.files.set_note(f"Saved {name} to {saved}")
        self.report_info(f"Saved {name} to {saved}")

    def action_delete_file(self) -> None:
        chosen = self._selected_file()
        if chosen is None:
            return
        identifier, path, entry = chosen

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.delete_file(identifier, path, entry.name)

        self.app.push_screen(
            ConfirmModal("Delete file", f"Delete {entry.name} from {self.files.remote_dir()}?"),
            confirmed,
        )

    @work(group="files-op", exit_on_error=False, description="Deleting file")
    async def delete_file(self, identifier: str, path: str, name: str) -> None:
        try:
            await self.pool.delete_file(identifier, name, path=path)
        except NotFoundError:
            # Already gone (e.g. an earlier attempt succeeded but its answer was lost).
            self.report_info(f"{name} was already gone")
        except DynamicSessionsError as exc:
            self.report_error(f"Deleting {name} failed", exc)
            return
        else:
            self.report_info(f"Deleted {name}")
        if self.selected == identifier:
            self.list_files(identifier, path)

    def action_preview_file(self) -> None:
        chosen = self._selected_file()
        if chosen is not None:
            self.preview(*chosen)

    @work(group="files-op", exit_on_error=False, description="Reading file")
    async def preview(self, identifier: str, path: str, entry: RemoteFile) -> None:
        try:
            data = await self.pool.read_file(
                identifier, entry.name, path=path, max_bytes=PREVIEW_MAX_BYTES
            )
        except DynamicSessionsError as exc:
            self.report_error(f"Reading {entry.name} failed", exc)
            return
        self.app.push_screen(
            TextModal(entry.name, preview_content(entry, data), dialog_id="preview-dialog")
        )

    # -- panes, help ------------------------------------------------------------------------

    def action_focus_pane(self, number: int) -> None:
        self._set_active_pane(number)
        pane = self.panes()[number - 1]
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
        if self.maximized is not None:
            self.minimize()
        elif self.focused is not None:
            self.maximize(self.focused)

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
        body = help_content([(f"{name} pane", pane_rows), ("Everywhere", global_rows)])
        self.app.push_screen(TextModal("Keys", body, dialog_id="help-dialog"))


def preview_content(entry: RemoteFile, data: bytes) -> Content:
    """Text with syntax highlighting by file name; anything binary shows size and type only."""
    is_text = b"\x00" not in data[:8192]
    text = ""
    if is_text:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    if not is_text:
        return Content.styled(
            f"Binary file: {format_size(entry.size)}, {entry.content_type or 'unknown type'}.\n"
            "Press d to download it.",
            "$text-muted",
        )
    body = highlight(text, path=entry.name)
    if entry.size is not None and entry.size > len(data):
        body = Content("\n").join(
            [
                body,
                Content.styled(f"✂ preview shows the first {format_size(len(data))}", "$warning"),
            ]
        )
    return body
