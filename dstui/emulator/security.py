"""Guards in front of every route: Host header (DNS rebinding) and the bearer token."""

from __future__ import annotations

import hmac
import ipaddress

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from dstui.common.net import is_loopback_host as is_loopback_name  # one home, shared
from dstui.emulator.envelopes import ApiError, error_response

WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def _host_name(host_header: str) -> str:
    """The host part of a Host header, without port, brackets or trailing dot."""
    text = host_header.strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    name, sep, port = text.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        text = name
    return text.rstrip(".")


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def host_allowed(host_header: str | None, served_host: str) -> bool:
    """Loopback names and addresses, or the host the emulator was told to serve (any port)."""
    if not host_header:
        return False
    name = _host_name(host_header)
    if is_loopback_name(name):
        return True
    served = served_host.strip("[]").lower()
    if name == served:
        return True
    # Bound to every interface: IP literals are fine (DNS rebinding needs a name).
    return served in WILDCARD_HOSTS and _ip(name) is not None


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, *, token: str | None, served_host: str) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.served_host = served_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        error: ApiError | None = None
        if not host_allowed(headers.get("host"), self.served_host):
            error = ApiError(
                421,
                "InvalidHostHeader",
                "The Host header names neither a loopback address nor the served host.",
                target="Host",
            )
        elif self.token is not None and not self._authorized(headers.get("authorization", "")):
            error = ApiError(
                401,
                "Unauthorized",
                "A valid bearer token is required.",
                headers={"WWW-Authenticate": 'Bearer realm="dstui-emulator"'},
            )
        if error is not None:
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, authorization: str) -> bool:
        assert self.token is not None
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credential.strip().encode(), self.token)
