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
    json.dump(to_jsonable(value), stream, indent=2, ensure_ascii=False)
    stream.write("\n")


def iso_utc(moment: datetime, *, whole_seconds: bool = False) -> str:
    """`2026-11-22T02:05:00Z`; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="seconds" if whole_seconds else "auto")
    return text.replace("+00:00", "Z")


def format_duration(seconds: float) -> str:
    """Compact: `12s`, `4m12s`, `1h02m`, `2d03h`."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def format_moment(moment: datetime | None) -> str:
    return iso_utc(moment, whole_seconds=True) if moment is not None else "-"


def format_expiry(expires_at: datetime | None, now: datetime) -> str:
    """`2026-11-22T02:09:12Z (expires in 4m12s)`, or `... (expired 3s ago)`."""
    if expires_at is None:
        return "-"
    left = (_aware(expires_at) - now).total_seconds()
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
    ago = format_duration((now - _aware(moment)).total_seconds())
    return f"{iso_utc(moment, whole_seconds=True)} ({ago} ago)"


def format_size(size: int | None) -> str:
    if size is None:
        return "-"
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; no trailing blanks."""
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
    return "\n".join(f"{key + ':':<{width + 1}} {value}" for key, value in pairs)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
