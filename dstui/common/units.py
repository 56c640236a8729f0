"""Sizes and durations in one style for every front end: `1.5 KiB`, `4m05s`."""

from __future__ import annotations

_BYTE_UNITS = ("KiB", "MiB", "GiB", "TiB")


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 file`, `3 files`, `0 directories` (give the plural when it is not noun + s)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def format_bytes(size: int) -> str:
    """`512 B`, `1.5 KiB`, `140.0 MiB`."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in _BYTE_UNITS:
        value /= 1024
        if value < 1024 or unit == _BYTE_UNITS[-1]:
            break
    return f"{value:.1f} {unit}"


def format_size(size: int | None, unknown: str = "—") -> str:
    """format_bytes, or `unknown` when the size is not known."""
    return unknown if size is None else format_bytes(size)


def format_duration(seconds: float) -> str:
    """`45s`, `4m05s`, `2h03m`, `3d04h`: short enough for a table cell; never negative."""
    total = max(0, int(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
