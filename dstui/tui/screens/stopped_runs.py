"""Runs the user stopped waiting for (f4): the service has no cancel call, so such a run goes
on in its session; f2 fetches its result later by its operation id, f12 interrupts the
emulator's kernel."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from textual.worker import Worker

from dstui.api.errors import DynamicSessionsError, NotFoundError
from dstui.api.models import Execution
from dstui.recording.run_history import RunRecord
from dstui.tui.errors import describe_error
from dstui.tui.screens.controller import ScreenController
from dstui.tui.screens.run_records import RunTicket, with_notes

if TYPE_CHECKING:
    from dstui.tui.screens.base import PoolScreen

FETCH_POLL_S = 1.0
NO_CANCEL_CALL = "the service has no cancel call"
FETCH_KEY = "f2"
INTERRUPT_KEY = "f12"


class RunWaiter(Protocol):
    """What a fetch needs of the runs (RunController): the one run in flight, its running
    line, and how a run ends."""

    run_in_flight: RunTicket | None

    def claim(self, ticket: RunTicket) -> None: ...
    def waiting_started(self, *, fetching: bool = False) -> None: ...
    def polled(self) -> None: ...
    def wait_stopped(self, ticket: RunTicket) -> None: ...
    def failed(self, ticket: RunTicket, status: str, error: str) -> RunRecord: ...
    def record(self, ticket: RunTicket, execution: Execution) -> RunRecord: ...
    def finish(self, ticket: RunTicket, record: RunRecord) -> None: ...


class StoppedRuns(ScreenController):
    def __init__(self, screen: PoolScreen, runs: RunWaiter) -> None:
        super().__init__(screen)
        self.runs = runs
        self.tickets: dict[str, RunTicket] = {}  # stopped waiting for, until f2 fetches
        # Sessions that answered a later run: their stopped run is over (still fetchable).
        self.served_since_stop: set[str] = set()

    def stopped(self, ticket: RunTicket) -> list[str]:
        """Keep `ticket` for f2 (when it has an operation id); the notes its record gets."""
        notes = [f"Stopped waiting: {NO_CANCEL_CALL}, so the run goes on in the session."]
        if ticket.execution_id:
            notes.append(f"{FETCH_KEY} fetches its result once it has finished.")
            self.tickets[ticket.identifier] = ticket
            self.served_since_stop.discard(ticket.identifier)
        if self.screen.settings.emulator:
            notes.append(f"{INTERRUPT_KEY} interrupts the kernel (emulator only).")
        return notes

    def still_running_before(self, ticket: RunTicket) -> RunTicket | None:
        """The stopped run that `ticket`'s session is probably still busy with."""
        previous = self.tickets.get(ticket.identifier)
        busy = ticket.identifier not in self.served_since_stop
        return previous if previous is not None and previous is not ticket and busy else None

    def cancel_run(self) -> None:
        """f4 stops waiting; the service cannot cancel, so the run itself goes on."""
        if self.screen.group_running("execute"):
            self.screen.workers.cancel_group(self.screen, "execute")
        else:
            self.screen.app.notify("No run to stop waiting for.", severity="information")

    def interrupt_kernel(self) -> None:
        running = self.runs.run_in_flight
        identifier = running.identifier if running is not None else self.screen.selected
        if identifier is None:
            self.screen.selected_or_hint()
            return
        self._launch_interrupt(identifier)

    def _launch_interrupt(self, identifier: str) -> Worker[None]:
        return self.start(
            self._interrupt_kernel(identifier),
            group="interrupt",
            description="Interrupting the kernel",
        )

    async def _interrupt_kernel(self, identifier: str) -> None:
        try:
            interrupted = await self.screen.pool.interrupt_kernel(identifier)
        except DynamicSessionsError as exc:
            self.screen.report_error(f"Interrupting {identifier} failed", exc)
            return
        if interrupted:
            self.screen.report_info(
                f"Interrupted the code running in {identifier} (emulator only)."
            )
        else:
            self.screen.report_info(f"Nothing was running in {identifier}.")

    def fetch_stopped_run(self) -> None:
        identifier = self.screen.selected_or_hint()
        if identifier is None:
            return
        ticket = self.tickets.get(identifier)
        if ticket is None:
            self.screen.app.notify(
                f"No stopped run in {identifier} to fetch (f4 during a run stops waiting).",
                markup=False,
            )
            return
        if self.runs.run_in_flight is not None:
            self.screen.app.notify("Wait for the run in flight first (f4 stops it).", markup=False)
            return
        self.runs.claim(ticket)
        self._launch_fetch(ticket)

    def _launch_fetch(self, ticket: RunTicket) -> Worker[None]:
        return self.start(
            self._fetch_stopped_run(ticket), group="execute", description="Fetching a stopped run"
        )

    async def _fetch_stopped_run(self, ticket: RunTicket) -> None:
        runs, pool = self.runs, self.screen.pool
        runs.waiting_started(fetching=True)
        try:
            execution = await pool.get_execution(ticket.identifier, ticket.execution_id)
            while not execution.status.is_terminal:
                runs.polled()
                await asyncio.sleep(FETCH_POLL_S)
                execution = await pool.get_execution(ticket.identifier, ticket.execution_id)
        except asyncio.CancelledError:
            runs.wait_stopped(ticket)
            raise
        except NotFoundError as exc:
            self.tickets.pop(ticket.identifier, None)
            note = f"The pool no longer has run #{ticket.number}'s result: {describe_error(exc)}"
            runs.finish(ticket, runs.failed(ticket, "Error", note))
            return
        except DynamicSessionsError as exc:
            runs.finish(ticket, runs.failed(ticket, "Error", describe_error(exc)))
            self.screen.report_error(f"Fetching run #{ticket.number} failed", exc)
            return
        self.tickets.pop(ticket.identifier, None)
        record = runs.record(ticket, execution)
        runs.finish(ticket, with_notes(record, ["Fetched after the wait was stopped."]))
        self.screen.facts.touched(ticket.identifier)
