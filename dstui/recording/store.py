"""The recording: SQLite in WAL mode, so readers (`dstui trace --follow`, the TUI) see rows while
a proxy or an emulator writes them. Bounded by size and age, readable only by its owner."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dstui.common.lifecycle import Closing
from dstui.paths import data_dir
from dstui.recording.exchange import Exchange

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_AGE_S = 7 * 24 * 3600.0
_PRUNE_EVERY = 200  # inserts between two retention checks
FLUSH_INTERVAL_S = 0.05  # how long add_soon's exchanges may wait to be written
_BUSY_TIMEOUT_MS = 5000
_WAL_LIMIT_BYTES = 4 * 1024 * 1024  # what the WAL file is cut back to

logger = logging.getLogger("dstui.recording")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    source TEXT NOT NULL,
    operation TEXT NOT NULL,
    identifier TEXT,
    status INTEGER,
    execution_id TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exchanges_started ON exchanges (started);
CREATE INDEX IF NOT EXISTS exchanges_identifier ON exchanges (identifier, id);
CREATE INDEX IF NOT EXISTS exchanges_execution ON exchanges (execution_id, id);
"""


class RecordingError(Exception):
    """The recording cannot be opened or read; the message says which file and why."""


def own_requests_path() -> Path:
    """Where dstui records the requests it sends itself (`dstui log`)."""
    return data_dir() / "requests.sqlite3"


def traffic_path() -> Path:
    """The default recording of `dstui proxy` and of the embedded emulator (`dstui trace`);
    each exchange says which of them saw it."""
    return data_dir() / "traffic.sqlite3"


