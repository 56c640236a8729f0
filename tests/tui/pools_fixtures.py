"""Apps with a pool picker behind them: the demo's FakeArm and FakePools, a fixed clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dstui.api.fake_arm import FakeArm, FakePoolSpec
from dstui.api.fake_pool import FakePool, frozen_clock
from dstui.api.protocol import SessionPoolAPI
from dstui.tui.app import DstuiApp
from dstui.tui.pool_directory import PoolDirectory, demo_directory
from dstui.tui.settings import AppSettings


def pool_settings(**overrides: Any) -> AppSettings:
    values: dict[str, Any] = {
        "pool_label": "demo pool — fake data",
        "identity": "auth token",
        "download_dir": Path("downloads"),
        "data_dir": Path("data"),
        "upload_start_dir": Path("upload-src"),
        "clock": frozen_clock,
        "test_mode": True,
        "arm": True,
    }
    values.update(overrides)
    return AppSettings(**values)


def demo_app(
    pool: SessionPoolAPI | None = None,
    directory: PoolDirectory | None = None,
    **settings: Any,
) -> DstuiApp:
    """The demo's five pools; `pool=None` opens on the picker (ARM, no endpoint)."""
    return DstuiApp(pool, pool_settings(**settings), directory or demo_directory(frozen_clock))


def many_pools_directory(pools: int, sessions: int, *, page_size: int = 300) -> PoolDirectory:
    """`pools` Python pools of `sessions` sessions each (benchmarks, the across-pools view)."""
    specs = [
        FakePoolSpec(f"pool{index:02d}", f"group{index % 5}", "westus2", max_sessions=600)
        for index in range(pools)
    ]

    def build(endpoint: str, _pool: object) -> SessionPoolAPI:
        return FakePool(session_count=sessions, page_size=page_size, endpoint=endpoint)

    return PoolDirectory(FakeArm(specs), build, keep_clients=True)
