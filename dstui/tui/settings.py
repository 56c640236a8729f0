"""Everything the running app needs besides the pool, resolved from the launch options, the
config file's `[tui]` table and the chosen pool, in one object (tests build it explicitly)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from dstui import paths
from dstui.config import WATCH_INTERVAL_DEFAULT_S
from dstui.tui.formatting import Clock, system_clock

if TYPE_CHECKING:
    from dstui.api.arm_models import SessionPoolResource
    from dstui.tui.doctor_source import DoctorSource


@dataclass(frozen=True)
class AppSettings:
    pool_label: str  # "local emulator — not Azure · …", "demo pool — fake data" or pool_label()
    identity: str | None = None  # signed-in identity, or the auth kind, when known
    read_only: bool = False
    theme: str | None = None  # --theme: this run only, wins over everything
    config_theme: str | None = None  # [tui] theme in the config file
    auto_refresh_s: float = 0.0
    watch_interval_s: float = WATCH_INTERVAL_DEFAULT_S  # watch files (w): between listings
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
    # The pool as ARM describes it, when it was opened from the pool picker (m shows it).
    pool_resource: SessionPoolResource | None = None
    pool_key: str = ""  # per-pool state (drafts) is kept under this key; "" for the first pool
    arm: bool = False  # ARM is configured: the picker and pool properties can ask it
    # --container-type: overrides what ARM or the first answers say (dstui/tui/pool_type.py).
    container_type: str | None = None
    doctor: DoctorSource | None = None  # what the doctor screen checks; None: no connection
