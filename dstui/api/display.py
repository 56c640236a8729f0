"""How server text and sizes look when shown to a person, in the CLI and the TUI alike.

Names and messages come from the server, so they may carry terminal escape sequences, line
breaks or bidi overrides that would repaint a terminal or disguise a name. They are shown with
those characters escaped (`\\x1b`, `\\n`, `\\u202e`), never raw.
"""

from __future__ import annotations

import unicodedata

from dstui.common.units import format_bytes as format_bytes  # one home; kept here for importers

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def is_unsafe_char(ch: str) -> bool:
    """Controls (C0, DEL, C1), format characters (bidi overrides and isolates, zero-width
    joiners: invisible, yet they reorder or hide text), line and paragraph separators, and
    lone surrogates."""
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _escape_char(ch: str) -> str:
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every unsafe character written as a visible escape; a backslash stays one
    (so the output is readable, not reversible). `keep_newlines` leaves `\\n` for messages
    that are meant to span lines."""
    if text.isprintable():  # the common case, at C speed
        return text
    return "".join(
        ch if not is_unsafe_char(ch) or (keep_newlines and ch == "\n") else _escape_char(ch)
        for ch in text
    )


def has_unsafe_chars(text: str) -> bool:
    return not text.isprintable() and any(is_unsafe_char(ch) for ch in text)


def safe_local_name(name: str) -> str:
    """A local file name for a remote one: each unsafe character becomes `_`, so a name from
    a listing can neither spoof the terminal nor hide its extension (U+202E)."""
    if not has_unsafe_chars(name):
        return name
    return "".join("_" if is_unsafe_char(ch) else ch for ch in name)
