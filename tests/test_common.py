"""The helpers every layer shares, and the rules the client, CLI and TUI all check."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dstui.api.validation import timeout_problem, upload_size_problem
from dstui.common.auth_kinds import AUTH_KINDS
from dstui.common.clock import as_utc, utc_now
from dstui.common.net import is_loopback_host
from dstui.common.units import format_bytes, format_duration, format_size


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-5, "0s"), (0, "0s"), (59.9, "59s"), (245, "4m05s"), (7380, "2h03m"), (273600, "3d04h")],
)
def test_durations_are_compact_and_never_negative(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_sizes_share_one_unit_style() -> None:
    assert [format_bytes(n) for n in (512, 1536, 128 * 1024 * 1024)] == [
        "512 B",
        "1.5 KiB",
        "128.0 MiB",
    ]
    assert (format_size(None), format_size(None, unknown="-"), format_size(2048)) == (
        "—",
        "-",
        "2.0 KiB",
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("api.localhost", True),
        ("127.0.0.7", True),
        ("[::1]", True),
        ("::1", True),
        ("localhost.example.com", False),
        ("10.0.0.1", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_clock_is_aware_utc() -> None:
    assert utc_now().tzinfo is UTC
    assert as_utc(datetime(2026, 1, 1)).tzinfo is UTC


def test_auth_kinds_are_the_cli_choices() -> None:
    assert AUTH_KINDS == ("default", "cli", "device-code", "managed-identity", "token", "none")


@pytest.mark.parametrize(
    ("value", "problem"),
    [(1, None), (220, None), (0, "1-220 seconds, got 0"), (221, "got 221"), (True, "whole")],
)
def test_one_timeout_rule(value: object, problem: str | None) -> None:
    found = timeout_problem(value)
    assert found is None if problem is None else problem in (found or "")


def test_one_upload_size_rule() -> None:
    assert upload_size_problem(128 * 1024 * 1024) is None
    assert "over the upload limit of 128.0 MiB" in (
        upload_size_problem(128 * 1024 * 1024 + 1) or ""
    )
