"""Apps for the pool-type tests: the deterministic app of conftest, with a container type
override or a doctor source."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dstui.tui.app import DstuiApp
from dstui.tui.doctor_source import DoctorSource
from tests.tui.conftest import build_app


def typed_app(
    pool: Any, *, container_type: str | None = None, doctor: DoctorSource | None = None
) -> DstuiApp:
    app = build_app(pool)
    app.settings = replace(app.settings, container_type=container_type, doctor=doctor)
    main = app._main
    assert main is not None
    rebuilt = type(main)(pool, app.settings)
    app._main = rebuilt
    return app
