"""ProxyServer: uvicorn + the proxy app on their own event loop in a background thread."""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpcore
import httpx
import uvicorn
from starlette.types import ASGIApp

from dstui.api.auth import TokenProvider
from dstui.common.lifecycle import StartedService
from dstui.common.net import bind_tcp
from dstui.emulator.security import is_loopback_name
from dstui.emulator.serving import serve_on
from dstui.emulator.tls import make_tls_files
from dstui.proxy.coalesce import CorkedH11Protocol, UpstreamBackend
from dstui.proxy.forward import Forwarder, ProxyGuard, UpstreamBroke
from dstui.recording.store import RecordingStore
from dstui.recording.tap import RecordingMiddleware

_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 15.0
_MAX_UPSTREAM_CONNECTIONS = 100
_KEEPALIVE_S = 30.0


class ProxyConfigError(ValueError):
    """An upstream or option the proxy refuses; the message says why."""


@dataclass(frozen=True)
class ProxyOptions:
    upstream: str
    port: int = 0
    host: str = "127.0.0.1"
    tls: bool = False
    record: Path | None = None  # None: forward only
    upstream_auth: TokenProvider | None = None  # set: attach it, require the proxy's own token
    verify: bool | str = True  # the upstream's certificate: system trust, or a CA file


def check_upstream(text: str) -> httpx.URL:
    """The upstream as a URL: https, or http on loopback only (an emulator)."""
    shown = _shown_url(text)
    try:
        url = httpx.URL(text.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise ProxyConfigError(f"--upstream {shown} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ProxyConfigError(
            f"--upstream {shown} must be an http(s) URL with a host, e.g. the pool "
            "management endpoint"
        )
    if url.scheme == "http" and not is_loopback_name(url.host):
        raise ProxyConfigError(
            f"--upstream {shown}: plain http is only allowed to a loopback address; a pool is "
            "reached over https"
        )
    if url.userinfo:
        raise ProxyConfigError(
            f"--upstream {shown}: give the endpoint without a user name or password in it"
        )
    if url.query or url.fragment:
        raise ProxyConfigError(f"--upstream {shown}: give the endpoint without query or fragment")
    return url


def _shown_url(text: object) -> str:
    """The URL for an error message, without the parts that may hold a secret (user info,
    query, fragment)."""
    if not isinstance(text, str):
        return "(not text)"
    try:
        parts = urlsplit(text.strip())
        netloc = parts.netloc.rpartition("@")[2]
        cut = "…" if "@" in parts.netloc or parts.query or parts.fragment else ""
    except ValueError:
        return "(unreadable URL)"
    if not parts.scheme:
        return "(the URL given)" if set("@?#") & set(text) else repr(text[:80])
    return repr(f"{parts.scheme}://{netloc}{parts.path}{cut}")


class _QuietUpstreamBreaks(logging.Filter):
    """uvicorn would log a traceback for each answer the upstream cut off; that is the
    upstream's doing, recorded as such, not a proxy bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], UpstreamBroke))


class ProxyServer(StartedService):
    """start() blocks until the proxy listens; `endpoint` is then what agents should use."""

    service_name = "proxy"

    def __init__(self, options: ProxyOptions) -> None:
        if not is_loopback_name(options.host):
            raise ProxyConfigError(f"the proxy binds loopback only, not {options.host!r}")
        self.options = options
        self.upstream = check_upstream(options.upstream)
        self.client_token = secrets.token_urlsafe(32) if options.upstream_auth else None
        self.endpoint = ""
        self.ca_file: Path | None = None
        self.store: RecordingStore | None = None
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._temp_dir: Path | None = None
        self._log_filter = _QuietUpstreamBreaks()

    def _launch(self) -> None:
        options = self.options
        if options.record is not None:
            self.store = RecordingStore(options.record)
        tls = None
        if options.tls:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="dstui-proxy-tls-"))
            tls = make_tls_files(self._temp_dir, options.host)
            self.ca_file = tls.ca_file
        sock = bind_tcp(options.host, options.port)
        port = sock.getsockname()[1]
        host = f"[{options.host}]" if ":" in options.host else options.host
        base_path = self.upstream.raw_path.decode("ascii").rstrip("/")
        self.endpoint = f"{'https' if tls else 'http'}://{host}:{port}{base_path}"
        logging.getLogger("uvicorn.error").addFilter(self._log_filter)
        config = uvicorn.Config(
            "dstui.proxy:unused",  # replaced by the app built on the server's loop
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http=CorkedH11Protocol,  # h11 (it shows absolute-form targets), writes corked
            server_header=False,  # the upstream's Date and Server come back instead
            date_header=False,
            proxy_headers=False,  # X-Forwarded-* from a local client mean nothing here
            timeout_graceful_shutdown=2,
            ssl_certfile=str(tls.cert_file) if tls else None,
            ssl_keyfile=str(tls.key_file) if tls else None,
        )
        self._serve_in_thread(_run_loop, self._serve(config, sock), _START_TIMEOUT_S)

    def build_app(self, pool: httpcore.AsyncConnectionPool) -> ASGIApp:
        forwarder = Forwarder(pool, self.upstream, self.options.upstream_auth)
        app: ASGIApp = ProxyGuard(forwarder, token=self.client_token)
        if self.store is not None:
            origin = f"{self.upstream.scheme}://{self.upstream.netloc.decode('ascii')}"
            app = RecordingMiddleware(
                app,
                self.store,
                source="proxy",
                origin=origin,
                secrets=lambda: tuple(forwarder.attached_tokens),
            )
        return app

    async def _serve(self, config: uvicorn.Config, sock: socket.socket) -> None:
        try:
            # httpcore never reads proxy settings from the environment: only to the upstream.
            async with httpcore.AsyncConnectionPool(
                ssl_context=_ssl_context(self.options.verify),
                max_connections=_MAX_UPSTREAM_CONNECTIONS,
                keepalive_expiry=_KEEPALIVE_S,
                network_backend=UpstreamBackend(),
            ) as pool:
                config.app = self.build_app(pool)
                server = uvicorn.Server(config)
                self._server = server
                await serve_on(server, sock, self._ready, "proxy")
        finally:
            sock.close()

    def stop(self) -> None:
        """Stop serving, close the recording, remove the TLS files. Safe to call twice."""
        if self._server is not None:
            self._server.should_exit = True
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(_STOP_TIMEOUT_S)
        self._server = None
        logging.getLogger("uvicorn.error").removeFilter(self._log_filter)
        if self.store is not None:
            self.store.close()
            self.store = None
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """The upstream's certificate must be trusted: by the CA file given, else certifi's."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    if not verify:
        raise ProxyConfigError("the proxy always verifies the upstream's certificate")
    return ssl.create_default_context(cafile=certifi.where())


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """uvloop when it is installed (a faster event loop: less time per request), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)
