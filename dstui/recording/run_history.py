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
    exit_code: int | None = None  # a Shell pool's process exit code (its status)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        """Raises ValueError when a field has the wrong type (a hand-edited or damaged file)."""
        values = {key: value for key, value in data.items() if key in _FIELD_TYPES}
        for key, value in values.items():
            if not _has_type(value, _FIELD_TYPES[key]):
                raise ValueError(f"history field {key!r} has the wrong type")
        if "notes" in values:
            values["notes"] = tuple(str(note) for note in values["notes"])
        timings = values.get("timings", {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in timings.items()):
            raise ValueError("history field 'timings' has the wrong type")
        return cls(**values)


_OPTIONAL = type(None)
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "at": (str,),
    "code": (str,),
    "status": (str,),
    "duration_ms": (int, _OPTIONAL),
    "elapsed_ms": (int, float, _OPTIONAL),
    "stdout": (str,),
    "stderr": (str,),
    "result_text": (str,),
    "stdout_truncated": (bool,),
    "stderr_truncated": (bool,),
    "image_path": (str, _OPTIONAL),
    "error": (str, _OPTIONAL),
    "asynchronous": (bool,),
    "timings": (dict,),
    "identifier": (str,),
    "pool": (str,),
    "number": (int,),
    "notes": (list, tuple),
    "execution_id": (str,),
    "exit_code": (int, _OPTIONAL),
}


def _has_type(value: object, allowed: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in allowed  # JSON true is no run number
    return isinstance(value, allowed)


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
                except (TypeError, ValueError):
                    continue  # one damaged entry does not cost the rest
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
