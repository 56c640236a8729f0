"""The explorer's start-up wiring: the embedded emulator records what it serves and the client
records what it sends, each into its own store under the data dir."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dstui.recording import RecordingStore, own_requests_path, traffic_path
from dstui.recording.store import writable_recording
from dstui.tui.launch import LaunchOptions
from dstui.tui.startup import resolve_pool


def test_embedded_emulator_and_client_both_record() -> None:
    with resolve_pool(LaunchOptions(connection=None)) as resolved:
        assert resolved.pool is not None
        asyncio.run(resolved.pool.list_sessions())
    with RecordingStore(traffic_path(), create=False) as served:
        assert [(e.source, e.operation) for e in served.recent()] == [("emulator", "list-sessions")]
    with RecordingStore(own_requests_path(), create=False) as sent:
        assert [(e.source, e.operation, e.status) for e in sent.recent()] == [
            ("dstui", "list-sessions", 200)
        ]


def test_an_unusable_data_dir_only_turns_recording_off(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where the data dir should be")
    assert writable_recording(not_a_folder / "traffic.sqlite3") is None
    assert (
        writable_recording(tmp_path / "ok" / "traffic.sqlite3")
        == tmp_path / "ok" / "traffic.sqlite3"
    )
