"""Exchanges as a curl command (the token as "$DSTUI_TOKEN") or as a HAR 1.2 log.

Neither ever holds a credential: none is recorded in the first place.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dstui import __version__
from dstui.recording.exchange import Exchange

TOKEN_VARIABLE = "DSTUI_TOKEN"
# Headers a re-sent request needs to mean the same; the rest (user agent, ids) is incidental.
_CURL_HEADERS = ("content-type", "accept", "operation-id")


class ExportError(Exception):
    """The exchange cannot be exported faithfully; the message says why."""


def url_of(exchange: Exchange) -> str:
    return exchange.origin + exchange.path + (f"?{exchange.query}" if exchange.query else "")


def curl_command(exchange: Exchange) -> str:
    """A command that sends the same request again once DSTUI_TOKEN is set."""
    if not exchange.origin:
        raise ExportError(f"exchange {exchange.id} has no recorded endpoint to send it to")
    _check_origin(exchange)
    words = ["curl", "-sS", "-X", shlex.quote(exchange.method), shlex.quote(url_of(exchange))]
    words += ["-H", f'"Authorization: Bearer ${TOKEN_VARIABLE}"']
    headers = exchange.request_headers
    multipart = headers.get("content-type", "").lower().startswith("multipart/")
    for name in _CURL_HEADERS:
        if name in headers and not (multipart and name == "content-type"):
            words += ["-H", shlex.quote(f"{name}: {headers[name]}")]
    if multipart:
        name = exchange.file_name or "FILE"
        local = name.rsplit("/", 1)[-1]
        words += ["-F", shlex.quote(f"file=@{local};filename={local}")]
    elif exchange.request_body is not None:
        if exchange.body_cut:
            raise ExportError(
                f"exchange {exchange.id}: its body was larger than the recording keeps whole, "
                "so a curl command would not be exact"
            )
        words += ["--data-binary", shlex.quote(exchange.request_body)]
    elif exchange.bytes_sent:
        raise ExportError(
            f"exchange {exchange.id}: its {exchange.bytes_sent}-byte body was not JSON and was "
            "not recorded"
        )
    if exchange.file_direction == "download" and exchange.file_name:
        words += ["-o", shlex.quote(exchange.file_name.rsplit("/", 1)[-1])]
    return " \\\n  ".join(_pairs(words))


def _check_origin(exchange: Exchange) -> None:
    """The token goes only where dstui itself sent requests: a proxy's or dstui's own
    recorded upstream (taken from configuration), or a loopback emulator; an emulator's
    older recordings took their origin from a client's Host header."""
    if exchange.source != "emulator":
        return
    host = urlsplit(exchange.origin).hostname or ""
    if host != "localhost" and not _is_loopback(host):
        raise ExportError(
            f"exchange {exchange.id}: it was recorded for {exchange.origin!r}, not a loopback "
            "emulator address, so no command sending the token there is written"
        )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pairs(words: list[str]) -> list[str]:
    """The command's words, one option and its value a line."""
    lines = [" ".join(words[:5])]
    for index in range(5, len(words), 2):
        lines.append(" ".join(words[index : index + 2]))
    return lines


def _iso(moment: float) -> str:
    return (
        datetime.fromtimestamp(moment, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _name_values(items: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in items]


def har_entry(exchange: Exchange) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": exchange.method,
        "url": url_of(exchange),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _name_values(exchange.request_headers.items()),
        "queryString": _name_values(parse_qsl(exchange.query, keep_blank_values=True)),
        "headersSize": -1,
        "bodySize": exchange.bytes_sent,
    }
    mime = exchange.request_headers.get("content-type", "")
    if exchange.request_body is not None:
        request["postData"] = {"mimeType": mime, "text": exchange.request_body}
    elif exchange.bytes_sent:
        request["postData"] = {"mimeType": mime, "text": "", "comment": "body not recorded"}
    content: dict[str, Any] = {
        "size": exchange.bytes_received,
        "mimeType": exchange.response_headers.get("content-type", ""),
    }
    if exchange.response_body is not None:
        content["text"] = exchange.response_body
    notes = [f"{exchange.source} #{exchange.id}: {exchange.operation}"]
    if exchange.error:
        notes.append(exchange.error)
    if exchange.file_sha256:
        notes.append(f"sha256 {exchange.file_sha256}")
    return {
        "startedDateTime": _iso(exchange.started),
        "time": exchange.duration_ms,
        "request": request,
        "response": {
            # HAR has no "no answer": status 0, as browsers write an aborted request.
            "status": exchange.status or 0,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _name_values(exchange.response_headers.items()),
            "content": content,
            "redirectURL": exchange.response_headers.get("location", ""),
            "headersSize": -1,
            "bodySize": exchange.bytes_received,
        },
        "cache": {},
        "timings": {"send": 0, "wait": exchange.duration_ms, "receive": 0},
        "comment": "; ".join(notes),
    }


def har_log(exchanges: Iterable[Exchange]) -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "dstui", "version": __version__},
            "entries": [har_entry(exchange) for exchange in exchanges],
        }
    }
