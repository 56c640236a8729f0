"""Every stored snapshot still belongs to a test.

syrupy fails a serial run on an unused snapshot, but under pytest-xdist (which `make test`
uses) it skips that check, so a renamed or deleted snapshot test would leave its SVG behind
unnoticed. This test collects the snapshot modules in a subprocess and compares.
"""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "__snapshots__"
REPO = Path(__file__).parents[2]
_LEFT_OUT = set('\\/?*:|"<>')  # characters syrupy drops from a snapshot's file name


def snapshot_stem(nodeid: str) -> str:
    """`tests/tui/m.py::Class::test[p]` -> `Class.test[p]`, the SVG's name as syrupy gives it."""
    name = ".".join(nodeid.split("::")[1:])
    return "".join(
        c for c in name if c not in _LEFT_OUT and not unicodedata.category(c).startswith("C")
    )


def orphaned_snapshots(snapshot_dir: Path, nodeids: Iterable[str]) -> list[str]:
    """Stored SVGs (as `module/stem`) that no collected test would compare against."""
    expected = {f"{Path(n.split('::')[0]).stem}/{snapshot_stem(n)}" for n in nodeids}
    stored = {
        f"{folder.name}/{svg.stem}"
        for folder in snapshot_dir.iterdir()
        if folder.is_dir()
        for svg in folder.glob("*.svg")
    }
    return sorted(stored - expected)


def test_orphans_are_found(tmp_path: Path) -> None:
    (tmp_path / "test_m").mkdir()
    for stem in ("TestA.test_x[1]", "test_y", "test_gone"):
        (tmp_path / "test_m" / f"{stem}.svg").write_text("<svg/>")
    (tmp_path / "test_old_module").mkdir()
    (tmp_path / "test_old_module" / "test_z.svg").write_text("<svg/>")
    ids = ["tests/tui/test_m.py::TestA::test_x[1]", "tests/tui/test_m.py::test_y"]
    assert orphaned_snapshots(tmp_path, ids) == ["test_m/test_gone", "test_old_module/test_z"]


def test_every_stored_snapshot_belongs_to_a_test() -> None:
    modules = [
        Path(__file__).parent / f"{folder.name}.py"
        for folder in sorted(SNAPSHOTS.iterdir())
        if folder.is_dir()
    ]
    existing = [str(module.relative_to(REPO)) for module in modules if module.exists()]
    if not existing:  # without paths pytest would collect the whole suite
        assert not orphaned_snapshots(SNAPSHOTS, [])
        return
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *existing],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    nodeids = [line for line in collected.stdout.splitlines() if "::" in line]
    assert nodeids, collected.stdout[-2000:]
    orphans = orphaned_snapshots(SNAPSHOTS, nodeids)
    assert not orphans, f"snapshots without a test (delete them or restore the test): {orphans}"
