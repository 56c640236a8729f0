"""EmulatorServer: uvicorn + the emulator app on their own event loop in a background thread."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import socket
import stat
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from dstui.common.lifecycle import StartedService
from dstui.common.net import bind_tcp
from dstui.emulator.access_log import AccessLogMiddleware
from dstui.emulator.arm_pools import ArmPoolSpec
from dstui.emulator.arm_surface import DEFAULT_PAGE_SIZE, ArmSurface, HostedPool
from dstui.emulator.config import EmulatorConfig
from dstui.emulator.custom_container import CustomContainerRouter
from dstui.emulator.dispatch import Dispatcher
from dstui.emulator.envelopes import utc_now
from dstui.emulator.faults import DroppedConnectionFilter, FaultMiddleware, FaultPlan, parse_faults
from dstui.emulator.interpreter import InterpreterInfo, probe_interpreter
from dstui.emulator.pids_cgroup import PidsCgroups
from dstui.emulator.pool import SessionPool
from dstui.emulator.pool_router import ByLocalPort, PoolRouter, WithoutExecutorRole
from dstui.emulator.routes_extensions import ROUTES as EXTENSION_ROUTES
from dstui.emulator.routes_legacy import ROUTES as LEGACY_ROUTES
from dstui.emulator.routes_management import ROUTES as MANAGEMENT_ROUTES
from dstui.emulator.routes_new import ROUTES as NEW_ROUTES
from dstui.emulator.sandbox import (
    SandboxChoice,
    SandboxKind,
    SandboxPolicy,
    SessionLimits,
    resolve_sandbox,
)
from dstui.emulator.security import WILDCARD_HOSTS, SecurityMiddleware
from dstui.emulator.serving import serve_on
from dstui.emulator.state import EmulatorState
from dstui.emulator.tls import TlsFiles, make_tls_files
from dstui.recording.store import RecordingStore
from dstui.recording.tap import RecordingMiddleware

logger = logging.getLogger("dstui.emulator")

_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 30.0
_RUNTIME_PREFIX = "dstui-rt-"
_DATA_PREFIX = "dstui-emulator-"
# mkdtemp name (~25) + "/" + container (16) + "/kernel-N" (9) must stay under 107.
_MAX_RUNTIME_BASE = 55


def _runtime_base() -> str:
    """Where kernel sockets go: ipc socket paths may not exceed 107 characters."""
    base = tempfile.gettempdir()
    return base if len(base) <= _MAX_RUNTIME_BASE else "/tmp"


def remove_orphaned_temp_dirs() -> None:
    """Delete temp dirs left by emulators that were killed (their pid is in the name)."""
    bases = {Path(tempfile.gettempdir()), Path(_runtime_base())}
    for path in (found for base in bases for found in base.glob("dstui-*-*-*")):
        name = path.name
        prefix = next((p for p in (_RUNTIME_PREFIX, _DATA_PREFIX) if name.startswith(p)), None)
        pid_text = name[len(prefix) :].split("-", 1)[0] if prefix else ""
        if not (pid_text.isascii() and pid_text.isdigit()) or not _owned_directory(path):
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            continue


def _owned_directory(path: Path) -> bool:
    """A real directory of ours (not a link); False if it vanished meanwhile."""
    try:
        info = path.lstat()
    except OSError:  # removed by its own emulator since the glob
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()


def build_app(
    state: EmulatorState,
    *,
    token: str | None,
    faults: FaultPlan | None,
    seed: int | None,
    recording: RecordingStore | None = None,
    inner: ASGIApp | None = None,
) -> ASGIApp:
    """The guarded app around one pool's routes, or around `inner` (several pools)."""
    app: ASGIApp = inner or pool_routes(state)
    if faults is not None:
        app = FaultMiddleware(app, faults, seed)
    app = SecurityMiddleware(app, token=token, served_host=state.config.host)
    if recording is not None:  # outside the guards: refused requests are recorded too
        app = RecordingMiddleware(app, recording, source="emulator")
    return AccessLogMiddleware(app)


def pool_routes(state: EmulatorState) -> ASGIApp:
    if state.config.container_type == "CustomContainer":
        # Only /.management/* is the pool's; the rest goes to each session's own app.
        return CustomContainerRouter(state, Dispatcher(state, MANAGEMENT_ROUTES))
    return Dispatcher(state, (*NEW_ROUTES, *LEGACY_ROUTES, *MANAGEMENT_ROUTES, *EXTENSION_ROUTES))


def _url_host(host: str) -> str:
    if host in WILDCARD_HOSTS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


