"""Recordings of data-plane traffic: what dstui sent, what a proxy or the emulator saw.

`RecordingStore` is the SQLite file (WAL, bounded, 0600); `Exchange` one stored exchange;
`RecordingMiddleware` (in `dstui.recording.tap`) records the traffic of an ASGI app. No Textual
and no httpx here, so the TUI and the emulator can both use it.
"""

from dstui.recording.exchange import Exchange
from dstui.recording.store import (
    Filter,
    RecordingError,
    RecordingStore,
    SessionSeen,
    own_requests_path,
    traffic_path,
)

__all__ = [
    "Exchange",
    "Filter",
    "RecordingError",
    "RecordingStore",
    "SessionSeen",
    "own_requests_path",
    "traffic_path",
]
