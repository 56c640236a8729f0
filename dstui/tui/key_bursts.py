"""Keys a terminal delivers glued together: `esc` followed at once by another key.

A terminal sends alt+X as ESC X, so when `esc` and `1` arrive in one read (tmux send-keys, a
paste, a slow ssh link) they cannot be told apart from alt+1. Textual also reads ESC 1 … ESC =
as macOS option characters (`¡`, `™`, …), which then land in the editor. dstui binds no alt
key, so it reads every such pair as what an operator means: `esc`, then the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import XTermParser
from textual.keys import _character_to_key

ALT_PREFIX = "alt+"
# What may follow ESC to open a longer sequence (CSI, SS3, DCS, OSC, APC, PM, ST, SOS).
_SEQUENCE_OPENERS = frozenset("[O]P_^\\X")
_PATCHED = "_dstui_escape_pairs"


def read_escape_pairs_as_two_keys() -> None:
    """Drop Textual's ESC+digit → option-character table, so the parser reports alt+digit
    (and split_escape_prefix turns that into esc, digit). Idempotent."""
    option_characters = [
        sequence
        for sequence, meaning in ANSI_SEQUENCES_KEYS.items()
        if len(sequence) == 2 and sequence[0] == "\x1b" and isinstance(meaning, str)
    ]
    table = cast(dict[str, object], ANSI_SEQUENCES_KEYS)  # a plain dict, typed as Mapping
    for sequence in option_characters:
        del table[sequence]
    _end_escape_pairs_at_once()


def _end_escape_pairs_at_once() -> None:
    """ESC + a printable key is complete as it stands. Textual otherwise reads on, and when
    another ESC follows in the same burst (`esc 1 j esc 3` from tmux) it re-issues the lot
    with the first ESC as a typed `^`, which lands in the editor."""
    original = cast(Callable[..., Iterable[events.Key]], XTermParser._sequence_to_key_events)
    if getattr(original, _PATCHED, False):
        return

    def sequence_to_key_events(
        self: XTermParser, sequence: str, alt: bool = False
    ) -> Iterable[events.Key]:
        pair = escape_pair(sequence)
        if pair is not None:
            return pair
        return original(self, sequence, alt)

    setattr(sequence_to_key_events, _PATCHED, True)
    cast(Any, XTermParser)._sequence_to_key_events = sequence_to_key_events


def escape_pair(sequence: str) -> tuple[events.Key, events.Key] | None:
    """ESC then one printable key that opens no longer sequence: (esc, that key)."""
    if len(sequence) != 2 or sequence[0] != "\x1b" or sequence[1] in _SEQUENCE_OPENERS:
        return None
    return split_escape_prefix(events.Key(ALT_PREFIX + sequence[1], sequence[1]))


def split_escape_prefix(event: events.Key) -> tuple[events.Key, events.Key] | None:
    """alt+X with a printable X becomes (esc, X); anything else is left alone (None)."""
    character = event.character
    if not event.key.startswith(ALT_PREFIX) or character is None or len(character) != 1:
        return None
    if not character.isprintable() or character == " ":
        return None
    name = character if character.isalnum() else _character_to_key(character)
    return events.Key("escape", "\x1b"), events.Key(name, character)
