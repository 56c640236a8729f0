"""Every message the explorer showed, kept after its toast has gone (like k9s `:events`).

Errors keep their full text: the message, the hint, the request and operation ids, so an
operator can reopen them and copy one into a ticket. Plain data; no Textual here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from dstui.api.errors import DynamicSessionsError, escape_controls, redact
from dstui.tui.errors import describe_error

MAX_ENTRIES = 500


@dataclass(frozen=True, slots=True)
class LogEntry:
    at: str  # HH:MM:SS (UTC), as the status bar stamps it
    severity: str  # "information" | "warning" | "error"
    text: str  # the one line the toast showed (for errors: context and message)
    hint: str = ""
    status: int | None = None
    code: str | None = None
    error_code_header: str | None = None  # x-ms-error-code, when it differs from the body's
    request_id: str | None = None
    operation_id: str | None = None
    trace_id: str | None = None

    def details(self) -> list[tuple[str, str]]:
        """The labelled facts beyond the first line, in the order an operator quotes them."""
        rows = [
            ("hint", self.hint),
            ("status", "" if self.status is None else str(self.status)),
            ("code", self.code or ""),
            ("error code header", self.error_code_header or ""),
            ("request id", self.request_id or ""),
            ("operation id", self.operation_id or ""),
            ("trace id", self.trace_id or ""),
        ]
        return [(label, value) for label, value in rows if value]

    def full_text(self) -> str:
        """What `c` copies: the whole entry as plain text."""
        lines = [f"{self.at} {self.severity}: {self.text}"]
        lines += [f"  {label}: {value}" for label, value in self.details()]
        return "\n".join(lines)


def error_entry(at: str, context: str, exc: BaseException) -> LogEntry:
    if isinstance(exc, DynamicSessionsError):
        return LogEntry(
            at=at,
            severity="error",
            text=f"{context}: {exc.message}",
            hint=exc.hint,
            status=exc.status,
            code=exc.code,
            error_code_header=_header_code(exc),
            request_id=exc.request_id,
            operation_id=exc.operation_id,
            trace_id=exc.trace_id,
        )
    return LogEntry(at=at, severity="error", text=f"{context}: {describe_error(exc)}")


def _header_code(exc: DynamicSessionsError) -> str | None:
    header = exc.error_code_header
    if not header or header == exc.code:
        return None  # the same code twice tells an operator nothing more
    return escape_controls(header)


class MessageLog:
    """The newest MAX_ENTRIES messages, oldest first."""

    def __init__(self, limit: int = MAX_ENTRIES) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=limit)

    def add(self, entry: LogEntry) -> None:
        self._entries.append(entry)

    def note(self, at: str, text: str, severity: str) -> None:
        self.add(LogEntry(at=at, severity=severity, text=redact(text)))

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def errors(self) -> int:
        return sum(1 for entry in self._entries if entry.severity == "error")
