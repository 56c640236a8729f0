"""How one recorded exchange reads in the Traffic view: its table row and its detail.

Everything recorded came from a client or a server, so it is shown as plain text with control
characters escaped, never parsed as markup; code is highlighted as Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from rich.text import Text
from textual.content import Content

from dstui.api.display import escape_controls
from dstui.api.validation import mask_identifier
from dstui.common.units import format_bytes
from dstui.recording.exchange import Exchange
from dstui.tui.widgets.output_view import shown_code, timing_summary

SUMMARY_CHARS = 60
WHAT_CHARS = 40  # the table's `what` cell; the detail has it all


def clock_time(moment: float) -> str:
    """`21:30:01.123`, in UTC like every time dstui shows."""
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S.%f")[:-3]


def shown_identifier(identifier: str | None, *, masked: bool) -> str:
    if not identifier:
        return "—"
    return escape_controls(mask_identifier(identifier) if masked else identifier)


def status_text(exchange: Exchange) -> str:
    return str(exchange.status) if exchange.status is not None else "---"


def status_style(exchange: Exchange) -> str:
    if exchange.status is None or exchange.status >= 500:
        return "bold $error"
    if exchange.status >= 400:
        return "bold $warning"
    return "$success"


PROBE_LABEL = "dstui variables probe"
_PROBE_MARK = "'<dstui-variables>'"  # the file name the probe compiles its source under


def first_line(code: str) -> str:
    """The code's first line, or what dstui's own variables probe is (it is one long line)."""
    if _PROBE_MARK in code:
        return PROBE_LABEL
    stripped = code.strip()
    line = stripped.splitlines()[0] if stripped else ""
    more = "…" if "\n" in stripped or len(line) > SUMMARY_CHARS else ""
    return line[:SUMMARY_CHARS] + more


def summary(exchange: Exchange) -> str:
    """What the exchange was about, in a few words: the code's first line, the file, the ask."""
    parts: list[str] = []
    if exchange.parent is not None:
        parts.append(f"poll of #{exchange.parent}")
    if exchange.execution_status:
        parts.append(exchange.execution_status)
    if exchange.code:
        parts.append(first_line(exchange.code))
    if exchange.file_name:
        size = f" {format_bytes(exchange.file_size)}" if exchange.file_size is not None else ""
        parts.append(f"{exchange.file_name}{size}")
    if exchange.asked:
        parts.append(exchange.asked)
    if exchange.error_code:
        parts.append(f"[{exchange.error_code}]")
    elif exchange.error and exchange.status is None:
        parts.append(f"! {exchange.error}")
    return escape_controls(" ".join(parts))


def status_colour(exchange: Exchange, colours: Mapping[str, str]) -> str:
    """The theme's colour for the status (`colours`: the theme's error, warning, success)."""
    name = status_style(exchange).rsplit("$", 1)[1]
    return f"bold {colours[name]}" if name in colours else ""


def row_cells(
    exchange: Exchange, *, masked: bool, colours: Mapping[str, str] | None = None
) -> tuple[Text, ...]:
    """The table's cells, as Text: a plain str cell would be read as markup."""
    return (
        Text(str(exchange.id)),
        Text(clock_time(exchange.started)),
        Text(exchange.operation),
        Text(shown_identifier(exchange.identifier, masked=masked)),
        Text(status_text(exchange), style=status_colour(exchange, colours or {})),
        Text(f"{exchange.duration_ms:.0f}", justify="right"),
        Text(clipped(summary(exchange), WHAT_CHARS)),
    )


def clipped(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _heading(text: str) -> Content:
    return Content.styled(f"── {text} ", "bold $secondary")


def _field(label: str, value: str) -> Content:
    return Content.assemble((f"{label:<11}", "$text-muted"), escape_controls(value))


def _text_block(text: str, style: str = "") -> Content:
    safe = escape_controls(text.rstrip("\n"), keep_newlines=True)
    return Content.styled(safe, style) if style else Content(safe)


def render_detail(exchange: Exchange, *, masked: bool, curl: str | None = None) -> Content:
    """The whole exchange: what, where, how long, the code highlighted, its output."""
    title = Content.assemble(
        (f"#{exchange.id} ", "bold"),
        (f"{exchange.operation} ", "bold $accent"),
        (status_text(exchange), status_style(exchange)),
        f" · {exchange.source} · {clock_time(exchange.started)} UTC",
    )
    lines = [title, _field("request", f"{exchange.method} {exchange.path}")]
    lines.append(_field("session", shown_identifier(exchange.identifier, masked=masked)))
    if exchange.api_version:
        lines.append(_field("api", exchange.api_version))
    took = f"{exchange.duration_ms:.1f} ms"
    sizes = f"{format_bytes(exchange.bytes_sent)} sent, {format_bytes(exchange.bytes_received)}"
    lines.append(_field("took", f"{took} · {sizes} received"))
    if exchange.timing:
        lines.append(_field("server", timing_summary(exchange.timing)))
    for label, value in (
        ("request id", exchange.request_id),
        ("operation", exchange.operation_id),
        ("execution", exchange.execution_id),
    ):
        if value and not (label == "execution" and value == exchange.operation_id):
            lines.append(_field(label, value))
    if exchange.parent is not None:
        lines.append(_field("polls", f"#{exchange.parent} (the execution it asks about)"))
    if exchange.execution_status or exchange.execution_type:
        kind = " ".join(filter(None, [exchange.execution_status, exchange.execution_type]))
        lines.append(_field("outcome", kind))
    if exchange.file_name or exchange.file_direction:
        size = format_bytes(exchange.file_size) if exchange.file_size is not None else "size ?"
        lines.append(_field("file", f"{exchange.file_direction or ''} {exchange.file_name} {size}"))
        if exchange.file_sha256:
            lines.append(_field("sha256", exchange.file_sha256))
    if exchange.asked:
        lines.append(_field("asked", exchange.asked))
    if exchange.error_code or exchange.error_message:
        error = ": ".join(filter(None, [exchange.error_code, exchange.error_message]))
        lines.append(Content.assemble(("error      ", "$text-muted"), _text_block(error, "$error")))
    if exchange.error:
        lines.append(_text_block(exchange.error, "$text-warning"))
    if exchange.code:
        lines.append(_heading("code (enter loads it into the editor)"))
        lines.append(shown_code(exchange.code, language="python"))
    if exchange.stdout:
        lines += [_heading("stdout"), _text_block(exchange.stdout)]
    if exchange.stderr:
        lines += [_heading("stderr"), _text_block(exchange.stderr, "$text-error")]
    if exchange.result:
        lines += [_heading("result"), shown_code(exchange.result, language="python")]
    if exchange.response_body and not (exchange.stdout or exchange.stderr or exchange.result):
        answer = exchange.response_body[:2000]
        if masked and exchange.identifier:
            answer = answer.replace(exchange.identifier, mask_identifier(exchange.identifier))
        lines += [_heading("answer"), _text_block(answer)]
    if curl is not None:
        if masked and exchange.identifier:  # the clipboard keeps the exact command
            curl = curl.replace(exchange.identifier, mask_identifier(exchange.identifier))
        lines += [_heading("curl (copied; set DSTUI_TOKEN first)"), Content(curl)]
    return Content("\n").join(lines)
