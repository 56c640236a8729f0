"""From LaunchOptions to a running app: pick the pool (demo, embedded emulator or an endpoint)."""

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
from dstui.config import TOKEN_ENV_VAR, ConfigError, Connection, TuiConfig, load_config
from dstui.recording.own_requests import request_log_observer
from dstui.recording.store import traffic_path, writable_recording
from dstui.tui.doctor_source import DoctorSource, emulator_source
from dstui.tui.formatting import Clock, pool_label, system_clock
from dstui.tui.launch import LaunchOptions
from dstui.tui.pool_directory import PoolDirectory, demo_directory

EMULATOR_LABEL = "local emulator — not Azure"
DEMO_LABEL = "demo pool — fake data"


@dataclass(frozen=True)
class ResolvedPool:
    pool: SessionPoolAPI | None  # None: the app opens on the pool picker
    label: str
    identity: str | None
    emulator: bool
    clock: Clock
    pools: PoolDirectory | None = None  # the picker's pools (ARM or the demo's)
    doctor: DoctorSource | None = None  # what the doctor screen (H) checks


PICK_A_POOL = "no pool yet — pick one"


def arm_directory(options: LaunchOptions) -> PoolDirectory | None:
    """The picker's pools from ARM; a picked pool is reached like a configured endpoint."""
    connection = options.arm_connection
    if options.arm is None or connection is None:
        return None

    def build(endpoint: str, _pool: object) -> SessionPoolAPI:
        return endpoint_client(connection, endpoint)

    return PoolDirectory(options.arm, build)  # ARM's client is built when first asked


def endpoint_client(connection: Connection, endpoint: str) -> SessionsClient:
    """The data-plane client for an endpoint: the configured one, or a picked pool's."""
    provider = make_token_provider(
        connection.auth, token=os.environ.get(TOKEN_ENV_VAR), token_file=connection.token_file
    )
    return SessionsClient(
        endpoint,
        api_version=connection.api_version,
        auth=provider,
        verify=connection.tls_verify,
        observer=request_log_observer(),
    )


@contextmanager
def resolve_pool(options: LaunchOptions) -> Iterator[ResolvedPool]:
    """Yields the pool for these options; an embedded emulator is stopped on exit."""
    if options.demo:
        from dstui.api.fake_pool import FakePool, ticking_clock  # only --demo needs the fake pool

        clock = ticking_clock()
        pool = FakePool(clock=clock, latency=0.15)
        yield ResolvedPool(pool, DEMO_LABEL, None, False, clock, demo_directory(clock))
        return
    connection = options.connection
    directory = arm_directory(options)
    if directory is not None and connection is None and not options.use_emulator:
        identity = f"auth {options.arm_connection.auth}" if options.arm_connection else None
        doctor = _doctor(options, options.arm_connection)
        yield ResolvedPool(None, PICK_A_POOL, identity, False, system_clock, directory, doctor)
        return
    if options.use_emulator or connection is None or connection.endpoint is None:
        from dstui.emulator import EmulatorConfig, EmulatorServer

        server = EmulatorServer(EmulatorConfig(), record=writable_recording(traffic_path()))
        server.start()
        try:
            auth = StaticTokenProvider(server.token) if server.token else None
            client = SessionsClient(server.endpoint, auth=auth, observer=request_log_observer())
            label = f"{EMULATOR_LABEL} · {pool_label(server.endpoint)}"
            doctor = emulator_source(server.endpoint, client.api_version, server.token)
            yield ResolvedPool(
                client, label, "emulator token", True, system_clock, directory, doctor
            )
        finally:
            server.stop()
        return
    client = endpoint_client(connection, connection.endpoint)
    label = pool_label(client.endpoint)
    identity = f"auth {connection.auth}"
    doctor = _doctor(options, connection)
    yield ResolvedPool(client, label, identity, False, system_clock, directory, doctor)


def _doctor(options: LaunchOptions, connection: Connection | None) -> DoctorSource | None:
    """The doctor checks the connection as `dstui doctor` would, with the picker's ARM."""
    if connection is None:
        return None
    return DoctorSource(connection, open_arm=options.arm)  # type: ignore[arg-type]


def run(options: LaunchOptions) -> int:
    """Open the app; returns the process exit code (never raises for expected failures)."""
    from dstui.tui.app import DstuiApp
    from dstui.tui.settings import AppSettings

    try:
        tui = load_config().tui
    except ConfigError as exc:
        print(f"dstui: {exc} ({exc.hint}); using default TUI settings", file=sys.stderr)
        tui = TuiConfig()
    try:
        with resolve_pool(options) as resolved:
            settings = AppSettings(
                pool_label=resolved.label,
                identity=resolved.identity,
                read_only=options.read_only,
                theme=options.theme,
                config_theme=tui.theme,
                auto_refresh_s=tui.auto_refresh_s,
                watch_interval_s=tui.watch_interval_s,
                download_dir=tui.download_dir,
                keymap=tui.keymap,
                keymap_lines=tui.keymap_lines,
                config_path=tui.source,
                clock=resolved.clock,
                emulator=resolved.emulator,
                arm=resolved.pools is not None,
                container_type=options.container_type,
                doctor=resolved.doctor,
            )
            app = DstuiApp(resolved.pool, settings, resolved.pools)
            app.run()
            return app.return_code or 0
    except DynamicSessionsError as exc:
        print(f"dstui: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"dstui: cannot start: {exc}", file=sys.stderr)
        return 2
