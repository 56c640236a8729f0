"""The doctor engine and the prune engine stay UI-free: a TUI screen and the CLI share them."""

from __future__ import annotations

import pytest

from tests.test_layering import _modules_after_import


@pytest.mark.parametrize("module", ["dstui.doctor", "dstui.doctor.arm", "dstui.api.prune"])
def test_engines_import_no_ui_and_no_commands(module: str) -> None:
    loaded = _modules_after_import(module)
    for forbidden in ("textual", "dstui.tui", "dstui.cli", "dstui.commands"):
        assert not any(m == forbidden or m.startswith(forbidden + ".") for m in loaded), forbidden
