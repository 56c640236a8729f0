"""Shared test set-up: every test runs with its own config/data/cache dirs and no Azure env."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.sandbox_marker", "tests.emulator_fixtures"]

_CLEARED_PREFIXES = ("DSTUI_", "AZURE_")
_CLEARED_NAMES = ("POOL_MANAGEMENT_ENDPOINT", "ACA_POOL_MANAGEMENT_ENDPOINT")


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point platformdirs (XDG on Linux) at a temp dir and drop the user's pool settings."""
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ):
        (home / sub).mkdir(parents=True)
        monkeypatch.setenv(var, str(home / sub))
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_NAMES:
            monkeypatch.delenv(name)
    yield home
