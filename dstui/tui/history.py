"""Runs of code per session, kept across restarts in the data dir.

One JSON file per session, named by a hash of the identifier (identifiers are credentials of
sorts: whoever knows one can use the session, so it does not appear in file names).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MAX_RUNS_PER_SESSION = 50


@dataclass(frozen=True, slots=True)
class RunRecord:
    """Everything the output view shows for one run (also what the history keeps)."""

    at: str  # ISO 8601, UTC
    code: str
    status: str  # an ExecutionStatus value, or "Error" when the request itself failed
    duration_ms: int | None = None
    elapsed_ms: float | None = None  # wall time seen by the app
    stdout: str = ""
    stderr: str = ""
    result_text: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    image_path: str | None = None
    error: str | None = None  # a client error (transport, 4xx...), shown instead of streams
    asynchronous: bool = False
    timings: dict[str, str] = field(default_factory=dict)
    identifier: str = ""  # the session it ran in (older history files lack it)
    pool: str = ""  # the pool's short name
    number: int = 0  # 1, 2, 3… per session: tells a fresh result from a stale one
    notes: tuple[str, ...] = ()  # warnings about the run (a new allocation, a stopped wait)
    execution_id: str = ""  # the operation id sent, so a stopped wait can fetch the result

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        known = {name for name in cls.__dataclass_fields__}
        values = {key: value for key, value in data.items() if key in known}
        if isinstance(values.get("notes"), list):
            values["notes"] = tuple(str(note) for note in values["notes"])
        return cls(**values)


class RunHistory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, identifier: str) -> Path:
        digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:32]
        return self.directory / f"{digest}.json"

    def runs(self, identifier: str) -> list[RunRecord]:
        """Oldest first; an unreadable file counts as an empty history."""
        try:
            data = json.loads(self._path(identifier).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(data, list):
            return []
        records: list[RunRecord] = []
        for item in data:
            if isinstance(item, dict):
                try:
                    records.append(RunRecord.from_json(item))
                except TypeError:
                    continue
        return records

    def append(self, identifier: str, record: RunRecord) -> None:
        runs = [*self.runs(identifier), record][-MAX_RUNS_PER_SESSION:]
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self._path(identifier)
        # Write then rename so a crash never leaves half a history file behind.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".history-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump([asdict(run) for run in runs], handle, ensure_ascii=False)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