class EmulatorServer(StartedService):
    """A local session pool on a real HTTP port. start() blocks until it listens."""

    service_name = "emulator"

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        record: Path | None = None,
        arm_pools: Sequence[ArmPoolSpec] | None = None,
        arm_page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        """With `arm_pools`, every pool listed is hosted below its own endpoint path, and an
        ARM surface describing them listens on a second port (`arm_endpoint`); `endpoint` is
        then the first pool's."""
        self.config = config or EmulatorConfig()
        self.arm_pools = list(arm_pools) if arm_pools is not None else None
        self.arm_page_size = arm_page_size
        self.arm_endpoint = ""
        self.hosted: list[HostedPool] = []
        self.record = record  # a recording (dstui.recording) of every exchange served
        self.recording: RecordingStore | None = None
        self.token: str | None = None
        if self.config.auth:
            self.token = self.config.token or secrets.token_urlsafe(32)
        self.endpoint = ""
        self.ca_file: Path | None = None
        self.sandbox: SandboxKind | None = None
        self.sandbox_choice: SandboxChoice | None = None
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._state: EmulatorState | None = None
        self._states: list[EmulatorState] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._temp_dirs: list[Path] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def state(self) -> EmulatorState | None:
        """The running pool and settings (for benchmarks and diagnostics)."""
        return self._state

    def _launch(self) -> None:
        config = self.config
        faults = parse_faults(config.faults) if config.faults else None
        uvicorn_logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, DroppedConnectionFilter) for f in uvicorn_logger.filters):
            uvicorn_logger.addFilter(DroppedConnectionFilter())
        # It warns on stderr about each malformed upload; the client's 400 says the same.
        logging.getLogger("python_multipart").setLevel(logging.ERROR)
        self.sandbox_choice = resolve_sandbox(config.sandbox)
        self.sandbox = self.sandbox_choice.kind
        remove_orphaned_temp_dirs()
        pid = os.getpid()
        runtime_root = Path(
            tempfile.mkdtemp(prefix=f"{_RUNTIME_PREFIX}{pid}-", dir=_runtime_base())
        )
        self._temp_dirs.append(runtime_root)
        if config.data_dir is None:
            data_root = Path(tempfile.mkdtemp(prefix=f"{_DATA_PREFIX}{pid}-"))
            self._temp_dirs.append(data_root)
        else:
            data_root = config.data_dir.expanduser().resolve()
            data_root.mkdir(parents=True, exist_ok=True)
        tls = make_tls_files(runtime_root / "tls", config.host) if config.tls else None
        if self.record is not None:
            self.recording = RecordingStore(self.record)
        self.ca_file = tls.ca_file if tls else None
        sockets = [self._bind()]
        port = sockets[0].getsockname()[1]
        self.endpoint = f"{'https' if tls else 'http'}://{_url_host(config.host)}:{port}"
        if self.arm_pools is not None:
            try:
                sockets.append(self._bind(any_port=True))
            except OSError:
                sockets[0].close()
                raise
            arm_port = sockets[1].getsockname()[1]
            self.arm_endpoint = (
                f"{'https' if tls else 'http'}://{_url_host(config.host)}:{arm_port}"
            )
        serving = self._serve(sockets, data_root, runtime_root, tls, faults)
        self._serve_in_thread(asyncio.run, serving, _START_TIMEOUT_S)

    def _bind(self, *, any_port: bool = False) -> socket.socket:
        return bind_tcp(self.config.host, 0 if any_port else self.config.port)

    async def _serve(
        self,
        sockets: list[socket.socket],
        data_root: Path,
        runtime_root: Path,
        tls: TlsFiles | None,
        faults: FaultPlan | None,
    ) -> None:
        config = self.config
        self._loop = asyncio.get_running_loop()
        try:
            interpreter = await probe_interpreter(config.kernel_python)
            if self.arm_pools is None:
                state = await self._start_pool(config, interpreter, data_root, runtime_root)
                app = build_app(
                    state,
                    token=self.token,
                    faults=faults,
                    seed=config.seed,
                    recording=self.recording,
                )
            else:
                app = await self._host_arm_pools(
                    interpreter, data_root, runtime_root, faults, sockets[1].getsockname()[1]
                )
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    log_config=None,
                    access_log=False,
                    lifespan="off",
                    loop="asyncio",
                    http="h11",
                    timeout_graceful_shutdown=2,
                    ssl_certfile=str(tls.cert_file) if tls else None,
                    ssl_keyfile=str(tls.key_file) if tls else None,
                )
            )
            self._server = server
            await serve_on(server, sockets, self._ready, "emulator")
        finally:
            for sock in sockets:
                sock.close()
            for state in self._states:
                await state.close()

    async def _start_pool(
        self,
        config: EmulatorConfig,
        interpreter: InterpreterInfo,
        data_root: Path,
        runtime_root: Path,
    ) -> EmulatorState:
        """One running pool with these settings (its kernels, if any, start in the background)."""
        assert self.sandbox_choice is not None
        policy = SandboxPolicy(
            choice=self.sandbox_choice,
            egress=config.egress,
            python=interpreter.executable,
            python_prefixes=interpreter.prefixes,
            memory_limit_mb=config.memory_limit_mb,
            cpu_limit_s=config.cpu_limit_s,
            limits=SessionLimits(config.max_processes, config.tmp_size_mb, config.disk_quota_mb),
            cgroups=await asyncio.to_thread(PidsCgroups.create),
        )
        pool = SessionPool(
            policy=policy,
            data_root=data_root,
            runtime_root=runtime_root,
            cooldown_s=config.cooldown_s,
            max_sessions=config.max_sessions,
            # Only kernels take long to start; other pool types have none to pre-start.
            ready_sessions=config.ready_sessions if config.container_type == "PythonLTS" else 0,
            interrupt_grace_s=config.interrupt_grace_s,
        )
        state = EmulatorState(config, pool, interpreter, started_at=utc_now())
        self._states.append(state)
        self._state = self._state or state
        await pool.start()
        return state

    async def _host_arm_pools(
        self,
        interpreter: InterpreterInfo,
        data_root: Path,
        runtime_root: Path,
        faults: FaultPlan | None,
        arm_port: int,
    ) -> ASGIApp:
        """Every --arm pool below its endpoint path, and the ARM surface on `arm_port`."""
        assert self.arm_pools
        apps: dict[str, ASGIApp] = {}
        root = self.endpoint
        for index, spec in enumerate(self.arm_pools):
            pool_config = spec.emulator_config(self.config, first=index == 0)
            pool_runtime = runtime_root if index == 0 else self._extra_runtime_root()
            state = await self._start_pool(
                pool_config, interpreter, data_root / f"pool-{index}", pool_runtime
            )
            denied = spec.executor_scope == "none"
            apps[spec.endpoint_path] = (
                WithoutExecutorRole(spec.name) if denied else pool_routes(state)
            )
            self.hosted.append(HostedPool(spec, root + spec.endpoint_path, state))
        self.endpoint = self.hosted[0].endpoint
        assert self._state is not None
        pools_app = build_app(
            self._state,
            token=self.token,
            faults=faults,
            seed=self.config.seed,
            recording=self.recording,
            inner=PoolRouter(apps),
        )
        arm = ArmSurface(
            self.hosted,
            token=self.token,
            served_host=self.config.host,
            started_at=utc_now(),
            page_size=self.arm_page_size,
        )
        return ByLocalPort(arm_port, AccessLogMiddleware(arm), pools_app)

    def _extra_runtime_root(self) -> Path:
        """Each further pool's own short runtime dir (kernel socket paths stay short)."""
        prefix = f"{_RUNTIME_PREFIX}{os.getpid()}-"
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=_runtime_base()))
        self._temp_dirs.append(path)
        return path

    def stop(self) -> None:
        """Stop serving, kill every kernel, remove temporary files. Safe to call twice."""
        if self._server is not None:
            self._stop_kernels()
            self._server.should_exit = True
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(_STOP_TIMEOUT_S)
            if thread.is_alive():
                logger.error("the emulator thread did not stop in %s s", _STOP_TIMEOUT_S)
        for directory in self._temp_dirs:
            shutil.rmtree(directory, ignore_errors=True)
        self._temp_dirs.clear()
        self._server = None
        if self.recording is not None:
            self.recording.close()
            self.recording = None

    def _stop_kernels(self) -> None:
        """Kernels first: a request still waiting for its code (a client that quit mid-run)
        then ends at once, instead of being cancelled by uvicorn's graceful-shutdown timeout,
        which logs a traceback."""
        loop, states = self._loop, list(self._states)
        if loop is None or not states or loop.is_closed():
            return

        async def stop_all() -> None:
            await asyncio.gather(*(state.pool.stop_kernels() for state in states))

        try:
            asyncio.run_coroutine_threadsafe(stop_all(), loop).result(_STOP_TIMEOUT_S)
        except Exception:  # the loop may be gone already; close() below still cleans up
            logger.debug("stopping the kernels before shutdown failed", exc_info=True)
