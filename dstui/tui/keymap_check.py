"""Check `[tui.keymap]` against dstui's bindings before it is applied.

An unknown binding id, or a key that another binding in reach already uses (`run-code = "q"`
would take Quit's key), is reported with the config file and line, and left out.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding, BindingType
from textual.keys import key_to_character

from dstui.tui.actions import keys_meet


@dataclass(frozen=True, slots=True)
class KeymapProblem:
    binding_id: str
    line: int | None
    problem: str

    def describe(self, source: Path | None) -> str:
        where = str(source) if source is not None else "config"
        if self.line is not None:
            where += f", line {self.line}"
        return f"{where}: [tui.keymap] {self.problem}"


def _bindings(group: Sequence[BindingType]) -> list[Binding]:
    return [binding for binding in group if isinstance(binding, Binding)]


def _keys(keys: str) -> set[str]:
    return {key.strip() for key in keys.split(",") if key.strip()}


def check_keymap(
    keymap: Mapping[str, str],
    scopes: Mapping[str, Sequence[BindingType]],
    lines: Mapping[str, int] | None = None,
) -> tuple[dict[str, str], list[KeymapProblem]]:
    """(the entries that are safe to apply, the problems). `scopes` maps a target (a pane or
    a view) to its bindings; which targets' keys meet is `keys_meet`'s to say."""
    lines = lines or {}
    by_id: dict[str, tuple[str, Binding]] = {}
    for scope, group in scopes.items():
        for binding in _bindings(group):
            if binding.id is not None:
                by_id.setdefault(binding.id, (scope, binding))
    problems: list[KeymapProblem] = []
    accepted: dict[str, str] = {}
    for binding_id, keys in keymap.items():
        line = lines.get(binding_id)
        if binding_id not in by_id:
            close = difflib.get_close_matches(binding_id, sorted(by_id), n=1)
            guess = f"did you mean {close[0]!r}?" if close else "the README lists the ids"
            problems.append(
                KeymapProblem(binding_id, line, f"unknown binding id {binding_id!r} ({guess})")
            )
            continue
        accepted[binding_id] = keys

    def effective(binding: Binding) -> set[str]:
        return _keys(accepted.get(binding.id or "", binding.key))

    for binding_id, keys in list(accepted.items()):
        scope, binding = by_id[binding_id]
        problem = _clash_problem(binding_id, scope, keys, scopes, effective)
        typed = _typed_keys(_keys(keys)) if binding.priority else []
        if problem is None and typed:
            # A priority binding runs before the editor or a text field sees the key.
            problem = (
                f'{binding_id} = "{keys}" takes {typed[0]!r}, a key that types a character: '
                f"{binding_id} works while typing, so that character could no longer be "
                "typed; use a ctrl+, alt+ or function key; not applied"
            )
        if problem is not None:
            problems.append(KeymapProblem(binding_id, lines.get(binding_id), problem))
            del accepted[binding_id]
    problems.sort(key=lambda problem: problem.line or 0)  # in the order of the file
    return accepted, problems


def _clash_problem(
    binding_id: str,
    scope: str,
    keys: str,
    scopes: Mapping[str, Sequence[BindingType]],
    effective: Callable[[Binding], set[str]],
) -> str | None:
    clash = _clashing(binding_id, scope, _keys(keys), scopes, effective)
    if clash is None:
        return None
    other, key = clash
    label = other.description.removesuffix("↻") or other.action
    return f'{binding_id} = "{keys}" takes {key!r}, the key of {label} ({other.id}); not applied'


def _typed_keys(keys: set[str]) -> list[str]:
    """The keys among `keys` that type a character into a text field."""
    typed = []
    for key in sorted(keys):
        character = key_to_character(key)
        if character is not None and character.isprintable():
            typed.append(key)
    return typed


def _clashing(
    binding_id: str,
    scope: str,
    keys: set[str],
    scopes: Mapping[str, Sequence[BindingType]],
    effective: Callable[[Binding], set[str]],
) -> tuple[Binding, str] | None:
    for other_scope, group in scopes.items():
        if not keys_meet(scope, other_scope):
            continue
        for other in _bindings(group):
            if other.id == binding_id:
                continue
            shared = keys & effective(other)
            if shared:
                return other, sorted(shared)[0]
    return None
