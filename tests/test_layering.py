"""The layers stay visible: client and emulator never pull in the UI; widgets never talk HTTP."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dstui"


def _modules_after_import(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return set(json.loads(out))


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("dstui.api", ("textual", "dstui.tui", "dstui.emulator", "dstui.cli")),
        ("dstui.emulator", ("textual", "dstui.tui", "dstui.cli")),
        ("dstui.cli", ("textual", "dstui.tui")),
    ],
)
def test_lower_layers_do_not_import_upper_ones(module: str, forbidden: tuple[str, ...]) -> None:
    loaded = _modules_after_import(module)
    leaked = sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden))
    assert leaked == [], f"importing {module} pulled in {leaked}"


def test_emulator_uses_only_constants_from_the_client() -> None:
    for path in sorted((PACKAGE / "emulator").rglob("*.py")):
        for name in _imported_roots(path):
            if name.startswith("dstui.api"):
                assert name == "dstui.api.constants", f"{path.name} imports {name}"


def test_tui_never_imports_http_or_azure_libraries() -> None:
    offenders = []
    for path in sorted((PACKAGE / "tui").rglob("*.py")):
        for name in _imported_roots(path):
            if name.split(".")[0] in {"httpx", "azure", "httpcore"}:
                offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert offenders == []
