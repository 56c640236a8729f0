"""`--container-type CustomContainer`: a tiny stdlib http.server per session, reached through the
pool endpoint with `?identifier=…` (contract §4.3 for `/.management/*`), over real HTTP."""

from __future__ import annotations

import base64
import json
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from dstui.api import (
    BadRequestError,
    RequestValidationError,
    SessionsClient,
    StaticTokenProvider,
    new_identifier,
)
from dstui.doctor.access import check_access
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.emulator.sandbox import SANDBOX_RUNTIME_DIR
from tests.emulator.conftest import NEW, auth_headers
from tests.sandbox_marker import SUITE_SANDBOX

TARGET_PORT = 8080
_APP = """
import http.server, json, os, uuid
STARTED = uuid.uuid4().hex
class App(http.server.BaseHTTPRequestHandler):
    def answer(self):
        size = int(self.headers.get("Content-Length") or 0)
        seen = {
            "started": STARTED, "method": self.command, "path": self.path,
            "body": self.rfile.read(size).decode() if size else "",
            "authorization": self.headers.get("Authorization"),
            "port": os.environ["PORT"], "cwd": os.getcwd(),
        }
        data = json.dumps(seen).encode()
        self.send_response(418 if "teapot" in self.path else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-App", "tiny")
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_PUT = do_DELETE = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), App).serve_forever()
"""
_ENCODED = base64.b64encode(_APP.encode()).decode()
APP_COMMAND = f"python3 -c \"import base64; exec(base64.b64decode('{_ENCODED}'))\""


def custom_pool(**overrides: Any) -> EmulatorServer:
    settings: dict[str, Any] = {
        "container_type": "CustomContainer",
        "container_command": APP_COMMAND,
        "target_port": TARGET_PORT,
        "ready_sessions": 0,
        "sandbox": SUITE_SANDBOX,
    }
    settings.update(overrides)
    server = EmulatorServer(EmulatorConfig(**settings))
    server.start()
    return server


@pytest.fixture(scope="module")
def pool() -> Iterator[EmulatorServer]:
    server = custom_pool()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http(pool: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=pool.endpoint, headers=auth_headers(pool), timeout=60) as client:
        yield client


def test_any_path_reaches_the_sessions_own_app(http: httpx.Client) -> None:
    ident = new_identifier()
    answer = http.put("/api/items/7", params={"identifier": ident, "q": "x y"}, content=b"payload")
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-app"] == "tiny"
    seen = answer.json()
    assert (seen["method"], seen["body"]) == ("PUT", "payload")
    assert seen["path"].startswith("/api/items/7?") and "identifier=" in seen["path"]
    assert seen["authorization"] is None  # the caller's token never reaches the app
    encoded = http.get("/files/a%20b.txt", params={"identifier": ident}).json()["path"]
    assert encoded.startswith("/files/a%20b.txt?identifier=")
    teapot = http.get("/teapot", params={"identifier": ident})
    assert teapot.status_code == 418  # the app's own status, passed through
    assert teapot.json()["started"] == seen["started"]  # the same app answered

    other = http.get("/", params={"identifier": new_identifier()}).json()
    assert other["started"] != seen["started"]


def test_stop_session_ends_the_app_and_get_session_reads_it(http: httpx.Client) -> None:
    ident = new_identifier()
    params = {"api-version": NEW, "identifier": ident}
    first = http.get("/", params={"identifier": ident}).json()["started"]
    view = http.post("/.management/getSession", params=params)
    assert view.status_code == 200
    assert view.json()["identifier"] == ident and "expiresAt" in view.json()
    stopped = http.post("/.management/stopSession", params=params)
    assert stopped.text == f"Session {ident} in session pool emulator stopped."
    gone = http.post("/.management/getSession", params=params)
    assert gone.json()["error"]["code"] == "SessionWithIdentifierNotFound"
    assert http.get("/", params={"identifier": ident}).json()["started"] != first


def test_no_data_plane_list_or_files_without_an_identifier(http: httpx.Client) -> None:
    for path in ("/listSessions", "/files", "/metadata", "/session", "/executions/x"):
        answer = http.get(path, params={"api-version": NEW})
        assert answer.status_code == 400
        assert answer.headers["x-ms-error-code"] == "DynamicApisNotAllowed"
        assert "no data-plane session list or file API" in answer.json()["error"]["message"]
    app_path = http.get("/api/items", params={"api-version": NEW})
    assert app_path.status_code == 400
    assert app_path.json()["error"]["code"] == "SessionRequestValidationFailed"
    listed = http.post("/.management/listSessions", params={"api-version": NEW})
    assert listed.status_code == 200 and "value" in listed.json()


async def test_the_client_and_the_doctor_see_a_custom_container_pool(
    pool: EmulatorServer,
) -> None:
    assert pool.token is not None
    auth = StaticTokenProvider(pool.token)
    async with SessionsClient(pool.endpoint, auth=auth) as client:
        with pytest.raises(BadRequestError) as refused:
            await client.list_sessions_page()
    assert refused.value.code == "DynamicApisNotAllowed"
    assert "custom-container pool" in (refused.value.hint or "")
    outcome = await check_access(pool.endpoint, pool.token, api_version=NEW)
    assert outcome.result.status == "warn" and "custom-container" in outcome.result.finding


