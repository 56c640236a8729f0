"""The editor's draft per session, kept across restarts in the data dir.

Like the run history, files are named by a hash of the identifier (whoever knows an
identifier can use its session, so it never appears in a file name). An empty draft removes
its file. Writes go through a temporary file and a rename: a crash never leaves half a draft.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

MAX_DRAFT_CHARS = 1_000_000  # a pasted log should not turn into a huge file on every switch


class DraftTooLong(Exception):
    def __init__(self, length: int) -> None:
        super().__init__(
            f"the draft has {length:,} characters, over the {MAX_DRAFT_CHARS:,} kept on disk: "
            "it stays whole while dstui runs, but a restart brings back the last shorter one"
        )


class DraftStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, str] = {}
        self._too_long: set[str] = set()  # already warned about

    def _path(self, identifier: str) -> Path:
        digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:32]
        return self.directory / f"{digest}.py"

    def load(self, identifier: str) -> str:
        """The saved draft, or "" when there is none or it cannot be read."""
        cached = self._cache.get(identifier)
        if cached is not None:
            return cached
        try:
            text = self._path(identifier).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        self._cache[identifier] = text
        return text

    def save(self, identifier: str, text: str) -> None:
        """Keep `text` as the session's draft (raises OSError when the disk refuses).

        A draft over MAX_DRAFT_CHARS is kept in memory only, never cut: DraftTooLong is
        raised the first time, so the caller warns once.
        """
        if self._cache.get(identifier) == text:
            return
        if len(text) > MAX_DRAFT_CHARS:
            self._cache[identifier] = text  # switching sessions in this run keeps it whole
            if identifier not in self._too_long:
                self._too_long.add(identifier)
                raise DraftTooLong(len(text))
            return
        self._too_long.discard(identifier)
        target = self._path(identifier)
        if not text.strip():
            target.unlink(missing_ok=True)
            self._cache[identifier] = text
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".draft-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._cache[identifier] = text  # only now: a failed write is tried again next time
