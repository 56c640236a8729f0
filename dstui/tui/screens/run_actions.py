"""The Code pane's actions: run the buffer in the target session, show and keep the result.

Each run belongs to its session: its result names the session, the pool and the start, and
is shown only while that session is selected. The editor holds one draft per session.
"""

from __future__ import annotations

import asyncio
import pprint
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property

from textual import on, work
from textual.content import Content
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import TextArea

from dstui.api.constants import (
    DEFAULT_OUTPUT_MAX_LENGTH,
    MAX_EXECUTION_TIMEOUT_S,
    MIN_EXECUTION_TIMEOUT_S,
)
from dstui.api.display import escape_controls
from dstui.api.errors import DynamicSessionsError, NotFoundError
from dstui.api.models import Execution
from dstui.api.run_options import RunOptions
from dstui.api.validation import new_identifier
from dstui.tui.drafts import DraftStore, DraftTooLong
from dstui.tui.errors import describe_error
from dstui.tui.formatting import pool_label
from dstui.tui.history import RunHistory, RunRecord
from dstui.tui.screens.base import PoolScreen
from dstui.tui.screens.modals import ConfirmModal, HistoryModal
from dstui.tui.widgets.output_view import render_run, render_running

RUN_FAILED = "Run failed"
IMAGE_MAX_COLUMNS = 64
IMAGE_MAX_ROWS = 12
FETCH_POLL_S = 1.0
NO_CANCEL_CALL = "the service has no cancel call"
FETCH_KEY = "f2"
INTERRUPT_KEY = "f12"
DRAFT_SAVE_DELAY_S = 1.0
RUNNING_LINE_AFTER_S = 0.2


@dataclass(frozen=True)
class RunTicket:
    """A run the app sent: where, when, which number, under which operation id."""

    identifier: str
    code: str
    at: str  # ISO 8601, UTC
    number: int
    asynchronous: bool
    execution_id: str  # "" when the api-version takes no operation id

    @property
    def clock_time(self) -> str:
        return datetime.fromisoformat(self.at).astimezone(UTC).strftime("%H:%M:%S")