def test_an_app_that_exits_is_reported() -> None:
    server = custom_pool(container_command="echo broken >&2; exit 3")
    try:
        with httpx.Client(base_url=server.endpoint, headers=auth_headers(server)) as http:
            answer = http.get("/", params={"identifier": "broken-app"}, timeout=60)
    finally:
        server.stop()
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "ContainerAppUnavailable"


async def test_client_request_path(pool: EmulatorServer) -> None:
    assert pool.token is not None
    async with SessionsClient(pool.endpoint, auth=StaticTokenProvider(pool.token)) as client:
        ident = new_identifier()
        answer = await client.request_path(
            "post", "/echo", ident, b"abc", query={"k": "v"}, headers={"X-Mine": "1"}
        )
        assert (answer.status, answer.headers["x-app"]) == (200, "tiny")
        assert json.loads(answer.body)["path"].startswith("/echo?k=v&identifier=")
        cut = await client.request_path("GET", "teapot", ident, max_bytes=5)
        assert (cut.status, len(cut.body), cut.truncated) == (418, 5, True)
        view = await client.get_session(ident, management=True)
        assert view.identifier == ident
        assert "stopped" in await client.stop_session(ident)
        with pytest.raises(RequestValidationError):
            await client.request_path("GET", "/.management/getSession", ident)
        with pytest.raises(BadRequestError, match="no data-plane session list"):
            await client.list_sessions()


@pytest.mark.sandbox
def test_in_the_sandbox_every_app_listens_on_the_target_port(
    make_emulator: Callable[..., EmulatorServer],
) -> None:
    server = make_emulator(
        container_type="CustomContainer",
        container_command=APP_COMMAND,
        target_port=TARGET_PORT,
        sandbox="bwrap",
    )
    with httpx.Client(base_url=server.endpoint, headers=auth_headers(server), timeout=60) as http:
        seen = [http.get("/", params={"identifier": f"port-{n}"}).json() for n in range(2)]
    assert [s["port"] for s in seen] == [str(TARGET_PORT)] * 2
    assert {s["cwd"] for s in seen} == {"/mnt/data"}
    assert seen[0]["started"] != seen[1]["started"]


_SWAP_SOCKET = """
import os, signal, sys, time
sock = sys.argv[1] + "/app.sock"
while not os.path.exists(sock):
    time.sleep(0.01)
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if b"port_bridge" in open(f"/proc/{pid}/cmdline", "rb").read():
            os.kill(int(pid), signal.SIGKILL)
    except OSError:
        pass
os.unlink(sock)
os.symlink(sys.argv[2], sock)
open("/mnt/data/swapped", "w").close()
time.sleep(600)
"""


class _HostOnly(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"a host-only socket answered")

    def log_message(self, *args: object) -> None:
        pass


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.mark.sandbox
def test_the_app_cannot_point_the_bridge_socket_at_a_host_socket(
    make_emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """The bridge socket lives in a directory the sandboxed app can write: a symlink put
    there in its place must not lead the emulator's requests to a socket on the host."""
    host_socket = tmp_path / "host.sock"
    host_server = _UnixHTTPServer(str(host_socket), _HostOnly)
    threading.Thread(target=host_server.serve_forever, daemon=True).start()
    encoded = base64.b64encode(_SWAP_SOCKET.encode()).decode()
    command = (
        f"python3 -c \"import base64; exec(base64.b64decode('{encoded}'))\" "
        f"{SANDBOX_RUNTIME_DIR} {host_socket}"
    )
    server = make_emulator(
        container_type="CustomContainer",
        container_command=command,
        target_port=TARGET_PORT,
        sandbox="bwrap",
    )
    try:
        with httpx.Client(base_url=server.endpoint, headers=auth_headers(server)) as http_client:
            answers: list[tuple[int, str]] = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(answers) < 4:
                answer = http_client.get("/", params={"identifier": "swapper"}, timeout=40)
                answers.append((answer.status_code, answer.text))
                state = server.state
                assert state is not None
                swapped = any(
                    (session.container.data_dir / "swapped").exists()
                    for session in state.pool.sessions.values()
                )
                if not swapped:
                    time.sleep(0.1)
    finally:
        host_server.shutdown()
        host_server.server_close()
    assert swapped
    assert all("host-only" not in text for _, text in answers), answers
    assert answers[-1][0] == 502


def test_stopping_the_emulator_closes_each_apps_client_and_pinned_socket() -> None:
    server = custom_pool()
    try:
        assert server.state is not None
        routers = [close.__self__ for close in server.state.closers]  # type: ignore[attr-defined]
        assert [type(r).__name__ for r in routers] == ["CustomContainerRouter"]
        with httpx.Client(base_url=server.endpoint, headers=auth_headers(server)) as http:
            answer = http.get("/echo", params={"identifier": "closing-app"}, timeout=60)
        assert answer.status_code == 200
        apps = list(routers[0].apps.values())
        assert len(apps) == 1
    finally:
        server.stop()
    assert apps[0].client.is_closed
    assert apps[0].pinned_socket is None
    assert routers[0].apps == {}
