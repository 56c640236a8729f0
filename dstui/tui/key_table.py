"""The README's key table, written from the action registry (`scripts/key_table.py` prints it;
a test keeps the README's copy, between the markers, equal to it)."""

from __future__ import annotations

import re

from dstui.tui.actions import ACTIONS, CODE, GLOBAL, Action

BEGIN = "<!-- keys:begin -->"
END = "<!-- keys:end -->"

_KEY_NAMES = {"question_mark": "?", "slash": "/", "colon": ":", "escape": "esc"}

# Keys that are not dstui actions (movement, the editor's, a dialog's): documented, not remappable.
# (keys, where, what, touches the session)
OTHER_KEYS: tuple[tuple[str, str, str, bool], ...] = (
    (
        "`j/k` `g/G` `home/end` arrows",
        "Sessions, Files",
        "move; in Sessions the next page loads at the end",
        False,
    ),
    (
        "`enter` `tab` `backspace` `f7` `ctrl+a/ctrl+e`",
        "the editor",
        "new line, auto-indented / indent / back one level / select all / start, end of line "
        "(`?` in pane 3 lists every editor key)",
        False,
    ),
    (
        "`t` / `f`",
        "a text preview",
        "show the file's end (tail) / follow it, re-read every 2 s",
        True,
    ),
    ("`c`", "the messages", "copy the highlighted message with its hint and ids", False),
    (
        "`enter`",
        "Traffic, Timeline",
        "load an execution's code into its session's editor (the draft stays one ctrl+z away)",
        False,
    ),
    (
        "`esc`",
        "a field (filter, timeout, editor, package search)",
        "leave it for its pane, so pane keys work again",
        False,
    ),
    ("`ctrl+p`", "everywhere", "the command palette (every action, with its keys)", False),
    ("`ctrl+q`", "anywhere", "quit (asks first while a run or a transfer is in flight)", False),
)


def _keys(keys: str) -> str:
    names = (_KEY_NAMES.get(key.strip(), key.strip()) for key in keys.split(","))
    return ", ".join(f"`{name}`" for name in names)


def _pane(action: Action) -> str:
    if action.where == (GLOBAL,):
        return "everywhere" if action.priority else "outside the editor"
    return ", ".join("Code (the output)" if where == CODE else where for where in action.where)


def _row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def key_table() -> str:
    """Markdown: one row per registry entry, then the keys that are not remappable."""
    lines = [
        _row(("Key", "Pane", "Action", "↻", "`--read-only`", "Binding id")),
        "|---|---|---|---|---|---|",
    ]
    for action in ACTIONS:
        touches = "yes" if action.touches_session else ""
        hidden = "off" if action.read_only is not None else ""
        cells = (_keys(action.keys), _pane(action), action.help, touches, hidden, f"`{action.id}`")
        lines.append(_row(cells))
    for keys, pane, text, touches_session in OTHER_KEYS:
        lines.append(_row((keys, pane, text, "yes" if touches_session else "", "", "—")))
    return "\n".join(lines)


def readme_key_table(readme: str) -> str | None:
    """The table between the markers in the README's text; None without the markers."""
    found = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), readme, re.DOTALL)
    return found.group(1) if found else None


def with_key_table(readme: str) -> str:
    """The README's text with the table between the markers written afresh."""
    if readme_key_table(readme) is None:
        raise ValueError(f"the README has no {BEGIN} … {END} markers")
    pattern = re.escape(BEGIN) + r"\n.*?\n" + re.escape(END)
    return re.sub(pattern, lambda _: f"{BEGIN}\n{key_table()}\n{END}", readme, flags=re.DOTALL)
