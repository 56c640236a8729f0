"""One JSON line per request on the `dstui.emulator.access` logger; no query string, no token.

Inner layers add remarks to a request's line with `note(scope, key, text)`: an injected fault,
or a warning that the live service may answer differently. A response that did not reach its
end (a dropped connection) is logged with `"status": null` and an `outcome` saying how far it got.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dstui.emulator.envelopes import timestamp, utc_now

access_logger = logging.getLogger("dstui.emulator.access")
# Characters JSON leaves raw that a terminal acts on: C1 controls, bidi and invisible formatting.
_UNSAFE_RE = re.compile("[\u0080-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_NOTES_KEY = "dstui.access_notes"


def mask(identifier: str) -> str:
    if len(identifier) <= 8:
        return identifier[:1] + "…"
    return f"{identifier[:4]}…{identifier[-4:]}"


def note(scope: Scope, key: str, text: str) -> None:
    """Add `key: text` to this request's access-log line (a no-op when the log is off)."""
    notes = scope.get(_NOTES_KEY)
    if notes is not None:
        notes[key] = text


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        notes: dict[str, str] = {}
        scope[_NOTES_KEY] = notes
        status, body_bytes, complete = 0, 0, False
        failure: BaseException | None = None

        async def recording_send(message: Message) -> None:
            nonlocal status, body_bytes, complete
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body_bytes += len(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            identifier = query.get("identifier", [""])[0]
            line: dict[str, Any] = {
                "ts": timestamp(utc_now()),
                "method": scope["method"],
                "path": scope["path"],
                "status": status if complete else None,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "api_version": query.get("api-version", [""])[0],
                "identifier": mask(identifier) if identifier else None,
            }
            if not complete:
                line["outcome"] = _incomplete(notes, failure, status, body_bytes)
            line.update(notes)
            access_logger.info(_terminal_safe(json.dumps(line, ensure_ascii=False)))


def _terminal_safe(text: str) -> str:
    return _UNSAFE_RE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _incomplete(
    notes: dict[str, str], failure: BaseException | None, status: int, body_bytes: int
) -> str:
    if "drop" in notes.get("fault", ""):
        how = "connection dropped (injected fault)"
    elif failure is not None:
        how = f"response aborted ({type(failure).__name__})"
    else:
        how = "response not finished (client gone)"
    sent = f"the {status} headers and {body_bytes} body bytes" if status else "nothing"
    return f"{how} after {sent}"
