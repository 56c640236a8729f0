"""The explorer's structure as issue 11 left it: flows in controllers, not in mixins on the main
screen, and process-wide knobs in one named place."""

from __future__ import annotations

import ast
from pathlib import Path

from dstui.tui.screens.base import PoolScreen
from dstui.tui.screens.main import MainScreen

TUI = Path(__file__).resolve().parents[2] / "dstui" / "tui"


def test_the_collector_is_tuned_in_one_place() -> None:
    """gc.freeze per page is a process-wide knob: one function, which every loader calls."""
    callers = []
    for path in sorted(TUI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("freeze", "disable")
                and isinstance(node.value, ast.Name)
                and node.value.id == "gc"
            ):
                callers.append(path.relative_to(TUI).as_posix())
    assert callers == ["gc_policy.py"]


def test_the_debugging_flows_are_controllers_not_mixins() -> None:
    bases = {cls.__name__ for cls in MainScreen.__mro__}
    assert "DebugActions" not in bases
    for shim in (
        "_load_into_editor",
        "session_touched",
        "confirm_revival",
        "_select",
        "_group_running",
        "_stamp",
    ):
        assert not hasattr(PoolScreen, shim), f"PoolScreen still has the shim {shim}"
