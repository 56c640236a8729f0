"""Custom-container pools (`--container-type CustomContainer`): the pool endpoint routes every
request naming a session (`?identifier=…`, any path) to that session's own app, started on
first use in the session's sandbox; only `/.management/*` is the pool's (contract §4.3).

Reaching the app: a session with its own network namespace (bwrap without --egress) has its
app listen on the target port inside it, bridged to a unix socket in the runtime dir (see
kernel_side/port_bridge.py), so every session may use the same port. Sharing the host's
network (--sandbox none, or --egress) they could not, so each app gets a free port instead.
Either way the app finds its port in $PORT.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from dstui.api.constants import DYNAMIC_APIS_NOT_ALLOWED
from dstui.emulator.dispatch import Call
from dstui.emulator.envelopes import VALIDATION_FAILED, ApiError, error_response
from dstui.emulator.kernel_side import port_bridge
from dstui.emulator.pool import Container, Session
from dstui.emulator.sandbox import SANDBOX_RUNTIME_DIR
from dstui.emulator.sandboxed_process import SandboxedProcess
from dstui.emulator.shell import BASH
from dstui.emulator.state import EmulatorState

logger = logging.getLogger("dstui.emulator")

APP_UNAVAILABLE = "ContainerAppUnavailable"  # the emulator's own code (the service's is unknown)
# First path segments of the data-plane APIs (both shapes) that name no session by themselves.
_DATA_PLANE_ROOTS = frozenset(
    {"listsessions", "metadata", "session", "files", "executions", "code"}
)
_START_TIMEOUT_S = 30.0
_REQUEST_TIMEOUT_S = 240.0  # beyond the 220 s execution cap
_MAX_REQUEST_BYTES = 100 * 1024 * 1024
_BRIDGE_SOCKET = "app.sock"
# Headers that belong to one hop, and the caller's credentials, never reach the app.
_DROPPED_HEADERS = frozenset(
    {
        "authorization",
        "connection",
        "host",
        "keep-alive",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
_DROPPED_ANSWER_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}
)
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
# The bridge first, in the background; then the app, as a shell command line.
_LAUNCH = '"$0" "$1" "$2" "$3" & exec /bin/bash -c "$4"'


@dataclass
class ContainerApp:
    process: SandboxedProcess
    client: httpx.AsyncClient
    base_url: str
    pinned_socket: int | None = None  # an O_PATH fd of the bridge socket (own network)

    async def aclose(self) -> None:
        await self.client.aclose()
        fd, self.pinned_socket = self.pinned_socket, None
        if fd is not None:
            os.close(fd)


def _pin_socket(path: Path) -> int:
    """An fd of the socket at `path`, itself: the sandboxed app can write the directory, and a
    symlink (or anything else) put there must not lead the emulator to a socket on the host.
    Connecting through /proc/self/fd/N reaches exactly this socket, whatever the path holds
    later."""
    try:
        fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise ApiError(
            502, APP_UNAVAILABLE, f"The session's bridge socket is gone: {exc}."
        ) from None
    if not stat.S_ISSOCK(os.fstat(fd).st_mode):
        os.close(fd)
        raise ApiError(502, APP_UNAVAILABLE, "The session's bridge socket was replaced.")
    return fd


def _unrouted(path: str) -> ApiError:
    """A request naming no session: the data-plane APIs (no identifier needed elsewhere) are
    refused as the service refuses them on this pool type, anything else lacks its identifier."""
    first = path.strip("/").split("/", 1)[0].lower()
    if first in _DATA_PLANE_ROOTS:
        return ApiError(
            400,
            DYNAMIC_APIS_NOT_ALLOWED,
            "This is a custom-container pool: it has no data-plane session list or file API. "
            "Use /.management/listSessions, or name a session with ?identifier=… to reach its app.",
        )
    return ApiError(
        400,
        VALIDATION_FAILED,
        "A custom-container pool routes requests by session: add ?identifier=….",
        target="identifier",
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class CustomContainerRouter:
    """ASGI: `/.management/*` to the pool's dispatcher, everything else to the session's app."""

    def __init__(self, state: EmulatorState, management: ASGIApp) -> None:
        self.state = state
        self.management = management
        self.apps: dict[str, ContainerApp] = {}  # by container id
        state.closers.append(self.close)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/.management/"):
            await self.management(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self._forward(request)
        except ApiError as error:
            response = error_response(error)
        except ClientDisconnect:
            return
        except OSError as exc:  # the app's sandbox could not start
            logger.warning("custom container start failed: %s", exc)
            response = error_response(
                ApiError(502, APP_UNAVAILABLE, "The session's app could not start.")
            )
        except Exception:
            logger.exception("routing to a custom container failed")
            response = error_response(
                ApiError(500, "InternalServerError", "The emulator failed to route the request.")
            )
        await response(scope, receive, send)

    async def _forward(self, request: Request) -> Response:
        identifier = request.query_params.get("identifier")
        if not identifier:
            raise _unrouted(request.scope["path"])
        call = Call(request, self.state, "", {}, time.monotonic())
        session, _ = call.open_session()  # checks the identifier; resets the cooldown
        app = await self._app_for(session)
        body = await self._body(request)
        headers = [
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in _DROPPED_HEADERS
        ]
        # The path as routed here (below a hosted pool's own prefix, if any), re-quoted.
        target = app.base_url + quote(request.scope["path"], safe=_PATH_SAFE)
        query = request.scope.get("query_string", b"").decode("latin-1")
        if query:
            target += "?" + query
        outgoing = app.client.build_request(request.method, target, headers=headers, content=body)
        try:
            answer = await app.client.send(outgoing, stream=True)
        except httpx.HTTPError as exc:
            alive = "" if app.process.alive else " (the app has exited)"
            raise ApiError(
                502, APP_UNAVAILABLE, f"The session's app did not answer{alive}: {exc}."
            ) from None
        self.state.pool.touch(session)
        response = StreamingResponse(_relay(answer), status_code=answer.status_code)
        response.raw_headers.extend(  # repeated ones (Set-Cookie) stay apart
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in answer.headers.multi_items()
            if name.lower() not in _DROPPED_ANSWER_HEADERS
        )
        return response

    async def _body(self, request: Request) -> bytes:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > _MAX_REQUEST_BYTES:
                raise ApiError(
                    413, "PayloadTooLarge", f"The body exceeds {_MAX_REQUEST_BYTES} bytes."
                )
        return bytes(body)

    async def _app_for(self, session: Session) -> ContainerApp:
        container = session.container
        for gone in [key for key, app in self.apps.items() if not app.process.alive]:
            await self.apps.pop(gone).aclose()  # its session was stopped or expired
        async with session.lock:
            app = self.apps.get(container.id)
            if app is not None and app.process.alive and app.process in container.processes:
                return app
            if app is not None:
                await self._drop(container, app)
            app = await self._start(container)
            self.apps[container.id] = app
            return app

    async def _drop(self, container: Container, app: ContainerApp) -> None:
        self.apps.pop(container.id, None)
        container.processes.discard(app.process)
        await app.process.stop()
        await app.aclose()

    async def _start(self, container: Container) -> ContainerApp:
        config, policy = self.state.config, self.state.pool.policy
        if config.container_command is None or config.target_port is None:
            raise ApiError(
                502, APP_UNAVAILABLE, "This pool has no --container-command and --target-port."
            )
        runtime_dir = container.next_runtime_dir()
        own_network = policy.kind == "bwrap" and not policy.egress
        if own_network:
            port = config.target_port
            runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            bridge = runtime_dir / "port_bridge.py"
            bridge.write_text(Path(port_bridge.__file__).read_text())
            inner = f"{SANDBOX_RUNTIME_DIR}/{bridge.name}"
            socket_inner = f"{SANDBOX_RUNTIME_DIR}/{_BRIDGE_SOCKET}"
            argv = [BASH, "-c", _LAUNCH, policy.python, inner, socket_inner, str(port)]
            argv.append(config.container_command)
        else:
            port = _free_port()
            argv = [BASH, "-c", config.container_command]
        process = SandboxedProcess(
            policy, container.data_dir, runtime_dir, argv, extra_env={"PORT": str(port)}
        )
        container.processes.add(process)
        try:
            await process.start(pipes=False)
        except BaseException:
            container.processes.discard(process)
            raise
        try:
            await self._wait_listening(process, runtime_dir / _BRIDGE_SOCKET, own_network, port)
            pinned = _pin_socket(runtime_dir / _BRIDGE_SOCKET) if own_network else None
        except BaseException:
            container.processes.discard(process)
            await process.stop()
            raise
        uds = f"/proc/self/fd/{pinned}" if pinned is not None else None
        client = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=uds),
            timeout=_REQUEST_TIMEOUT_S,
            follow_redirects=False,
        )
        base_url = "http://session-app" if own_network else f"http://127.0.0.1:{port}"
        return ContainerApp(process, client, base_url, pinned)

    async def _wait_listening(
        self, process: SandboxedProcess, bridge_socket: Path, own_network: bool, port: int
    ) -> None:
        """Until the bridge socket exists (own network) or the app's port accepts."""
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not process.alive:
                raise ApiError(502, APP_UNAVAILABLE, "The session's app exited at start.")
            if own_network and os.path.lexists(bridge_socket):
                return  # the bridge waits for the app itself
            if not own_network:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    pass
                else:
                    writer.close()
                    return
            await asyncio.sleep(0.05)
        raise ApiError(
            502, APP_UNAVAILABLE, f"The session's app did not listen within {_START_TIMEOUT_S} s."
        )

    async def close(self) -> None:
        for app in list(self.apps.values()):
            await app.aclose()
        self.apps.clear()


async def _relay(answer: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.aiter_raw():
            yield chunk
    finally:
        await answer.aclose()
