"""The wheel carries the bundled themes, and an installed copy finds them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).resolve().parents[2]


def test_themes_ship_in_the_wheel_and_are_found_there(tmp_path: Path) -> None:
    wheel = next(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(site)
    assert {"dstui/_themes/dstui-dark.toml", "dstui/_themes/dstui-light.toml"} <= names
    # From the unpacked wheel (first on the path, ahead of the editable checkout):
    probe = "from dstui.tui.themes import bundled_themes_dir; print(bundled_themes_dir())"
    found = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,  # not the checkout, which `python -c` would put first on the path
        env={"PYTHONPATH": str(site), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(found) == site / "dstui" / "_themes"
