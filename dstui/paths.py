"""Where dstui keeps its files on this machine (platformdirs, so each OS gets its usual place)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "dstui"
CONFIG_ENV_VAR = "DSTUI_CONFIG"
CONFIG_FILE_NAME = "config.toml"


def config_dir() -> Path:
    return platformdirs.user_config_path(APP_NAME)


def config_file(environ: Mapping[str, str] | None = None) -> Path:
    """The config file: $DSTUI_CONFIG when set, else `config.toml` in the user config dir."""
    env = os.environ if environ is None else environ
    override = env.get(CONFIG_ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    return config_dir() / CONFIG_FILE_NAME


def data_dir() -> Path:
    """Per-user data (history of runs, downloads unless configured otherwise)."""
    return platformdirs.user_data_path(APP_NAME)


def default_download_dir() -> Path:
    return data_dir() / "downloads"


def cache_dir() -> Path:
    return platformdirs.user_cache_path(APP_NAME)
