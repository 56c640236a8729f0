"""Everything the app needs besides the pool, in one object (tests build it explicitly)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from dstui import paths
from dstui.tui.formatting import Clock, system_clock


@dataclass(frozen=True)
class AppSettings:
    pool_label: str  # "local emulator — not Azure · …", "demo pool — fake data" or pool_label()
    identity: str | None = None  # signed-in identity, or the auth kind, when known
    read_only: bool = False
    theme: str | None = None  # --theme: this run only, wins over everything
    config_theme: str | None = None  # [tui] theme in the config file
    auto_refresh_s: float = 0.0
    download_dir: Path = field(default_factory=paths.default_download_dir)
    data_dir: Path = field(default_factory=paths.data_dir)
    keymap: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    keymap_lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    config_path: Path | None = None  # named in messages about the keymap
    upload_start_dir: Path = field(default_factory=Path.cwd)
    clock: Clock = system_clock
    # Deterministic rendering for snapshots: no blinking cursors, no animations, no version.
    test_mode: bool = False
    extra_theme_dirs: tuple[Path, ...] = ()
    emulator: bool = False  # the pool is the embedded emulator (shown plainly in the header)
