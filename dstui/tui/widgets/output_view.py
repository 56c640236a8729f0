"""Renders one run (a RunRecord) as text: status, timings, streams, result, image.

Everything that came from the server is inserted as plain text, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from textual.content import Content
from textual.highlight import highlight

from dstui.api.display import escape_controls
from dstui.recording.run_history import RunRecord
from dstui.tui.formatting import counted, format_elapsed_ms
from dstui.tui.image_cells import image_cells

_STATUS_STYLE = {
    "Succeeded": ("✔", "bold $success"),
    "Failed": ("✘", "bold $error"),
    "Canceled": ("⊘", "bold $warning"),
    "Error": ("✘", "bold $error"),
    "Running": ("…", "bold $accent"),
    "NotStarted": ("…", "bold $accent"),
}

# Short labels for the X-Ms-* timing headers (values are milliseconds, or counts/flags).
_TIMING_LABELS = {
    "x-ms-overall-execution-time": "overall",
    "x-ms-preparation-time": "prep",
    "x-ms-execution-request-time": "request",
    "x-ms-execution-read-response-time": "read",
    "x-ms-total-execution-service-time": "service",
    "x-ms-container-execution-duration": "container",
    "x-ms-allocation-time": "alloc",
    "x-ms-allocation-retries": "alloc-retries",
    "x-ms-new-allocation": "new-alloc",
}


def timing_summary(timings: Mapping[str, str]) -> str:
    """`overall 12 · prep 3 · x-other 1`: the timing headers by their short labels."""
    return " · ".join(
        f"{_TIMING_LABELS.get(name, name.removeprefix('x-ms-'))} {value}"
        for name, value in timings.items()
    )


def _heading(text: str) -> Content:
    return Content.styled(f"── {text} ", "bold $secondary")


def _cut_marker(stream: str, limit: int) -> Content:
    return Content.styled(
        f"✂ {stream} cut at {limit} characters (the output length cap); the rest was dropped",
        "bold $warning",
    )


def render_running(
    code_target: str,
    elapsed_ms: float,
    polls: int,
    asynchronous: bool,
    *,
    number: int = 0,
    started: str = "",
    waiting: str | None = None,
    fetching: bool = False,
) -> Content:
    if fetching:
        mode = f"fetching its result, {counted(polls, 'poll')}"
    else:
        mode = f"async, {counted(polls, 'poll')}" if asynchronous else "sync"
    run = f"#{number} " if number else ""
    since = f" · started {started}" if started else ""
    line = Content.assemble(
        (f"… running {run}", "bold $accent"),
        f"in {code_target}{since} · {format_elapsed_ms(elapsed_ms)} ({mode})",
    )
    if waiting is None:
        return line
    return Content("\n").join([line, Content.styled(waiting, "$text-warning")])


def _started(at: str) -> str:
    try:
        return datetime.fromisoformat(at).astimezone(UTC).strftime("%H:%M:%S")
    except ValueError:
        return at


def _where(record: RunRecord) -> Content:
    """`#3 in probe-0003 · started 10:00:00`: which run this is, whose, and when."""
    run = f"#{record.number} " if record.number else ""
    place = f"in {record.identifier} · " if record.identifier else ""
    return Content.styled(f"{run}{place}started {_started(record.at)}", "bold")


def shown_stream(text: str) -> str:
    """A program's stdout or stderr as text: tabs laid out, every other control character
    (an ANSI colour, a carriage return) escaped so it cannot repaint the terminal."""
    return escape_controls(text.rstrip("\n").expandtabs(), keep_newlines=True)


def shown_code(text: str, *, language: str | None = None, path: str | None = None) -> Content:
    """Code or a value from the server, syntax-highlighted (by language or file name) after
    its control characters are escaped, so an escape sequence in it (a screen clear, an OSC 52
    clipboard write) never reaches the terminal."""
    return highlight(shown_stream(text), language=language, path=path)


def render_run(
    record: RunRecord, output_cap: int, image_box: tuple[int, int] | None = None
) -> Content:
    """The whole run; an image result is also drawn inline within image_box (columns, rows)."""
    icon, style = _STATUS_STYLE.get(record.status, ("?", "bold"))
    label = "Stopped waiting" if record.status == "Canceled" else record.status
    if record.exit_code is not None:  # a Shell pool: the exit code is the status
        failed = record.exit_code != 0
        icon, style = ("✘", "bold $error") if failed else ("✔", "bold $success")
        label = f"exit {record.exit_code}"
    title = Content.assemble(Content.styled(f"{icon} {label} ", style), _where(record))
    head: list[Content] = [Content(f"pool {record.pool}")] if record.pool else []
    if record.duration_ms is not None:
        head.append(Content(f"{format_elapsed_ms(record.duration_ms)} in the session"))
    if record.elapsed_ms is not None:
        head.append(Content(f"{format_elapsed_ms(record.elapsed_ms)} round trip"))
    if record.asynchronous:
        head.append(Content("async"))
    if record.stdout_truncated or record.stderr_truncated:
        head.append(Content.styled("✂ output cut", "bold $warning"))
    lines = [title]
    if head:
        lines.append(Content(" · ").join(head))
    lines.extend(Content.styled(note, "$text-warning") for note in record.notes)
    if record.timings:
        timing = timing_summary(record.timings)
        lines.append(Content.styled(f"server timings (ms): {timing}", "$text-muted"))
    if record.error:
        lines.append(Content.styled(record.error, "$text-error"))
    if record.stdout:
        lines.append(_heading("stdout"))
        lines.append(Content(shown_stream(record.stdout)))
    if record.stdout_truncated:
        lines.append(_cut_marker("stdout", output_cap))
    if record.stderr:
        lines.append(_heading("stderr"))
        lines.append(Content.styled(shown_stream(record.stderr), "$text-error"))
    if record.stderr_truncated:
        lines.append(_cut_marker("stderr", output_cap))
    if record.result_text:
        lines.append(_heading("result"))
        lines.append(shown_code(record.result_text, language="python"))
    if record.image_path:
        lines.append(_heading("image"))
        lines.append(Content(f"saved to {record.image_path}"))
        picture = image_cells(Path(record.image_path), *image_box) if image_box else None
        if picture is not None:
            lines.append(picture)
    produced = record.stdout or record.stderr or record.result_text or record.image_path
    if not produced and not record.error and record.status == "Succeeded":
        lines.append(Content.styled("(no output)", "$text-muted"))
    return Content("\n").join(lines)
