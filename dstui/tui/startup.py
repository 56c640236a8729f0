"""From TuiOptions to a running app: pick the pool (demo, embedded emulator or an endpoint)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dstui.api.auth import StaticTokenProvider, make_token_provider
from dstui.api.client import SessionsClient
from dstui.api.errors import DynamicSessionsError
from dstui.api.protocol import SessionPoolAPI
from dstui.config import TOKEN_ENV_VAR, ConfigError, TuiSettings, load_config
from dstui.recording.own_requests import request_log_observer
from dstui.recording.store import traffic_path, writable_recording
from dstui.tui.formatting import Clock, pool_label, system_clock
from dstui.tui.options import TuiOptions

EMULATOR_LABEL = "local emulator — not Azure"
DEMO_LABEL = "demo pool — fake data"


@dataclass(frozen=True)
class ResolvedPool:
    pool: SessionPoolAPI
    label: str
    identity: str | None
    emulator: bool
    clock: Clock


@contextmanager
def resolve_pool(options: TuiOptions) -> Iterator[ResolvedPool]:
    """Yields the pool for these options; an embedded emulator is stopped on exit."""
    if options.demo:
        from dstui.api.fake_pool import FakePool, ticking_clock  # only --demo needs the fake pool

        clock = ticking_clock()
        yield ResolvedPool(FakePool(clock=clock, latency=0.15), DEMO_LABEL, None, False, clock)
        return
    connection = options.connection
    if options.use_emulator or connection is None or connection.endpoint is None:
        from dstui.emulator import EmulatorConfig, EmulatorServer

        server = EmulatorServer(EmulatorConfig(), record=writable_recording(traffic_path()))
        server.start()
        try:
            auth = StaticTokenProvider(server.token) if server.token else None
            client = SessionsClient(server.endpoint, auth=auth, observer=request_log_observer())
            label = f"{EMULATOR_LABEL} · {pool_label(server.endpoint)}"
            yield ResolvedPool(client, label, "emulator token", True, system_clock)
        finally:
            server.stop()
        return
    endpoint = connection.endpoint
    provider = make_token_provider(
        connection.auth, token=os.environ.get(TOKEN_ENV_VAR), token_file=connection.token_file
    )
    client = SessionsClient(
        endpoint,
        api_version=connection.api_version,
        auth=provider,
        verify=connection.tls_verify,
        observer=request_log_observer(),
    )
    label = pool_label(client.endpoint)
    yield ResolvedPool(client, label, f"auth {connection.auth}", False, system_clock)


def run(options: TuiOptions) -> int:
    """Open the app; returns the process exit code (never raises for expected failures)."""
    from dstui.tui.app import DstuiApp
    from dstui.tui.settings import AppSettings

    try:
        tui = load_config().tui
    except ConfigError as exc:
        print(f"dstui: {exc} ({exc.hint}); using default TUI settings", file=sys.stderr)
        tui = TuiSettings()
    try:
        with resolve_pool(options) as resolved:
            settings = AppSettings(
                pool_label=resolved.label,
                identity=resolved.identity,
                read_only=options.read_only,
                theme=options.theme,
                config_theme=tui.theme,
                auto_refresh_s=tui.auto_refresh_s,
                download_dir=tui.download_dir,
                keymap=tui.keymap,
                keymap_lines=tui.keymap_lines,
                config_path=tui.source,
                clock=resolved.clock,
                emulator=resolved.emulator,
            )
            app = DstuiApp(resolved.pool, settings)
            app.run()
            return app.return_code or 0
    except DynamicSessionsError as exc:
        print(f"dstui: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"dstui: cannot start: {exc}", file=sys.stderr)
        return 2
