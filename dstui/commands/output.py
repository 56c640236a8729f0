"""How command results look: stable JSON for scripts, aligned tables and short times for people."""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from dstui.api.display import escape_controls, has_unsafe_chars, is_unsafe_char
from dstui.common.clock import as_utc
from dstui.common.clock import utc_now as utc_now  # re-exported for the commands
from dstui.common.units import format_duration as format_duration
from dstui.common.units import format_size as common_format_size


def to_jsonable(value: Any) -> Any:
    """Dataclasses become dicts (field order kept), datetimes ISO-8601 UTC, enums their value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


def write_json(stream: TextIO, value: Any) -> None:
    stream.write(json_text(value, indent=2))
    stream.write("\n")


def json_text(value: Any, *, indent: int | None = None) -> str:
    """JSON for a terminal or a file: UTF-8 kept readable, unsafe characters escaped."""
    text = json.dumps(to_jsonable(value), indent=indent, ensure_ascii=False)
    return _escape_unsafe_in_json(text)


def _escape_unsafe_in_json(text: str) -> str:
    """json.dumps leaves DEL, C1 controls and bidi overrides raw: write them as `\\u` escapes
    (the same JSON value). A raw newline is the indentation's: inside strings json escapes it."""
    if not has_unsafe_chars(text):
        return text
    return "".join(_json_escape(ch) if ch != "\n" and is_unsafe_char(ch) else ch for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # beyond the BMP: a UTF-16 surrogate pair, as JSON spells it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def iso_utc(moment: datetime, *, whole_seconds: bool = False) -> str:
    """`2026-11-22T02:05:00Z`; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="seconds" if whole_seconds else "auto")
    return text.replace("+00:00", "Z")


def format_moment(moment: datetime | None) -> str:
    return iso_utc(moment, whole_seconds=True) if moment is not None else "-"


def format_expiry(expires_at: datetime | None, now: datetime) -> str:
    """`2026-11-22T02:09:12Z (expires in 4m12s)`, or `... (expired 3s ago)`."""
    if expires_at is None:
        return "-"
    left = (as_utc(expires_at) - now).total_seconds()
    relative = (
        f"expires in {format_duration(left)}"
        if left > 0
        else (f"expired {format_duration(-left)} ago")
    )
    return f"{iso_utc(expires_at, whole_seconds=True)} ({relative})"


def format_age(moment: datetime | None, now: datetime) -> str:
    """`2026-11-22T02:00:00Z (5m00s ago)`."""
    if moment is None:
        return "-"
    ago = format_duration((now - as_utc(moment)).total_seconds())
    return f"{iso_utc(moment, whole_seconds=True)} ({ago} ago)"


def format_size(size: int | None) -> str:
    return common_format_size(size, unknown="-")


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; no trailing blanks. Cells come from the
    server, so control characters are shown escaped."""
    rows = [[escape_controls(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = []
    for row in (headers, *rows):
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def render_fields(pairs: Sequence[tuple[str, str]]) -> str:
    """`key: value` lines with the values aligned."""
    width = max((len(key) for key, _ in pairs), default=0)
    return "\n".join(f"{key + ':':<{width + 1}} {escape_controls(value)}" for key, value in pairs)
