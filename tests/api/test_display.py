"""The shared display helpers: escaped server text, safe local names, one unit style, and the
redaction of every token the process has held."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dstui.api import AzureCredentialTokenProvider, StaticTokenProvider
from dstui.api.display import escape_controls, format_bytes, has_unsafe_chars, safe_local_name
from dstui.api.errors import ApiError, redact


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain name.txt", "plain name.txt"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("a\nb\tc\rd", "a\\nb\\tc\\rd"),
        ("report\u202etxt.exe", "report\\u202etxt.exe"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("c1\x9bcontrol", "c1\\x9bcontrol"),
        ("ünïcødé 名前", "ünïcødé 名前"),
    ],
)
def test_control_characters_are_shown_as_visible_escapes(raw: str, shown: str) -> None:
    assert escape_controls(raw) == shown
    assert has_unsafe_chars(raw) == (raw != shown)


def test_messages_may_keep_their_line_breaks() -> None:
    assert escape_controls("one\ntwo\x1b", keep_newlines=True) == "one\ntwo\\x1b"


def test_local_names_replace_unsafe_characters() -> None:
    assert safe_local_name("\x1b[31mred\u202etxt.exe") == "_[31mred_txt.exe"
    assert safe_local_name("fine.csv") == "fine.csv"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KiB"),
        (146_800_640, "140.0 MiB"),
        (128 * 1024 * 1024, "128.0 MiB"),
        (3 * 1024**4, "3.0 TiB"),
    ],
)
def test_one_unit_style(size: int, text: str) -> None:
    assert format_bytes(size) == text


async def test_every_token_the_process_held_is_redacted() -> None:
    static = "static-opaque-token-000111222"
    StaticTokenProvider(static)
    issued = "credential-issued-opaque-333444555"
    credential = SimpleNamespace(
        get_token=lambda *scopes, **kw: SimpleNamespace(token=issued, expires_on=4_102_444_800)
    )
    assert await AzureCredentialTokenProvider(credential).get_token() == issued
    for token in (static, issued):
        error = ApiError(f"the server said: {token}!", hint=f"not {token}")
        assert token not in str(error)
        assert redact(f"<{token}>") == "<[redacted]>"


def test_short_strings_are_never_taken_for_tokens() -> None:
    StaticTokenProvider("abc")
    assert redact("abc is a word") == "abc is a word"


def test_error_messages_from_a_server_are_escaped() -> None:
    error = ApiError("failed: \x1b[2J\x1b]0;pwned\x07")
    assert "\x1b" not in str(error)
    assert "\\x1b[2J" in error.message
