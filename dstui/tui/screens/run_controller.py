"""The Code pane's runs, owned by the main screen: run the buffer in the target session,
show and keep the result. Its helpers: `DraftKeeper` (a draft per session), `StoppedRuns`
(f4, f2, f12) and `run_records` (tickets, payloads, records).

Each run belongs to its session: its result names the session, the pool and the start, and
is shown only while that session is selected.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC
from functools import cached_property
from typing import TYPE_CHECKING

from textual.content import Content
from textual.worker import Worker

from dstui.api.constants import (
    DEFAULT_OUTPUT_MAX_LENGTH,
    MAX_EXECUTION_TIMEOUT_S,
    MIN_EXECUTION_TIMEOUT_S,
)
from dstui.api.display import escape_controls
from dstui.api.errors import DynamicSessionsError
from dstui.api.models import Execution
from dstui.api.run_options import RunOptions
from dstui.api.validation import new_identifier
from dstui.recording.run_history import RunRecord
from dstui.tui.errors import describe_error
from dstui.tui.formatting import counted, pool_label
from dstui.tui.screens.controller import ScreenController
from dstui.tui.screens.draft_keeper import DraftKeeper
from dstui.tui.screens.modals import ConfirmModal, HistoryModal, confirm_then
from dstui.tui.screens.run_records import (
    RunTicket,
    answered_record,
    failed_record,
    image_file,
    run_payload,
    with_notes,
)
from dstui.tui.screens.stopped_runs import NO_CANCEL_CALL, StoppedRuns
from dstui.tui.widgets.output_view import render_run, render_running

if TYPE_CHECKING:
    from dstui.tui.screens.base import PoolScreen

RUN_FAILED = "Run failed"
IMAGE_MAX_COLUMNS = 64
IMAGE_MAX_ROWS = 12
RUNNING_LINE_AFTER_S = 0.2


class RunController(ScreenController):
    """The Code pane's flows. Every piece of run state belongs to this instance."""

    def __init__(self, screen: PoolScreen) -> None:
        super().__init__(screen)
        self.history = screen.history
        self.drafts = DraftKeeper(screen)
        self.stopped = StoppedRuns(screen, self)
        # The latest run per session in this app run (shown when its row is selected).
        self.last_results: dict[str, RunRecord] = {}
        # New sessions whose first run is in flight (named so in the crumb and the result).
        self.created_by_run: set[str] = set()
        self._run_numbers: dict[str, int] = {}  # the last run number per session
        self._run_started = 0.0
        self._polls = 0
        self.run_in_flight: RunTicket | None = None
        self._output_shown: tuple[object, ...] | None = None
        self._record_shown: RunRecord | None = None  # the run whose output is shown (y copies)
        self._fetching = False  # the run in flight is a stopped one whose result is fetched

    @cached_property
    def pool_name(self) -> str:
        if self.screen.settings.emulator:
            return "emulator"
        label = pool_label(self.screen.pool.endpoint).split(" · ")[0]
        host = label.split("/", 1)[0]
        first = host.split(".", 1)[0]
        return first if first and not first.isdigit() else host

    # -- the selected session: its draft, its last result, the target crumb -------------------

    def session_selected(self, identifier: str | None) -> None:
        """The cursor is on another session: swap in its draft and its last result."""
        self.drafts.switch_to(identifier)
        self._show_target()
        self._show_selected_output()

    def _show_target(self) -> None:
        running = self.run_in_flight.identifier if self.run_in_flight is not None else None
        if running is not None and running in self.created_by_run:
            running = f"new session {running}, created by this run"
        self.screen.code.set_target(
            self.screen.selected,
            self.screen.settings.read_only,
            pool=self.pool_name,
            running_in=running,
        )

    def _show_output(self, content: Content, record: RunRecord | None = None) -> None:
        self._output_shown = None
        self._record_shown = record
        self.screen.code.show_output(content)

    def _show_selected_output(self) -> None:
        if self.screen.settings.read_only or self.screen.pool_type.is_custom:
            return  # the pane says why runs are off (or that this pool has none)
        identifier = self.screen.selected
        running = self.run_in_flight
        if identifier is not None and running is not None and running.identifier == identifier:
            self._show_running()
            return
        record = self.last_results.get(identifier) if identifier is not None else None
        # Scrolling through rows without runs repaints nothing (the list scrolls at 60 fps).
        shown = (identifier is not None, record, running)
        if shown == self._output_shown:
            return
        self._output_shown = shown
        self._record_shown = record
        if record is not None:
            self.screen.code.show_output(self._render_record(record))
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
        self.screen.code.show_output(Content("\n").join(parts))

    # -- running ---------------------------------------------------------------------------

    def run_code(self) -> None:
        identifier = self.screen.selected
        if identifier is None and not self._may_run_in_new_session():
            return
        # Keys typed just before ctrl+r may still sit in the editor's queue (a burst from
        # tmux, a paste, ssh): read the buffer once the editor has handled them.
        self.screen.code.editor.call_later(self._run_buffer, identifier)

    def _may_run_in_new_session(self) -> bool:
        """With no session selected, a run goes to a new one, but only once the list has
        shown what the pool holds; otherwise say why not."""
        if self.screen.sessions.failure:
            self.screen.app.notify(
                "No session selected, and listing sessions failed, so a new one is not made "
                f"blindly: press n for a new session, or see why the listing failed "
                f"({self.screen.messages_key()}).",
                severity="warning",
                markup=False,
            )
            return False
        if not self.screen.status.refreshed:
            self.screen.app.notify(
                "No session selected: the session list is still loading.", severity="warning"
            )
            return False
        return True

    def _new_session_for_run(self) -> str:
        identifier = new_identifier()  # the same generator n offers
        self.created_by_run.add(identifier)
        self.screen.sessions.add_local(identifier)
        self.screen.select(identifier)
        self.screen.report_info(f"Running in new session {identifier}, created by this run.")
        return identifier

    def _run_buffer(self, identifier: str | None) -> None:
        timeout = self.screen.code.timeout_seconds()
        if timeout is None:
            self.screen.app.notify(
                "The timeout must be a whole number of seconds, "
                f"{MIN_EXECUTION_TIMEOUT_S}–{MAX_EXECUTION_TIMEOUT_S}.",
                severity="error",
            )
            return
        code = self.screen.code.code_to_run()
        if not code.strip():
            self.screen.app.notify("Nothing to run: the editor is empty.", severity="warning")
            return
        running = self.run_in_flight
        if running is not None:
            self.screen.app.notify(
                f"Run #{running.number} is in flight in {running.identifier} (started "
                f"{running.clock_time}); f4 stops waiting for it.",
                severity="warning",
                markup=False,
            )
            return
        asynchronous = self.screen.code.asynchronous
        if identifier is None:
            identifier = self._new_session_for_run()

        def start() -> None:
            self._start_run(identifier, code, timeout, asynchronous)

        self.screen.facts.confirm_revival(identifier, "a run", start)

    def _start_run(self, identifier: str, code: str, timeout: int, asynchronous: bool) -> None:
        running = self.run_in_flight
        if running is not None:  # another run started while the question was open
            if running.identifier != identifier:
                self.created_by_run.discard(identifier)
            self.screen.app.notify(
                f"Not run in {identifier}: run #{running.number} started in "
                f"{running.identifier} meanwhile. Run it again once that one is done.",
                severity="warning",
                markup=False,
            )
            return
        self.drafts.keep()
        number = self._next_number(identifier)
        ticket = RunTicket(
            identifier=identifier,
            code=code,
            at=self.screen.settings.clock().astimezone(UTC).isoformat(timespec="seconds"),
            number=number,
            asynchronous=asynchronous,
            execution_id=self._operation_id(number),
        )
        self.run_in_flight = ticket  # the crumb follows with the running line (or a move)
        if identifier in self.created_by_run:
            self._show_target()  # at once: the user did not pick this session
        self._launch_run(ticket, timeout)

    def _operation_id(self, number: int) -> str:
        """Sent with the run, so that a run we stopped waiting for can be fetched later.
        Old api-versions take none; snapshots need the same id on every run."""
        if getattr(self.screen.pool, "legacy", False):
            return ""
        if self.screen.settings.test_mode:
            return f"dstui-run-{number:04d}"
        return f"dstui-{uuid.uuid4()}"

    def _next_number(self, identifier: str) -> int:
        last = self._run_numbers.get(identifier)
        if last is None:
            last = max((r.number for r in self.history.runs(identifier)), default=0)
        self._run_numbers[identifier] = last + 1
        return last + 1

    def _launch_run(self, ticket: RunTicket, timeout: int) -> Worker[None]:
        return self.start(
            self._run_code(ticket, timeout), group="execute", description="Running code"
        )

    async def _run_code(self, ticket: RunTicket, timeout: int) -> None:
        self.waiting_started()
        # Quick runs paint their result directly; slower ones show a running line (once in
        # snapshots, where a ticking clock would make them differ run to run).
        ticker = (
            self.screen.set_timer(RUNNING_LINE_AFTER_S, self._show_progress)
            if self.screen.settings.test_mode
            else self.screen.set_interval(
                RUNNING_LINE_AFTER_S, self._show_progress, name="run-ticker"
            )
        )

        identifier = ticket.identifier
        try:
            options = RunOptions(
                timeout=timeout,
                output_max_length=DEFAULT_OUTPUT_MAX_LENGTH,
                operation_id=ticket.execution_id or None,
                asynchronous=ticket.asynchronous,
            )
            pane = self.screen.code
            payload = run_payload(ticket.code, shell=pane.shell, argv=pane.argv)
            execution = await self.screen.pool.execute(
                identifier, payload, options, on_poll=lambda _: self.polled()
            )
        except asyncio.CancelledError:
            self.wait_stopped(ticket)
            raise
        except DynamicSessionsError as exc:
            self.finish(ticket, self.failed(ticket, "Error", describe_error(exc)))
            if self.screen.learn_pool_type(exc, "a run"):
                self.screen.report_info("Run it again: the Code pane is now a command line.")
                return
            self.screen.report_error(RUN_FAILED, exc)
            return
        finally:
            ticker.stop()
        self.stopped.served_since_stop.add(identifier)  # the session served us: that run is over
        self.finish(ticket, self.record(ticket, execution))
        self.screen.clear_error(RUN_FAILED)
        # The result paints first; the row and the metadata in the next frame (painted
        # together, the dirty area would span most of the screen).
        self.screen.call_after_refresh(self.screen.facts.touched, identifier)
        self.screen.confirm_created(identifier)

    def wait_stopped(self, ticket: RunTicket) -> None:
        """The wait for `ticket` was stopped (f4, or the screen went away)."""
        notes = self.stopped.stopped(ticket)
        self.finish(ticket, with_notes(self.failed(ticket, "Canceled", ""), notes))

    def failed(self, ticket: RunTicket, status: str, error: str) -> RunRecord:
        return failed_record(
            ticket, status, error, pool=self.pool_name, elapsed_ms=self._elapsed_ms()
        )

    def _elapsed_ms(self) -> float | None:
        if self.screen.settings.test_mode:
            return None  # wall time would make snapshots differ run to run
        return (time.perf_counter() - self._run_started) * 1000

    def claim(self, ticket: RunTicket) -> None:
        """`ticket` is the run in flight now (a stopped one, fetched)."""
        self.run_in_flight = ticket
        self._show_target()

    def waiting_started(self, *, fetching: bool = False) -> None:
        self._run_started = time.perf_counter()
        self._polls = 0
        self._fetching = fetching
        if fetching:
            self._show_progress()

    def polled(self) -> None:
        self._polls += 1
        self._show_running_if_selected()

    def _show_progress(self) -> None:
        self._show_target()
        self._show_running_if_selected()

    def _show_running_if_selected(self) -> None:
        running = self.run_in_flight
        if running is not None and running.identifier == self.screen.selected:
            self._show_running()

    def _show_running(self) -> None:
        ticket = self.run_in_flight
        if ticket is None:
            return
        elapsed = (
            0.0
            if self.screen.settings.test_mode
            else (time.perf_counter() - self._run_started) * 1000
        )
        previous = self.stopped.still_running_before(ticket)
        waiting = None
        if previous is not None:
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

    def record(self, ticket: RunTicket, execution: Execution) -> RunRecord:
        image_path = self._save_image(execution) if execution.image is not None else None
        notes: list[str] = []
        if self._newly_allocated(ticket.identifier, execution):
            notes.append(
                f"The pool allocated a new session for {ticket.identifier}, where an existing "
                "one was expected: its earlier variables and files are gone."
            )
        return answered_record(
            ticket,
            execution,
            pool=self.pool_name,
            elapsed_ms=self._elapsed_ms(),
            image_path=image_path,
            notes=notes,
        )

    def _newly_allocated(self, identifier: str, execution: Execution) -> bool:
        """The answer came from a fresh session although the list showed one with this id."""
        answered = execution.session_guid
        known = self.screen.facts.session_guids.get(identifier)
        if answered:
            self.screen.facts.session_guids[identifier] = answered
        row = self.screen.sessions.session(identifier)
        if row is None or row.local:
            return False  # a new identifier: a new session is what the user asked for
        if known and answered:
            return known != answered
        return execution.timings.get("x-ms-new-allocation", "").lower() == "true"

    def _save_image(self, execution: Execution) -> str | None:
        assert execution.image is not None
        target = image_file(execution, self.screen.settings.data_dir)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(execution.image.data())
        except (OSError, DynamicSessionsError) as exc:
            self.screen.report_error("Saving the image failed", exc)
            return None
        return str(target)

    def _image_box(self) -> tuple[int, int]:
        """Columns × rows for an inline image: the output area's width, at most 64 × 12."""
        return (max(min(self.screen.code.size.width - 4, IMAGE_MAX_COLUMNS), 8), IMAGE_MAX_ROWS)

    def _render_record(self, record: RunRecord) -> Content:
        return render_run(record, DEFAULT_OUTPUT_MAX_LENGTH, self._image_box())

    def finish(self, ticket: RunTicket, record: RunRecord) -> None:
        if ticket.identifier in self.created_by_run:
            self.created_by_run.discard(ticket.identifier)
            note = (
                f"New session {ticket.identifier}: this run failed, so the pool may not have it."
                if record.status == "Error"
                else f"New session {ticket.identifier}, created by this run."
            )
            record = with_notes(record, [note])
        if self.run_in_flight is ticket:
            self.run_in_flight = None
            self._fetching = False
        self.last_results[ticket.identifier] = record
        if self.screen.is_attached:
            self._show_target()
            if self.screen.selected == ticket.identifier:
                self._show_output(self._render_record(record), record)
            else:
                self.screen.report_info(
                    f"Run #{record.number} in {ticket.identifier}: {record.status}"
                )
                self._show_selected_output()  # drop its "a run is in flight in …" line
        # Paint the output first; the history file is written right after.
        self.screen.call_after_refresh(self._save_run, ticket.identifier, record)

    def _save_run(self, identifier: str, record: RunRecord) -> None:
        try:
            self.history.append(identifier, record)
        except OSError as exc:
            self.screen.report_error("Saving the run history failed", exc)

    # -- quitting --------------------------------------------------------------------------

    def in_flight(self) -> list[str]:
        """What quitting now would abandon, in words (empty when nothing would be lost)."""
        lost: list[str] = []
        running = self.run_in_flight
        if running is not None:
            lost.append(
                f"run #{running.number} in {running.identifier} (started {running.clock_time})"
            )
        if self.screen.group_running("transfer"):
            lost.append("a file transfer")
        return lost

    def _abandoned_transfer(self) -> str:
        kinds = {
            w.description for w in self.screen.workers if w.group == "transfer" and w.is_running
        }
        if kinds == {"Uploading"}:
            return "The upload is abandoned: the file may not reach the session."
        if kinds == {"Downloading"}:
            return "The download is abandoned; its partial file here is removed."
        return (
            "The transfers are abandoned: a partial download is removed, an upload may not arrive."
        )

    def copy_output(self) -> None:
        """y on the output: the shown run's stdout and result, as plain text."""
        record = self._record_shown
        if record is None:
            self.screen.app.notify(
                "Nothing to copy: no run's output is shown here.", severity="warning"
            )
            return
        parts = [
            (name, text)
            for name, text in (("stdout", record.stdout), ("result", record.result_text))
            if text
        ]
        if not parts:
            self.screen.app.notify(
                f"Nothing to copy: run #{record.number} printed nothing and returned no result.",
                severity="warning",
            )
            return
        text = "\n".join(part.removesuffix("\n") for _, part in parts)
        self.screen.app.copy_to_clipboard(text)
        what = " and ".join(name for name, _ in parts)
        lines = counted(text.count("\n") + 1, "line")
        self.screen.report_info(f"Copied run #{record.number}'s {what} ({lines})")

    def toggle_async(self) -> None:
        self.screen.code.toggle_async()

    def confirm_quit(self) -> None:
        """Quit at once, unless a run or a transfer would be abandoned: then ask."""
        lost = self.in_flight()
        if not lost:
            self.drafts.keep()
            self.screen.app.exit()
            return

        def quit_now() -> None:
            self.drafts.keep()
            self.screen.app.exit()

        what = " and ".join(lost)
        if self.run_in_flight is None:
            consequence = self._abandoned_transfer()
        elif self.screen.settings.emulator:
            consequence = "The local emulator stops with dstui, and the run with it."
        else:
            consequence = f"The run itself goes on in its session: {NO_CANCEL_CALL}."
        question = f"Quitting stops waiting for {what}. {consequence}"
        confirm_then(
            self.screen.app, ConfirmModal("Quit?", question, confirm_label="Quit"), quit_now
        )

    # -- history ---------------------------------------------------------------------------

    def recall_history(self) -> None:
        identifier = self.screen.selected_or_hint()
        if identifier is None:
            return
        runs = self.history.runs(identifier)
        if not runs:
            self.screen.app.notify("No runs recorded for this session yet.", markup=False)
            return

        def chosen(index: int | None) -> None:
            if index is None or not 0 <= index < len(runs):
                return
            record = runs[index]
            self.screen.code.load_code(record.code)
            self._show_output(self._render_record(record), record)

        self.screen.app.push_screen(HistoryModal(identifier, runs), chosen)
