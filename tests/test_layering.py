"""The layers stay visible: client and emulator never pull in the UI; widgets never talk HTTP;
`dstui.common`, which every layer may import, imports nothing but the standard library."""

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
        ("dstui.api", ("textual", "dstui.tui", "dstui.emulator", "dstui.cli", "dstui.recording")),
        # The one fake backend serves the CLI, the TUI and the benchmarks; Pillow only on a plot.
        ("dstui.api.fake_pool", ("textual", "dstui.tui", "dstui.emulator", "dstui.cli", "PIL")),
        ("dstui.emulator", ("textual", "dstui.tui", "dstui.cli", "dstui.proxy")),
        ("dstui.cli", ("textual", "dstui.tui")),
        ("dstui.recording", ("textual", "httpx", "dstui.api", "dstui.emulator", "dstui.tui")),
        ("dstui.recording.tap", ("textual", "httpx", "dstui.api", "dstui.tui")),
        ("dstui.proxy", ("textual", "dstui.tui", "dstui.cli")),
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


def test_recording_and_proxy_never_import_textual_and_the_store_no_http_client() -> None:
    offenders = []
    for folder, banned in (("recording", {"textual", "httpx", "httpcore"}), ("proxy", {"textual"})):
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            for name in _imported_roots(path):
                if name.split(".")[0] in banned or name.startswith("dstui.tui"):
                    offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert offenders == []


def test_common_imports_only_the_standard_library() -> None:
    offenders = []
    for path in sorted((PACKAGE / "common").rglob("*.py")):
        for name in _imported_roots(path):
            root = name.split(".")[0]
            inside = name == "dstui.common" or name.startswith("dstui.common.")
            if not inside and (root == "dstui" or root not in sys.stdlib_module_names):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _internal_imports(path: Path, modules: set[str]) -> set[str]:
    """Every dstui module `path` imports, lazily or for types only included. `from pkg import
    sub` counts as importing `pkg.sub`; relative imports are not used in dstui."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                targets.add(submodule if submodule in modules else node.module)
    return {target for target in targets if target in modules}


def test_no_import_cycle_in_the_package() -> None:
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: _internal_imports(path, set(paths)) - {name} for name, path in paths.items()}
    cycles: list[list[str]] = []
    done: set[str] = set()

    def walk(name: str, trail: list[str]) -> None:
        for target in sorted(graph[name]):
            if target in trail:
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in done:
                walk(target, [*trail, target])
        done.add(name)

    for name in sorted(graph):
        if name not in done:
            walk(name, [name])
    assert cycles == [], " | ".join(" -> ".join(cycle) for cycle in cycles)
