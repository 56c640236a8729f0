"""The recording store: WAL so readers see a writer's rows, private files, bounded retention,
filters and following."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from dstui.recording import Exchange, Filter, RecordingError, RecordingStore


def exchange(n: int = 0, **fields: object) -> Exchange:
    values: dict[str, object] = {
        "started": time.time(),
        "source": "proxy",
        "method": "POST",
        "path": "/executions",
        "operation": "execute",
        "identifier": f"s-{n % 3}",
        "status": 200,
    }
    values.update(fields)
    return Exchange(**values)  # type: ignore[arg-type]


def test_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "rec.sqlite3"
    with RecordingStore(path) as store:
        store.add(exchange())
        for side in (path, path.with_name("rec.sqlite3-wal"), path.with_name("rec.sqlite3-shm")):
            assert side.stat().st_mode & 0o777 == 0o600, side
        assert path.parent.stat().st_mode & 0o777 == 0o700
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_filters_and_order(tmp_path: Path) -> None:
    with RecordingStore(tmp_path / "r.sqlite3") as store:
        for n in range(9):
            store.add(
                exchange(n, status=[200, 404, None][n % 3], operation=["execute", "upload"][n % 2])
            )
        assert [e.id for e in store.recent(3)] == [7, 8, 9]
        assert {e.identifier for e in store.recent(50, Filter(identifier="s-1"))} == {"s-1"}
        assert {e.status for e in store.recent(50, Filter(status="4xx"))} == {404}
        assert {e.status for e in store.recent(50, Filter(status="failed"))} == {404, None}
        uploads = store.recent(50, Filter(operation="upload", status="200"))
        assert uploads and all(e.operation == "upload" and e.status == 200 for e in uploads)
        assert [e.id for e in store.newer_than(7)] == [8, 9]
        with pytest.raises(RecordingError, match="unknown status filter"):
            store.recent(5, Filter(status="teapot"))


def test_polls_are_tied_to_the_execution_they_ask_about(tmp_path: Path) -> None:
    with RecordingStore(tmp_path / "r.sqlite3") as store:
        start = store.add(exchange(execution_id="run-1"))
        poll = store.add(exchange(operation="get-execution", method="GET", execution_id="run-1"))
        stranger = store.add(exchange(operation="get-execution", execution_id="unknown"))
        assert store.get(poll).parent == start  # type: ignore[union-attr]
        assert store.get(stranger).parent is None  # type: ignore[union-attr]


def test_retention_by_age_and_size(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = RecordingStore(
        tmp_path / "r.sqlite3", max_bytes=256 * 1024, max_age_s=60, clock=lambda: now[0]
    )
    with store:
        store.add(exchange(started=now[0] - 120))
        store.add(exchange(started=now[0]))
        store.prune()
        assert len(store.recent(10)) == 1
        for n in range(400):
            store.add(exchange(n, started=now[0], code="x" * 4000))
        store.prune()
        kept = store.recent(1000)
        assert 0 < len(kept) < 400
        assert kept[-1].id == store.last_number()  # the newest stay
    assert (tmp_path / "r.sqlite3").stat().st_size < 2 * 256 * 1024


def test_a_reader_follows_a_writer_in_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    writer = RecordingStore(path)
    reader = RecordingStore(path, create=False)
    seen: list[int] = []
    done = threading.Event()

    def write() -> None:
        for n in range(20):
            writer.add(exchange(n))
            time.sleep(0.005)

    thread = threading.Thread(target=write)
    thread.start()
    for row in reader.follow(0, poll_s=0.01, stop=done.is_set):
        assert row.id is not None
        seen.append(row.id)
        if len(seen) == 20:
            done.set()
    thread.join()
    assert seen == list(range(1, 21))
    writer.close()
    reader.close()


def test_opening_for_reading_never_creates(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no recording at"):
        RecordingStore(tmp_path / "absent.sqlite3", create=False)
    assert not (tmp_path / "absent.sqlite3").exists()
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(RecordingError, match="cannot use the recording"):
        RecordingStore(junk, create=False)


def test_sessions_the_recording_names(tmp_path: Path) -> None:
    with RecordingStore(tmp_path / "r.sqlite3") as store:
        store.add(exchange(0, started=10.0))
        store.add(exchange(0, started=30.0, operation="upload"))
        store.add(exchange(1, started=20.0))
        store.add(exchange(0, identifier=None, operation="metadata"))
        seen = store.identifiers()
    assert [(s.identifier, s.exchanges, s.executions) for s in seen] == [
        ("s-0", 2, 1),
        ("s-1", 1, 1),
    ]
    assert (seen[0].first_seen, seen[0].last_seen) == (10.0, 30.0)


def test_lone_surrogates_in_any_text_column_are_stored_replaced(tmp_path: Path) -> None:
    odd = "x\udc80y"
    with RecordingStore(tmp_path / "r.sqlite3") as store:
        number = store.add(
            exchange(
                source=odd,
                operation=odd,
                identifier=odd,
                execution_id=odd,
                stdout=odd,
                request_headers={"x-odd": odd},
            )
        )
        stored = store.get(number)
        (seen,) = store.identifiers()
    assert stored is not None
    assert stored.identifier == stored.stdout == stored.execution_id == "x\ufffdy"
    assert stored.request_headers == {"x-odd": "x\ufffdy"}
    assert seen.identifier == "x\ufffdy"


def test_a_write_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite3"
    with RecordingStore(path) as store:
        store.add(exchange())
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute("DELETE FROM exchanges")
        releaser = threading.Timer(0.3, lambda: other.execute("COMMIT"))
        releaser.start()
        try:
            # A poll reads (its execution) before it writes: the read must not start a
            # snapshot that the other writer's commit then makes stale.
            poll = exchange(1, operation="get-execution", execution_id="e-1", method="GET")
            number = store.add_many([poll, exchange(2)])[-1]
        finally:
            releaser.join()
            other.close()
        assert [e.id for e in store.recent(10)] == [number - 1, number]


def test_an_unusable_side_file_is_a_recording_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path) -> None:
        raise PermissionError(f"cannot change the mode of {path}")

    monkeypatch.setattr("dstui.recording.store._restrict_side_files", refuse)
    with pytest.raises(RecordingError, match="cannot change the mode"):
        RecordingStore(tmp_path / "nested" / "r.sqlite3")
