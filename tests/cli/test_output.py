"""JSON conversion, tables and time formatting."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dstui.api import ExecutionStatus, Session
from dstui.commands.output import (
    format_duration,
    format_expiry,
    format_size,
    iso_utc,
    render_fields,
    render_table,
    to_jsonable,
    write_json,
)

NOW = datetime(2026, 11, 22, 2, 5, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Sample:
    when: datetime
    status: ExecutionStatus
    where: Path
    raw: bytes
    items: tuple[int, ...]


def test_to_jsonable_converts_nested_values() -> None:
    sample = Sample(
        when=datetime(2026, 1, 2, 5, 0, tzinfo=timezone(timedelta(hours=2))),
        status=ExecutionStatus.SUCCEEDED,
        where=Path("/tmp/x"),
        raw=b"\x00\x01",
        items=(1, 2),
    )
    assert to_jsonable({"sample": sample}) == {
        "sample": {
            "when": "2026-01-02T03:00:00Z",
            "status": "Succeeded",
            "where": "/tmp/x",
            "raw": "AAE=",
            "items": [1, 2],
        }
    }


def test_write_json_of_sessions_is_stable_and_parseable() -> None:
    session = Session("abcd-1234", NOW, None, NOW + timedelta(minutes=5), None)
    stream = io.StringIO()
    write_json(stream, [session])
    assert json.loads(stream.getvalue()) == [
        {
            "identifier": "abcd-1234",
            "created_at": "2026-11-22T02:05:00Z",
            "last_accessed_at": None,
            "expires_at": "2026-11-22T02:10:00Z",
            "etag": None,
        }
    ]


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert iso_utc(datetime(2026, 1, 1, 12, 0)) == "2026-01-01T12:00:00Z"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (12.9, "12s"), (252, "4m12s"), (3720, "1h02m"), (2 * 86400 + 3 * 3600, "2d03h")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_expiry_future_and_past() -> None:
    assert format_expiry(NOW + timedelta(seconds=252), NOW) == (
        "2026-11-22T02:09:12Z (expires in 4m12s)"
    )
    assert format_expiry(NOW - timedelta(seconds=3), NOW) == "2026-11-22T02:04:57Z (expired 3s ago)"
    assert format_expiry(None, NOW) == "-"


@pytest.mark.parametrize(
    ("size", "text"),
    [(None, "-"), (0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (5 * 1024**3, "5.0 GiB")],
)
def test_format_size(size: int | None, text: str) -> None:
    assert format_size(size) == text


def test_render_table_aligns_columns_without_trailing_spaces() -> None:
    table = render_table(("NAME", "SIZE"), [("a", "1 B"), ("longer-name", "")])
    assert table.splitlines() == ["NAME         SIZE", "a            1 B", "longer-name"]


def test_render_fields_aligns_values() -> None:
    assert render_fields([("id", "x"), ("expires", "y")]) == "id:      x\nexpires: y"


def test_json_output_escapes_what_would_reach_the_terminal_raw() -> None:
    """json.dumps leaves DEL, C1 controls (\\x9b is a CSI) and bidi overrides raw; they are
    written as \\u escapes instead, so the JSON still says exactly the same."""
    name = "ev\x1b]0;x\x07il\u202etxt.exe\x7f\x9b2J\U000e0041 ok é"
    stream = io.StringIO()
    write_json(stream, {"name": name, "lines": ["a", "b"]})
    text = stream.getvalue()
    for raw in ("\x1b", "\x07", "\u202e", "\x7f", "\x9b", "\U000e0041"):
        assert raw not in text
    assert json.loads(text) == {"name": name, "lines": ["a", "b"]}
    assert "é" in text and "\n" in text  # readable text and the indentation stay as they were
