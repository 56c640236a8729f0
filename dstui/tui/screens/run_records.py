"""What a run sends and leaves, apart from the screen: its ticket, its payload, and the
record kept in the run history (built from the answer, or from the failure)."""

from __future__ import annotations

import pprint
import shlex
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from dstui.api.errors import RequestValidationError
from dstui.api.models import Execution
from dstui.api.shell_command import ShellCommand
from dstui.recording.run_history import RunRecord


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


def run_payload(code: str, *, shell: bool, argv: bool) -> str | ShellCommand:
    """A Shell pool runs the buffer as a bash command line (shellCommand), or in argv mode
    split like a shell and run without one (execCommandAndArgs)."""
    if not shell:
        return code
    if not argv:
        return ShellCommand(command=code)
    try:
        return ShellCommand(argv=tuple(shlex.split(code)))
    except ValueError as exc:
        raise RequestValidationError(
            f"the argv cannot be split: {exc}",
            hint="Close the quote, or press ctrl+t for bash.",
        ) from None


def result_text(result: object) -> str:
    if result is None or result == "":
        return ""
    if isinstance(result, str):
        return result
    return pprint.pformat(result, width=60)


def answered_record(
    ticket: RunTicket,
    execution: Execution,
    *,
    pool: str,
    elapsed_ms: float | None,
    image_path: str | None,
    notes: list[str],
) -> RunRecord:
    return RunRecord(
        at=ticket.at,
        code=ticket.code,
        status=execution.status.value,
        duration_ms=execution.duration_ms,
        elapsed_ms=elapsed_ms,
        stdout=execution.stdout,
        stderr=execution.stderr,
        result_text=result_text(execution.result),
        stdout_truncated=execution.stdout_truncated,
        stderr_truncated=execution.stderr_truncated,
        image_path=image_path,
        asynchronous=ticket.asynchronous,
        timings=dict(execution.timings),
        identifier=ticket.identifier,
        pool=pool,
        number=ticket.number,
        notes=tuple(notes),
        execution_id=ticket.execution_id,
        exit_code=execution.exit_code,
    )


def failed_record(
    ticket: RunTicket, status: str, error: str, *, pool: str, elapsed_ms: float | None
) -> RunRecord:
    return RunRecord(
        at=ticket.at,
        code=ticket.code,
        status=status,
        elapsed_ms=elapsed_ms,
        asynchronous=ticket.asynchronous,
        error=error or None,
        identifier=ticket.identifier,
        pool=pool,
        number=ticket.number,
        execution_id=ticket.execution_id,
    )


def with_notes(record: RunRecord, notes: list[str]) -> RunRecord:
    return replace(record, notes=(*record.notes, *notes))


def image_file(execution: Execution, data_dir: Path) -> Path:
    """Where a run's image is kept: its execution id and format, made safe as a file name."""
    assert execution.image is not None
    fmt = "".join(ch for ch in execution.image.format.lower() if ch.isalnum())[:8] or "png"
    name = "".join(ch for ch in execution.id if ch.isalnum() or ch in "-_")[:64] or "image"
    return data_dir / "images" / f"{name}.{fmt}"
