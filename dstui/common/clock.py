"""The current time, always timezone-aware UTC (what the API writes and compares)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A naive datetime is taken as UTC; an aware one is kept as it is."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
