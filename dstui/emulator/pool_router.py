"""Several hosted pools on one port: each is served below its own path, shaped as the hosted
service shapes pool management endpoints (`/subscriptions/{s}/resourceGroups/{g}/sessionPools/
{name}`), so the data-plane client uses each endpoint unchanged. And one listener for the ARM
surface beside them, told apart by the local port the request arrived on."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from dstui.emulator.envelopes import ApiError, error_response
from dstui.emulator.file_errors import shown


class PoolRouter:
    """Hands a request below a pool's path prefix to that pool's app, with the prefix moved
    from `path` into `root_path` (the app's links are built from its base URL, prefix included)."""

    def __init__(self, apps: Mapping[str, ASGIApp]) -> None:
        self._apps = {prefix.rstrip("/").lower(): app for prefix, app in apps.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        lowered = path.lower()
        for prefix, app in self._apps.items():
            if lowered == prefix or lowered.startswith(prefix + "/"):
                child = dict(scope)
                child["root_path"] = scope.get("root_path", "") + path[: len(prefix)]
                child["path"] = path[len(prefix) :] or "/"
                child.pop("raw_path", None)
                await app(child, receive, send)
                return
        error = ApiError(
            404,
            "SessionPoolNotFound",
            f"No session pool is hosted at '{shown(path)}'.",
            target="path",
        )
        await error_response(error)(scope, receive, send)


class WithoutExecutorRole:
    """A pool whose caller holds no Session Executor role (`executor_scope = "none"`): every
    data-plane request gets the 403 the service gives, as ARM's role assignments say."""

    def __init__(self, pool_name: str) -> None:
        self._error = ApiError(
            403,
            "AuthorizationFailed",
            f"The caller does not hold the role 'Azure ContainerApps Session Executor' on the "
            f"session pool '{pool_name}' or above (the emulator's pools file says "
            'executor_scope = "none").',
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await error_response(self._error)(scope, receive, send)


class ByLocalPort:
    """Requests that arrived on `port` go to `app_on_port`, all others to `default`."""

    def __init__(self, port: int, app_on_port: ASGIApp, default: ASGIApp) -> None:
        self._port = port
        self._on_port = app_on_port
        self._default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        local_port = server[1] if server else None
        app = self._on_port if local_port == self._port else self._default
        await app(scope, receive, send)
