"""A screen's keys as one static line: what Footer shows, without its widget per key (the
across-pools view mounts it while 30,000 rows stream in, and Footer recomposes on every
binding change)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding, BindingType
from textual.content import Content

_SHOWN_KEYS = {"escape": "esc", "slash": "/", "space": "space", "enter": "⏎"}


def key_line(bindings: Iterable[BindingType]) -> Content:
    parts: list[Content] = []
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.show or not binding.description:
            continue
        key = binding.key.split(",")[0]
        shown = _SHOWN_KEYS.get(key, key.replace("ctrl+", "^"))
        parts.append(Content.assemble((shown, "bold $accent"), " ", binding.description))
    return Content("  ").join(parts)
