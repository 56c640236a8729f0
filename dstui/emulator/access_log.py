"""One JSON line per request on the `dstui.emulator.access` logger; no query string, no token."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dstui.emulator.envelopes import timestamp, utc_now

access_logger = logging.getLogger("dstui.emulator.access")


def mask(identifier: str) -> str:
    if len(identifier) <= 8:
        return identifier[:1] + "…"
    return f"{identifier[:4]}…{identifier[-4:]}"


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 0

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            identifier = query.get("identifier", [""])[0]
            line = {
                "ts": timestamp(utc_now()),
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "api_version": query.get("api-version", [""])[0],
                "identifier": mask(identifier) if identifier else None,
            }
            access_logger.info(json.dumps(line, ensure_ascii=False))
