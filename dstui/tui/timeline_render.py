"""How a session's timeline reads: one row per entry, and the entry's detail.

Recorded text came from an agent or a server: shown as plain text with controls escaped.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from dstui.api.display import escape_controls
from dstui.common.units import format_bytes
from dstui.recording.timeline import TimelineEntry
from dstui.tui.traffic_render import clock_time, first_line
from dstui.tui.widgets.output_view import shown_code

_OK_MARK = {True: "✔", False: "✘", None: "…"}


def entry_cells(entry: TimelineEntry, colours: dict[str, str]) -> tuple[Text, ...]:
    mark = _OK_MARK[entry.ok]
    style = {True: "success", False: "error", None: "warning"}[entry.ok]
    run = f"#{entry.run_number}" if entry.run_number else ""
    took = f"{entry.duration_ms:.0f}" if entry.duration_ms is not None else ""
    return (
        Text(clock_time(entry.at)),
        Text(f"{mark} {escape_controls(entry.status)}", style=colours.get(style, "")),
        Text(entry.kind),
        Text(run),
        Text(took, justify="right"),
        Text("+".join(entry.sources)),
        Text(escape_controls(first_line(entry.code) if entry.code else entry.summary)),
    )


def _field(label: str, value: str) -> Content:
    return Content.assemble((f"{label:<10}", "$text-muted"), escape_controls(value))


def render_entry(entry: TimelineEntry) -> Content:
    ok = {True: "bold $success", False: "bold $error", None: "bold $warning"}[entry.ok]
    title = Content.assemble(
        (f"{_OK_MARK[entry.ok]} {escape_controls(entry.status)} ", ok),
        (f"{entry.operation} ", "bold $accent"),
        f"· {clock_time(entry.at)} UTC",
    )
    lines = [title, _field("seen by", ", ".join(entry.sources))]
    if entry.run_number:
        lines.append(_field("dstui run", f"#{entry.run_number} (in the run history, f3)"))
    if entry.duration_ms is not None:
        lines.append(_field("took", f"{entry.duration_ms:.1f} ms"))
    if entry.execution_id:
        lines.append(_field("execution", entry.execution_id))
    if entry.file_name:
        size = f" · {format_bytes(entry.file_size)}" if entry.file_size is not None else ""
        lines.append(_field("file", f"{entry.file_name}{size}"))
    if entry.links:
        numbers = ", ".join(f"{link.store} #{link.number}" for link in entry.links)
        lines.append(_field("exchanges", numbers))
    for reason in entry.merged:
        lines.append(Content.styled(f"merged: {reason}", "$text-muted"))
    if entry.code:
        lines.append(Content.styled("── code (enter loads it into the editor) ", "bold $secondary"))
        lines.append(shown_code(entry.code, language="python"))
    if entry.outcome:
        lines.append(Content.styled("── outcome ", "bold $secondary"))
        lines.append(Content(escape_controls(entry.outcome.rstrip("\n"), keep_newlines=True)))
    return Content("\n").join(lines)
