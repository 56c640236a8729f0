"""Plain-text formatters for times, countdowns and sizes; every one takes `now` explicitly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from dstui.common.clock import utc_now
from dstui.common.units import counted as counted  # one wording for every front end
from dstui.common.units import format_duration
from dstui.common.units import format_size as format_size  # the TUI's, like the CLI's

Clock = Callable[[], datetime]
system_clock: Clock = utc_now


NAMED_IN_CONFIRM = 5  # a bulk action names this many sessions, then "and N more"


def name_some(identifiers: list[str], shown: int = NAMED_IN_CONFIRM) -> str:
    """`a, b, c, d, e and 3 more`: what a bulk action applies to, named."""
    named = ", ".join(identifiers[:shown])
    rest = len(identifiers) - shown
    return f"{named} and {rest} more" if rest > 0 else named


def format_timestamp(when: datetime | None) -> str:
    """`2026-01-15 09:58:03` in UTC (what the API returns), or an em dash when unknown."""
    if when is None:
        return "—"
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def short_time(when: datetime | None) -> str:
    """`01-15 09:58` (UTC) for narrow table cells."""
    return "—" if when is None else when.astimezone(UTC).strftime("%m-%d %H:%M")


def format_countdown(expires_at: datetime | None, now: datetime) -> str:
    """Time left before the pool reclaims an idle session."""
    if expires_at is None:
        return "—"
    remaining = (expires_at - now).total_seconds()
    if remaining <= 0:
        return "expired"
    return format_duration(remaining)


def format_expiry(expires_at: datetime | None, now: datetime) -> str:
    """`in 4m55s` or `expired 1m20s ago`, for a sentence; an em dash when unknown."""
    if expires_at is None:
        return "—"
    if expires_at > now:
        return f"in {format_countdown(expires_at, now)}"
    return f"expired {format_age(expires_at, now)}"


def format_age(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "—"
    elapsed = (now - when).total_seconds()
    if elapsed < 1:
        return "just now"
    return f"{format_duration(elapsed)} ago"


def format_idle(when: datetime | None, now: datetime) -> str:
    """Time since `when`, compact for a table column ("0s", "1m42s")."""
    if when is None:
        return "—"
    return format_duration(max((now - when).total_seconds(), 0.0))


def format_elapsed_ms(milliseconds: float) -> str:
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    return f"{milliseconds / 1000:.2f} s"


def pool_label(endpoint: str) -> str:
    """A pool endpoint short enough for the header: `agents · rg-ai · westus2` for an ARM-style
    path (`…/resourceGroups/<rg>/sessionPools/<pool>` on `<region>.<domain>`; the group only
    when the path names one), else the endpoint without its scheme."""
    parts = urlsplit(endpoint)
    segments = [segment for segment in parts.path.split("/") if segment]
    named = {segments[index].lower(): segments[index + 1] for index in range(len(segments) - 1)}
    pool, group = named.get("sessionpools"), named.get("resourcegroups")
    if pool and parts.hostname:
        return " · ".join(part for part in (pool, group, parts.hostname.split(".")[0]) if part)
    return endpoint.split("://", 1)[-1].rstrip("/")


def display_path(path: Path) -> str:
    """A local path for a narrow line: the home directory as `~`."""
    try:
        inside = path.relative_to(Path.home())
    except ValueError:
        return str(path)
    return "~" if inside == Path() else f"~/{inside}"
