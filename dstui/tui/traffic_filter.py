"""The Traffic view's one filter field: `key:value` terms, or bare words that say what they are.

`id:probe-1 op:execute status:4xx` — or just `probe-1 execute 4xx`: a status looks like one
(`404`, `5xx`, `failed`), an operation is one of the recorded names, anything else is the
session identifier.
"""

from __future__ import annotations

from dataclasses import replace

from dstui.recording.store import Filter

OPERATIONS = (
    "execute",
    "get-execution",
    "upload",
    "download",
    "list-files",
    "file-info",
    "delete-file",
    "get-session",
    "delete-session",
    "list-sessions",
    "metadata",
    "management",
    "emulator-extension",
    "unknown",
)
_KEYS = {
    "id": "identifier",
    "identifier": "identifier",
    "session": "identifier",
    "op": "operation",
    "operation": "operation",
    "status": "status",
}
FILTER_HELP = "id:ID op:execute status:4xx|404|failed (or bare words)"


class FilterSyntaxError(ValueError):
    """The filter text cannot be read; the message says which term and what is allowed."""


def _is_status(word: str) -> bool:
    word = word.lower()
    if word == "failed":
        return True
    if len(word) == 3 and word[0].isdigit() and word[1:] == "xx":
        return True
    return len(word) == 3 and word.isdigit()


def parse_filter(text: str) -> Filter:
    """The store filter these terms ask for; a term given twice is an error, not a guess."""
    found = Filter()
    for term in text.split():
        key, colon, value = term.partition(":")
        if colon and key.lower() in _KEYS:
            field = _KEYS[key.lower()]
        elif _is_status(term):
            field, value = "status", term
        elif term.lower() in OPERATIONS:
            field, value = "operation", term.lower()
        else:
            field, value = "identifier", term
        if not value:
            raise FilterSyntaxError(f"{term!r} has no value; use {FILTER_HELP}")
        if field == "status" and not _is_status(value):
            raise FilterSyntaxError(f"status {value!r}: use a code (404), a class (4xx) or failed")
        if field == "operation" and value.lower() not in OPERATIONS:
            raise FilterSyntaxError(
                f"unknown operation {value!r}; known: {', '.join(OPERATIONS[:-1])}"
            )
        if getattr(found, field) is not None:
            raise FilterSyntaxError(f"{field} is given twice ({term!r})")
        normalised = value.lower() if field in ("operation", "status") else value
        found = replace(found, **{field: normalised})
    return found


def describe_filter(where: Filter) -> str:
    """`identifier probe-1 · execute · status 4xx`, or `everything`."""
    parts = []
    if where.identifier is not None:
        parts.append(f"identifier {where.identifier}")
    if where.operation is not None:
        parts.append(where.operation)
    if where.status is not None:
        parts.append(f"status {where.status}")
    return " · ".join(parts) or "everything"