@dataclass(frozen=True)
class Filter:
    """Which exchanges a reader wants; None matches anything. `status` may be an exact code,
    or a class written "4xx"; "failed" means no answer or a status of 400 and above."""

    identifier: str | None = None
    operation: str | None = None
    status: str | None = None

    def sql(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        values: list[object] = []
        if self.identifier is not None:
            clauses.append("identifier = ?")
            values.append(self.identifier)
        if self.operation is not None:
            clauses.append("operation = ?")
            values.append(self.operation)
        status = (self.status or "").strip().lower()
        if status == "failed":
            clauses.append("(status IS NULL OR status >= 400)")
        elif len(status) == 3 and status[0].isdigit() and status[1:] == "xx":
            clauses.append("status BETWEEN ? AND ?")
            values += [int(status[0]) * 100, int(status[0]) * 100 + 99]
        elif status.isdigit():
            clauses.append("status = ?")
            values.append(int(status))
        elif status:
            raise RecordingError(f"unknown status filter {self.status!r}: use 404, 4xx or failed")
        return (" AND ".join(clauses) or "1"), values


@dataclass(frozen=True)
class SessionSeen:
    identifier: str
    exchanges: int
    first_seen: float
    last_seen: float
    executions: int


class RecordingStore(Closing):
    """One recording file. Safe to share between threads; each process opens its own."""

    def __init__(
        self,
        path: Path,
        *,
        create: bool = True,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path.expanduser()
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._inserts = 0
        self._pending: deque[Callable[[], Exchange]] = deque()
        self._writer: threading.Thread | None = None
        self._closing = threading.Event()
        if not self.path.exists():
            if not create:
                raise RecordingError(f"no recording at {self.path}")
            _create_private(self.path)
        try:
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=5.0
            )
            self._db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            if create:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT_BYTES}")
                self._db.execute("PRAGMA synchronous = NORMAL")
                self._db.executescript(_SCHEMA)
                _restrict_side_files(self.path)
            else:
                self._db.execute("SELECT 1 FROM exchanges LIMIT 1")
        except (sqlite3.Error, OSError) as exc:
            db = getattr(self, "_db", None)
            if db is not None:
                db.close()
            raise RecordingError(f"cannot use the recording {self.path}: {exc}") from None

    # writing

    def add(self, exchange: Exchange) -> int:
        """Store one exchange and return its number (see add_many)."""
        return self.add_many([exchange])[0]

    def add_many(self, exchanges: list[Exchange]) -> list[int]:
        """Store exchanges in one transaction and return their numbers; a poll is tied to the
        execution it asks about. Retention is applied every few hundred rows."""
        numbers = []
        with self._lock:
            # IMMEDIATE takes the write lock up front (waiting out busy_timeout), so another
            # process committing between our SELECT and INSERT cannot fail us at once.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                numbers = [self._insert(exchange) for exchange in exchanges]
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._inserts += len(exchanges)
            if self._inserts >= _PRUNE_EVERY or self._used_bytes() > self.max_bytes:
                self._inserts = 0
                self._prune()
        return numbers

    def add_soon(self, make: Callable[[], Exchange]) -> None:
        """Have `make()` stored by a background thread within FLUSH_INTERVAL_S. Handing it
        over wakes nobody (a busy event loop pays for a list append only); close() stores
        what is still waiting."""
        self._pending.append(make)
        if self._writer is None:
            with self._lock:
                if self._writer is None:
                    self._writer = threading.Thread(
                        target=self._write_pending, name="dstui-recorder", daemon=True
                    )
                    self._writer.start()

    def _write_pending(self) -> None:
        while not self._closing.wait(FLUSH_INTERVAL_S):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        batch: list[Exchange] = []
        while self._pending:
            try:
                batch.append(self._pending.popleft()())
            except Exception:  # one odd exchange must not cost the others
                logger.warning("could not describe an exchange", exc_info=True)
        if batch:
            try:
                self.add_many(batch)
            except (sqlite3.Error, OSError):
                logger.warning("could not record %d exchanges", len(batch), exc_info=True)

    def _insert(self, exchange: Exchange) -> int:
        if exchange.operation == "get-execution" and exchange.execution_id:
            row = self._db.execute(
                "SELECT id FROM exchanges WHERE execution_id = ? AND operation = 'execute' "
                "ORDER BY id DESC LIMIT 1",
                (exchange.execution_id,),
            ).fetchone()
            exchange.parent = row[0] if row else None
        exchange.scrub()  # whoever built it: no lone surrogate nor token shape gets stored
        data = exchange.to_dict()
        data.pop("id", None)
        cursor = self._db.execute(
            "INSERT INTO exchanges (started, source, operation, identifier, status, "
            "execution_id, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                exchange.started,
                exchange.source,
                exchange.operation,
                exchange.identifier,
                exchange.status,
                exchange.execution_id,
                json.dumps(data, ensure_ascii=False),
            ),
        )
        number = cursor.lastrowid
        assert number is not None
        exchange.id = number
        return number

    def prune(self) -> None:
        with self._lock:
            self._prune()

    def _prune(self) -> None:
        """Drop what is older than max_age_s, then the oldest quarter while over max_bytes."""
        deleted = self._db.execute(
            "DELETE FROM exchanges WHERE started < ?", (self._clock() - self.max_age_s,)
        ).rowcount
        while self._used_bytes() > self.max_bytes:
            count = self._db.execute("SELECT COUNT(*) FROM exchanges").fetchone()[0]
            if count == 0:
                break
            deleted += self._db.execute(
                "DELETE FROM exchanges WHERE id IN (SELECT id FROM exchanges ORDER BY id LIMIT ?)",
                (max(1, count // 4),),
            ).rowcount
        if deleted:
            self._db.execute("PRAGMA incremental_vacuum")

    def _used_bytes(self) -> int:
        page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        return int((pages - free) * page_size)

    # reading

    def recent(self, limit: int = 50, where: Filter | None = None) -> list[Exchange]:
        """The newest `limit` exchanges that match, oldest first."""
        clause, values = (where or Filter()).sql()
        rows = self._query(
            f"SELECT id, data FROM exchanges WHERE {clause} ORDER BY id DESC LIMIT ?",
            [*values, limit],
        )
        return list(reversed(rows))

    def newer_than(
        self, after: int, where: Filter | None = None, limit: int = 500
    ) -> list[Exchange]:
        """Exchanges stored after number `after` that match, oldest first (for live views)."""
        clause, values = (where or Filter()).sql()
        return self._query(
            f"SELECT id, data FROM exchanges WHERE id > ? AND {clause} ORDER BY id LIMIT ?",
            [after, *values, limit],
        )

    def identifiers(self, limit: int = 500) -> list[SessionSeen]:
        """The sessions the recording names, the most recently seen first (for cross-linking
        with a pool's session list, and a session's timeline)."""
        try:
            with self._lock:
                rows = self._db.execute(
                    "SELECT identifier, COUNT(*), MIN(started), MAX(started), "
                    "SUM(operation = 'execute') FROM exchanges WHERE identifier IS NOT NULL "
                    "GROUP BY identifier ORDER BY MAX(started) DESC LIMIT ?",
                    (limit,),
                ).fetchall()
        except sqlite3.Error as exc:
            raise RecordingError(f"cannot read the recording {self.path}: {exc}") from None
        return [SessionSeen(*row) for row in rows]

    def get(self, number: int) -> Exchange | None:
        rows = self._query("SELECT id, data FROM exchanges WHERE id = ?", [number])
        return rows[0] if rows else None

    def last_number(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(id) FROM exchanges").fetchone()
        return int(row[0] or 0)

    def follow(
        self,
        after: int = 0,
        where: Filter | None = None,
        *,
        poll_s: float = 0.1,
        stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[Exchange]:
        """Every matching exchange after number `after`, as it is written, until `stop()`."""
        while not stop():
            batch = self.newer_than(after, where)
            for exchange in batch:
                assert exchange.id is not None
                after = exchange.id
                yield exchange
            if not batch:
                time.sleep(poll_s)

    def _query(self, sql: str, values: list[object]) -> list[Exchange]:
        try:
            with self._lock:
                rows = self._db.execute(sql, values).fetchall()
        except sqlite3.Error as exc:
            raise RecordingError(f"cannot read the recording {self.path}: {exc}") from None
        exchanges = []
        for number, data in rows:
            exchange = Exchange.from_dict(json.loads(data))
            exchange.id = number
            exchanges.append(exchange)
        return exchanges

    def close(self) -> None:
        """Store what add_soon still holds, then close the file."""
        self._closing.set()
        if self._writer is not None:
            self._writer.join()
        with self._lock:
            self._db.close()


def _create_private(path: Path) -> None:
    """A new recording, whole or not at all: its schema is written to a private temporary
    file that is then linked into place, so a reader never finds a file without its table,
    and of two writers creating it at once, one wins and both use it."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        db = sqlite3.connect(temp)
        try:
            # Only takes effect before the first table: lets pruning give space back.
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            db.executescript(_SCHEMA)
            db.commit()
        finally:
            db.close()
        with contextlib.suppress(FileExistsError):  # another writer created it first
            os.link(temp, path)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise RecordingError(f"cannot create the recording {path}: {reason}") from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


def _restrict_side_files(path: Path) -> None:
    """SQLite copies the database's mode to its -wal and -shm files; make sure of it."""
    os.chmod(path, 0o600)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.chmod(side, 0o600)


def writable_recording(path: Path) -> Path | None:
    """`path` if a recording can be kept there, else None (with a warning): for recordings
    that are on by default, where a read-only data dir must not stop dstui from starting."""
    try:
        RecordingStore(path).close()
    except RecordingError as exc:
        logger.warning("traffic is not recorded: %s", exc)
        return None
    return path
