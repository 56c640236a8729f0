"""A recording with fixed exchanges (times, ids, code, sizes), for the Traffic view's tests.

The identifiers are the fake pool's own (`agent-chat-00001`, `ci-probe-00003`), plus one that
only the recording knows (`agent-ghost-77`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input, Static, TextArea

from dstui.api.fake_pool import DEMO_NOW
from dstui.recording.exchange import Exchange
from dstui.recording.run_history import RunRecord
from dstui.recording.store import RecordingStore
from dstui.tui.recording_sources import RecordingSource, TrafficOutcome
from dstui.tui.screens.timeline import TimelineScreen
from dstui.tui.screens.traffic import TrafficScreen

T0 = DEMO_NOW.timestamp() - 300  # five minutes before the fake pool's "now"
ORIGIN = "http://127.0.0.1:8123"
API = "2025-10-02-preview"
CHAT = "agent-chat-00001"
PROBE = "ci-probe-00003"
GHOST = "agent-ghost-77"
CODE = "import sys\nrows = [n * n for n in range(5)]\nprint(sys.version_info[:2], rows)\n"
TIMING = {"x-ms-overall-execution-time": "21", "x-ms-container-execution-duration": "9"}


def _json_headers() -> dict[str, str]:
    return {"content-type": "application/json", "accept": "application/json"}


def _execute(at: float, identifier: str, code: str, **fields: Any) -> Exchange:
    body = {"identifier": identifier, "codeInputType": "inline", "executionType": "synchronous"}
    return Exchange(
        started=at,
        source="emulator",
        method="POST",
        path="/executions",
        query=f"api-version={API}&identifier={identifier}",
        origin=ORIGIN,
        operation="execute",
        api_version=API,
        identifier=identifier,
        request_headers=_json_headers(),
        request_body=json.dumps({**body, "code": code}),
        bytes_sent=180,
        code=code,
        execution_type="synchronous",
        **fields,
    )


def fixed_exchanges() -> list[Exchange]:
    listing = Exchange(
        started=T0,
        source="emulator",
        method="GET",
        path="/listSessions",
        query=f"api-version={API}",
        origin=ORIGIN,
        operation="list-sessions",
        api_version=API,
        status=200,
        duration_ms=4.2,
        bytes_received=2310,
        asked="list sessions",
        request_id="req-0001",
    )
    run = _execute(
        T0 + 3.5,
        CHAT,
        CODE,
        status=200,
        duration_ms=38.6,
        bytes_received=412,
        timing=TIMING,
        request_id="req-0002",
        operation_id="op-7d1e",
        execution_id="exec-0002",
        execution_status="Succeeded",
        stdout="(3, 12) [0, 1, 4, 9, 16]\n",
        result="{'rows': 5}",
    )
    upload = Exchange(
        started=T0 + 9.0,
        source="emulator",
        method="POST",
        path="/files",
        query=f"api-version={API}&identifier={CHAT}",
        origin=ORIGIN,
        operation="upload",
        api_version=API,
        identifier=CHAT,
        status=201,
        duration_ms=11.0,
        bytes_sent=1480,
        request_headers={"content-type": "multipart/form-data; boundary=x"},
        file_direction="upload",
        file_name="data.csv",
        file_size=1234,
        file_sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    )
    failed = _execute(
        T0 + 15.25,
        PROBE,
        "1 / 0",
        status=400,
        duration_ms=7.9,
        error_code="InvalidRequest",
        error_message="the code field is empty",
    )
    ghost = _execute(
        T0 + 20.0,
        GHOST,
        "while True:\n    pass\n",
        status=None,
        duration_ms=30000.0,
        error="the client disconnected before the answer",
    )
    download = Exchange(
        started=T0 + 31.0,
        source="emulator",
        method="GET",
        path="/files/report.txt/content",
        query=f"api-version={API}&identifier={CHAT}",
        origin=ORIGIN,
        operation="download",
        api_version=API,
        identifier=CHAT,
        status=404,
        duration_ms=2.1,
        file_direction="download",
        file_name="report.txt",
        error_code="FileNotFound",
    )
    return [listing, run, upload, failed, ghost, download]


def write_recording(path: Path, exchanges: list[Exchange] | None = None) -> Path:
    with RecordingStore(path, clock=lambda: DEMO_NOW.timestamp()) as store:
        store.add_many(exchanges if exchanges is not None else fixed_exchanges())
    return path


class TrafficHostApp(App[None]):
    """Just the Traffic view, for snapshots and keys: no pool, nothing else on screen.
    Listed sessions are the fake pool's first page; the outcome is kept for the test."""

    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__()
        self.path = path
        self.options = options
        self.outcomes: list[TrafficOutcome | None] = []
        self.listed = {CHAT, PROBE}

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.animation_level = "none"
        options = {"poll_s": 0.0, **self.options}
        self.push_screen(
            TrafficScreen(
                [RecordingSource("proxy & embedded emulator", self.path)],
                session_listed=lambda identifier: identifier in self.listed,
                **options,
            ),
            self.outcomes.append,
        )

    def on_descendant_focus(self, event: Any) -> None:
        if isinstance(event.widget, Input | TextArea):
            event.widget.cursor_blink = False


def dstui_run(number: int = 1) -> RunRecord:
    """dstui's own history entry for the recorded run of CODE in CHAT (merged by execution id)."""
    return RunRecord(
        at=datetime.fromtimestamp(T0 + 3.4, UTC).isoformat(),
        code=CODE,
        status="Succeeded",
        duration_ms=9,
        stdout="(3, 12) [0, 1, 4, 9, 16]\n",
        identifier=CHAT,
        number=number,
        execution_id="exec-0002",
    )


class TimelineHostApp(App[None]):
    """Just one session's Timeline."""

    def __init__(self, identifier: str, path: Path, *, in_pool: bool = True) -> None:
        super().__init__()
        self.identifier = identifier
        self.path = path
        self.in_pool = in_pool
        self.outcomes: list[TrafficOutcome | None] = []

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.animation_level = "none"
        self.push_screen(
            TimelineScreen(
                self.identifier,
                [RecordingSource("traffic", self.path)],
                in_pool=self.in_pool,
                runs=lambda identifier: [dstui_run()] if identifier == CHAT else [],
                poll_s=0.0,
            ),
            self.outcomes.append,
        )
