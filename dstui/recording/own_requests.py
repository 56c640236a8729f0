"""Recording what dstui itself sends: turns the client's SentExchange into a stored Exchange.

Wired at start-up (CLI and TUI); the API layer only knows it has an observer.
"""

from __future__ import annotations

import atexit
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dstui.recording.exchange import BODY_KEEP_BYTES, WireFacts, describe
from dstui.recording.store import RecordingError, RecordingStore, own_requests_path

if TYPE_CHECKING:
    from dstui.api.observer import SentExchange

logger = logging.getLogger("dstui.recording")


def facts_of(sent: SentExchange) -> WireFacts:
    url = urlsplit(sent.url)
    request_body = sent.request_body or b""
    return WireFacts(
        source="dstui",
        started=sent.started,
        method=sent.method,
        path=url.path,
        query=url.query,
        origin=f"{url.scheme}://{url.netloc}",
        request_headers=sent.request_headers,
        request_body=request_body[:BODY_KEEP_BYTES],
        bytes_sent=sent.request_size if sent.request_size is not None else len(request_body),
        status=sent.status,
        response_headers=sent.response_headers,
        response_body=(sent.response_body or b"")[:BODY_KEEP_BYTES],
        bytes_received=sent.response_size,
        duration_ms=sent.duration_ms,
        error=sent.error,
        download_sha256=sent.response_sha256,
    )


class OwnRequestLog:
    """The client's observer: each exchange is described and written by the store's thread,
    so a recording locked by another process never holds up the client's event loop.
    close() (the client's aclose, else at exit) stores what is still waiting."""

    def __init__(self, store: RecordingStore) -> None:
        self.store = store

    def __call__(self, sent: SentExchange) -> None:
        facts = facts_of(sent)
        self.store.add_soon(lambda: describe(facts))

    def close(self) -> None:
        atexit.unregister(self.close)
        self.store.close()


def own_request_recorder(path: Path | None = None) -> OwnRequestLog | None:
    """An observer that stores each exchange in `path` (default: the data dir's request log);
    None (with a warning) when the store cannot be opened."""
    try:
        store = RecordingStore(path or own_requests_path())
    except RecordingError as exc:
        logger.warning("requests are not recorded: %s", exc)
        return None
    return OwnRequestLog(store)


REQUEST_LOG_ENV_VAR = "DSTUI_REQUEST_LOG"


def request_log_observer(
    environ: Mapping[str, str] | None = None,
) -> OwnRequestLog | None:
    """The observer for dstui's own request log (`dstui log`), unless DSTUI_REQUEST_LOG=off."""
    env = os.environ if environ is None else environ
    if env.get(REQUEST_LOG_ENV_VAR, "").strip().lower() in ("off", "0", "no", "false"):
        return None
    log = own_request_recorder()
    if log is not None:
        atexit.register(log.close)
    return log