class RunActions(PoolScreen):
    _run_started = 0.0
    _polls = 0
    _draft_owner: str | None = None
    _run_in_flight: RunTicket | None = None
    _draft_timer: Timer | None = None
    _output_shown: tuple[object, ...] | None = None
    _fetching = False  # the run in flight is a stopped one whose result is being fetched

    @cached_property
    def history(self) -> RunHistory:
        return RunHistory(self.settings.data_dir / "history")

    @cached_property
    def drafts(self) -> DraftStore:
        return DraftStore(self.settings.data_dir / "drafts")

    @cached_property
    def last_results(self) -> dict[str, RunRecord]:
        """The latest run per session in this app run (shown when its row is selected)."""
        return {}

    @cached_property
    def stopped_runs(self) -> dict[str, RunTicket]:
        """Runs we stopped waiting for, until f2 fetches their result."""
        return {}

    @cached_property
    def served_since_stop(self) -> set[str]:
        """Sessions that answered a later run: their stopped run is over (still fetchable)."""
        return set()

    @cached_property
    def pool_name(self) -> str:
        if self.settings.emulator:
            return "emulator"
        label = pool_label(self.pool.endpoint).split(" · ")[0]
        host = label.split("/", 1)[0]
        first = host.split(".", 1)[0]
        return first if first and not first.isdigit() else host

    # -- the selected session: its draft, its last result, the target crumb -------------------

    def session_selected(self, identifier: str | None) -> None:
        """The cursor is on another session: swap in its draft and its last result."""
        self._keep_draft()
        editor = self.code.editor
        if identifier is not None:
            draft = self.drafts.load(identifier)
            if self._draft_owner is None and not draft:
                draft = editor.text  # typed before any session was selected: keep it
            if editor.text != draft:
                editor.load_text(draft)
        self._draft_owner = identifier
        self._show_target()
        self._show_selected_output()

    def _keep_draft(self) -> None:
        owner = self._draft_owner
        if owner is None or self.settings.read_only:
            return
        try:
            text = self.code.editor.text
        except NoMatches:
            return  # the screen is being torn down; the last debounced save has it
        try:
            self.drafts.save(owner, text)
        except DraftTooLong as exc:
            self.notify(f"Draft not saved: {exc}.", severity="warning")
        except OSError as exc:
            self.report_error("Saving the draft failed", exc)

    @on(TextArea.Changed, "#editor")
    def _draft_edited(self) -> None:
        """Saved a moment after typing stops, so a crash or a kill loses little."""
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_SAVE_DELAY_S, self._keep_draft)

    def on_unmount(self) -> None:
        self._keep_draft()

    def _show_target(self) -> None:
        running = self._run_in_flight.identifier if self._run_in_flight is not None else None
        if running is not None and running in self.created_by_run:
            running = f"new session {running}, created by this run"
        self.code.set_target(
            self.selected, self.settings.read_only, pool=self.pool_name, running_in=running
        )

    def _show_output(self, content: Content) -> None:
        self._output_shown = None
        self.code.show_output(content)

    def _show_selected_output(self) -> None:
        if self.settings.read_only:
            return  # the pane says why runs are off
        identifier = self.selected
        running = self._run_in_flight
        if identifier is not None and running is not None and running.identifier == identifier:
            self._output_shown = None
            self._show_running()
            return
        record = self.last_results.get(identifier) if identifier is not None else None
        # Scrolling through rows without runs repaints nothing (the list scrolls at 60 fps).
        shown = (identifier is not None, record, running)
        if shown == self._output_shown:
            return
        self._output_shown = shown
        if record is not None:
            self.code.show_output(self._render_record(record))
            return
        parts = [Content.styled("ctrl+r / f5 runs the buffer (or the selection)", "$text-muted")]
        if identifier is not None:
            parts.insert(0, Content.styled("No run in this session yet.", "$text-muted"))
        if running is not None:
            where = escape_controls(running.identifier)
            parts.append(
                Content.styled(
                    f"A run is in flight in {where} (#{running.number}, started "
                    f"{running.clock_time}); its result shows on its row.",
                    "$text-warning",
                )
            )
        self.code.show_output(Content("\n").join(parts))

    # -- running ---------------------------------------------------------------------------

    def action_run_code(self) -> None:
        identifier = self.selected
        if identifier is None and not self._may_run_in_new_session():
            return
        # Keys typed just before ctrl+r may still sit in the editor's queue (a burst from
        # tmux, a paste, ssh): read the buffer once the editor has handled them.
        self.code.editor.call_later(self._run_buffer, identifier)

    @cached_property
    def created_by_run(self) -> set[str]:
        """New sessions whose first run is in flight (named so in the crumb and the result)."""
        return set()

    def _may_run_in_new_session(self) -> bool:
        """With no session selected, a run goes to a new one, but only once the list has
        shown what the pool holds; otherwise say why not."""
        if self.sessions.failure:
            self.app.notify(
                "No session selected, and listing sessions failed, so a new one is not made "
                f"blindly: press n for a new session, or see why the listing failed "
                f"({self.messages_key()}).",
                severity="warning",
                markup=False,
            )
            return False
        if not self.status.refreshed:
            self.app.notify(
                "No session selected: the session list is still loading.", severity="warning"
            )
            return False
        return True

    def _new_session_for_run(self) -> str:
        identifier = new_identifier()  # the same generator n offers
        self.created_by_run.add(identifier)
        self.sessions.add_local(identifier)
        self._select(identifier)
        self.report_info(f"Running in new session {identifier}, created by this run.")
        return identifier

    def _run_buffer(self, identifier: str | None) -> None:
        timeout = self.code.timeout_seconds()
        if timeout is None:
            self.app.notify(
                "The timeout must be a whole number of seconds, "
                f"{MIN_EXECUTION_TIMEOUT_S}–{MAX_EXECUTION_TIMEOUT_S}.",
                severity="error",
            )
            return
        code = self.code.code_to_run()
        if not code.strip():
            self.app.notify("Nothing to run: the editor is empty.", severity="warning")
            return
        running = self._run_in_flight
        if running is not None:
            self.app.notify(
                f"Run #{running.number} is in flight in {running.identifier} (started "
                f"{running.clock_time}); f4 stops waiting for it.",
                severity="warning",
                markup=False,
            )
            return
        asynchronous = self.code.asynchronous
        if identifier is None:
            identifier = self._new_session_for_run()

        def start() -> None:
            self._start_run(identifier, code, timeout, asynchronous)

        self.confirm_revival(identifier, "a run", start)

    def _start_run(self, identifier: str, code: str, timeout: int, asynchronous: bool) -> None:
        running = self._run_in_flight
        if running is not None:  # another run started while the question was open
            if running.identifier != identifier:
                self.created_by_run.discard(identifier)
            self.app.notify(
                f"Not run in {identifier}: run #{running.number} started in "
                f"{running.identifier} meanwhile. Run it again once that one is done.",
                severity="warning",
                markup=False,
            )
            return
        self._keep_draft()
        number = self._next_number(identifier)
        ticket = RunTicket(
            identifier=identifier,
            code=code,
            at=self.settings.clock().astimezone(UTC).isoformat(timespec="seconds"),
            number=number,
            asynchronous=asynchronous,
            execution_id=self._operation_id(number),
        )
        self._run_in_flight = ticket  # the crumb follows with the running line (or a move)
        if identifier in self.created_by_run:
            self._show_target()  # at once: the user did not pick this session
        self.run_code(ticket, timeout)

    def _operation_id(self, number: int) -> str:
        """Sent with the run, so that a run we stopped waiting for can be fetched later.
        Old api-versions take none; snapshots need the same id on every run."""
        if getattr(self.pool, "legacy", False):
            return ""
        if self.settings.test_mode:
            return f"dstui-run-{number:04d}"
        return f"dstui-{uuid.uuid4()}"

    @cached_property
    def _run_numbers(self) -> dict[str, int]:
        """The last run number per session (read from the history once per session)."""
        return {}

    def _next_number(self, identifier: str) -> int:
        last = self._run_numbers.get(identifier)
        if last is None:
            last = max((r.number for r in self.history.runs(identifier)), default=0)
        self._run_numbers[identifier] = last + 1
        return last + 1

    @work(group="execute", exit_on_error=False, description="Running code")
    async def run_code(self, ticket: RunTicket, timeout: int) -> None:
        self._run_started = time.perf_counter()
        self._polls = 0
        # Quick runs paint their result directly; slower ones show a running line (once in
        # snapshots, where a ticking clock would make them differ run to run).
        ticker = (
            self.set_timer(RUNNING_LINE_AFTER_S, self._show_progress)
            if self.settings.test_mode
            else self.set_interval(RUNNING_LINE_AFTER_S, self._show_progress, name="run-ticker")
        )

        def polled(_: Execution) -> None:
            self._polls += 1
            self._show_running_if_selected()

        identifier = ticket.identifier
        try:
            options = RunOptions(
                timeout=timeout,
                output_max_length=DEFAULT_OUTPUT_MAX_LENGTH,
                operation_id=ticket.execution_id or None,
                asynchronous=ticket.asynchronous,
            )
            execution = await self.pool.execute(identifier, ticket.code, options, on_poll=polled)
        except asyncio.CancelledError:
            self._stopped(ticket)
            raise
        except DynamicSessionsError as exc:
            self._finish_run(ticket, self._failed(ticket, "Error", describe_error(exc)))
            self.report_error(RUN_FAILED, exc)
            return
        finally:
            ticker.stop()
        self.served_since_stop.add(identifier)  # the session served us: that run is over
        self._finish_run(ticket, self._record(ticket, execution))
        self.clear_error(RUN_FAILED)
        # The result paints first; the row and the metadata in the next frame (painted
        # together, the dirty area would span most of the screen).
        self.call_after_refresh(self.session_touched, identifier)
        self.confirm_created(identifier)

    def _stopped(self, ticket: RunTicket) -> None:
        notes = [f"Stopped waiting: {NO_CANCEL_CALL}, so the run goes on in the session."]
        if ticket.execution_id:
            notes.append(f"{FETCH_KEY} fetches its result once it has finished.")
            self.stopped_runs[ticket.identifier] = ticket
            self.served_since_stop.discard(ticket.identifier)
        if self.settings.emulator:
            notes.append(f"{INTERRUPT_KEY} interrupts the kernel (emulator only).")
        record = self._failed(ticket, "Canceled", "")
        self._finish_run(ticket, _with_notes(record, notes))

    def _failed(self, ticket: RunTicket, status: str, error: str) -> RunRecord:
        return RunRecord(
            at=ticket.at,
            code=ticket.code,
            status=status,
            elapsed_ms=self._elapsed_ms(),
            asynchronous=ticket.asynchronous,
            error=error or None,
            identifier=ticket.identifier,
            pool=self.pool_name,
            number=ticket.number,
            execution_id=ticket.execution_id,
        )

    def _elapsed_ms(self) -> float | None:
        if self.settings.test_mode:
            return None  # wall time would make snapshots differ run to run
        return (time.perf_counter() - self._run_started) * 1000

    def _show_progress(self) -> None:
        self._show_target()
        self._show_running_if_selected()

    def _show_running_if_selected(self) -> None:
        running = self._run_in_flight
        if running is not None and running.identifier == self.selected:
            self._show_running()

    def _show_running(self) -> None:
        ticket = self._run_in_flight
        if ticket is None:
            return
        elapsed = (
            0.0 if self.settings.test_mode else (time.perf_counter() - self._run_started) * 1000
        )
        previous = self.stopped_runs.get(ticket.identifier)
        waiting = None
        busy = ticket.identifier not in self.served_since_stop
        if previous is not None and previous is not ticket and busy:
            waiting = (
                f"waiting for the previous run in this session (#{previous.number}, "
                f"started {previous.clock_time})"
            )
        self._show_output(
            render_running(
                ticket.identifier,
                elapsed,
                self._polls,
                ticket.asynchronous,
                number=ticket.number,
                started=ticket.clock_time,
                waiting=waiting,
                fetching=self._fetching,
            )
        )

    def _record(self, ticket: RunTicket, execution: Execution) -> RunRecord:
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
        notes: list[str] = []
        if self._newly_allocated(ticket.identifier, execution):
            notes.append(
                f"The pool allocated a new session for {ticket.identifier}, where an existing "
                "one was expected: its earlier variables and files are gone."
            )
        return RunRecord(
            at=ticket.at,
            code=ticket.code,
            status=execution.status.value,
            duration_ms=execution.duration_ms,
            elapsed_ms=self._elapsed_ms(),
            stdout=execution.stdout,
            stderr=execution.stderr,
            result_text=result_text,
            stdout_truncated=execution.stdout_truncated,
            stderr_truncated=execution.stderr_truncated,
            image_path=image_path,
            asynchronous=ticket.asynchronous,
            timings=dict(execution.timings),
            identifier=ticket.identifier,
            pool=self.pool_name,
            number=ticket.number,
            notes=tuple(notes),
            execution_id=ticket.execution_id,
        )

    def _newly_allocated(self, identifier: str, execution: Execution) -> bool:
        """The answer came from a fresh session although the list showed one with this id."""
        answered = execution.session_guid
        known = self.session_guids.get(identifier)
        if answered:
            self.session_guids[identifier] = answered
        row = self.sessions.session(identifier)
        if row is None or row.local:
            return False  # a new identifier: a new session is what the user asked for
        if known and answered:
            return known != answered
        return execution.timings.get("x-ms-new-allocation", "").lower() == "true"

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

    def _image_box(self) -> tuple[int, int]:
        """Columns × rows for an inline image: the output area's width, at most 64 × 12."""
        return (max(min(self.code.size.width - 4, IMAGE_MAX_COLUMNS), 8), IMAGE_MAX_ROWS)

    def _render_record(self, record: RunRecord) -> Content:
        return render_run(record, DEFAULT_OUTPUT_MAX_LENGTH, self._image_box())

    def _finish_run(self, ticket: RunTicket, record: RunRecord) -> None:
        if ticket.identifier in self.created_by_run:
            self.created_by_run.discard(ticket.identifier)
            note = (
                f"New session {ticket.identifier}: this run failed, so the pool may not have it."
                if record.status == "Error"
                else f"New session {ticket.identifier}, created by this run."
            )
            record = _with_notes(record, [note])
        if self._run_in_flight is ticket:
            self._run_in_flight = None
            self._fetching = False
        self.last_results[ticket.identifier] = record
        if self.is_attached:
            self._show_target()
            if self.selected == ticket.identifier:
                self._show_output(self._render_record(record))
            else:
                self.report_info(f"Run #{record.number} in {ticket.identifier}: {record.status}")
                self._show_selected_output()  # drop its "a run is in flight in …" line
        # Paint the output first; the history file is written right after.
        self.call_after_refresh(self._save_run, ticket.identifier, record)

    def _save_run(self, identifier: str, record: RunRecord) -> None:
        try:
            self.history.append(identifier, record)
        except OSError as exc:
            self.report_error("Saving the run history failed", exc)

    # -- stopping, interrupting, fetching later --------------------------------------------

    def in_flight(self) -> list[str]:
        """What quitting now would abandon, in words (empty when nothing would be lost)."""
        lost: list[str] = []
        running = self._run_in_flight
        if running is not None:
            lost.append(
                f"run #{running.number} in {running.identifier} (started {running.clock_time})"
            )
        if self._group_running("transfer"):
            lost.append("a file transfer")
        return lost

    def _abandoned_transfer(self) -> str:
        kinds = {w.description for w in self.workers if w.group == "transfer" and w.is_running}
        if kinds == {"Uploading"}:
            return "The upload is abandoned: the file may not reach the session."
        if kinds == {"Downloading"}:
            return "The download is abandoned; its partial file here is removed."
        return (
            "The transfers are abandoned: a partial download is removed, an upload may not arrive."
        )

    def action_cancel_run(self) -> None:
        """f4 stops waiting; the service cannot cancel, so the run itself goes on."""
        if self._group_running("execute"):
            self.workers.cancel_group(self, "execute")
        else:
            self.app.notify("No run to stop waiting for.", severity="information")

    def action_interrupt_kernel(self) -> None:
        running = self._run_in_flight
        identifier = running.identifier if running is not None else self.selected
        if identifier is None:
            self.selected_or_hint()
            return
        self.interrupt_kernel(identifier)

    @work(group="interrupt", exit_on_error=False, description="Interrupting the kernel")
    async def interrupt_kernel(self, identifier: str) -> None:
        try:
            interrupted = await self.pool.interrupt_kernel(identifier)
        except DynamicSessionsError as exc:
            self.report_error(f"Interrupting {identifier} failed", exc)
            return
        if interrupted:
            self.report_info(f"Interrupted the code running in {identifier} (emulator only).")
        else:
            self.report_info(f"Nothing was running in {identifier}.")

    def action_fetch_stopped_run(self) -> None:
        identifier = self.selected_or_hint()
        if identifier is None:
            return
        ticket = self.stopped_runs.get(identifier)
        if ticket is None:
            self.app.notify(
                f"No stopped run in {identifier} to fetch (f4 during a run stops waiting).",
                markup=False,
            )
            return
        if self._run_in_flight is not None:
            self.app.notify("Wait for the run in flight first (f4 stops it).", markup=False)
            return
        self._run_in_flight = ticket
        self._show_target()
        self.fetch_stopped_run(ticket)

    @work(group="execute", exit_on_error=False, description="Fetching a stopped run")
    async def fetch_stopped_run(self, ticket: RunTicket) -> None:
        self._run_started = time.perf_counter()
        self._polls = 0
        self._fetching = True
        self._show_progress()
        try:
            execution = await self.pool.get_execution(ticket.identifier, ticket.execution_id)
            while not execution.status.is_terminal:
                self._polls += 1
                self._show_running_if_selected()
                await asyncio.sleep(FETCH_POLL_S)
                execution = await self.pool.get_execution(ticket.identifier, ticket.execution_id)
        except asyncio.CancelledError:
            self._stopped(ticket)
            raise
        except NotFoundError as exc:
            self.stopped_runs.pop(ticket.identifier, None)
            note = f"The pool no longer has run #{ticket.number}'s result: {describe_error(exc)}"
            self._finish_run(ticket, self._failed(ticket, "Error", note))
            return
        except DynamicSessionsError as exc:
            self._finish_run(ticket, self._failed(ticket, "Error", describe_error(exc)))
            self.report_error(f"Fetching run #{ticket.number} failed", exc)
            return
        self.stopped_runs.pop(ticket.identifier, None)
        record = self._record(ticket, execution)
        self._finish_run(ticket, _with_notes(record, ["Fetched after the wait was stopped."]))
        self.session_touched(ticket.identifier)

    def action_toggle_async(self) -> None:
        self.code.toggle_async()

    # -- quitting --------------------------------------------------------------------------

    def confirm_quit(self) -> None:
        """Quit at once, unless a run or a transfer would be abandoned: then ask."""
        lost = self.in_flight()
        if not lost:
            self._keep_draft()
            self.app.exit()
            return

        def answered(ok: bool | None) -> None:
            if ok:
                self._keep_draft()
                self.app.exit()

        what = " and ".join(lost)
        if self._run_in_flight is None:
            consequence = self._abandoned_transfer()
        elif self.settings.emulator:
            consequence = "The local emulator stops with dstui, and the run with it."
        else:
            consequence = f"The run itself goes on in its session: {NO_CANCEL_CALL}."
        self.app.push_screen(
            ConfirmModal(
                "Quit?", f"Quitting stops waiting for {what}. {consequence}", confirm_label="Quit"
            ),
            answered,
        )

    # -- history ---------------------------------------------------------------------------

    def action_recall_history(self) -> None:
        identifier = self.selected_or_hint()
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
            self._load_into_editor(record.code)
            self._show_output(self._render_record(record))

        self.app.push_screen(HistoryModal(identifier, runs), chosen)

    def _load_into_editor(self, code: str) -> None:
        """Replace the buffer as one edit, so ctrl+z brings the draft back."""
        editor = self.code.editor
        editor.history.checkpoint()
        editor.replace(code, (0, 0), editor.document.end)
        editor.history.checkpoint()
        editor.move_cursor((0, 0))


def _with_notes(record: RunRecord, notes: list[str]) -> RunRecord:
    return replace(record, notes=(*record.notes, *notes))
