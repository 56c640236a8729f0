"""An in-memory stand-in for SessionsClient, for testing command output without HTTP."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from dstui.api import (
    Execution,
    ExecutionStatus,
    ImageResult,
    KernelInfo,
    Package,
    PoolMetadata,
    RemoteFile,
    Session,
    SessionPage,
)
from dstui.api.downloads import resolve_destination
from dstui.config import Connection

NOW = datetime.now(UTC).replace(microsecond=0)
# A 1x1 transparent PNG.
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def make_execution(**changes: Any) -> Execution:
    fields: dict[str, Any] = {
        "id": "exec-1",
        "identifier": "sess-1",
        "status": ExecutionStatus.SUCCEEDED,
        "stdout": "hello\n",
        "stderr": "",
        "result": None,
        "image": None,
        "duration_ms": 12,
        "stdout_truncated": False,
        "stderr_truncated": False,
        "timings": {},
        "session_guid": None,
        "operation_location": None,
    }
    fields.update(changes)
    return Execution(**fields)


class FakeClient:
    """Records calls; answers from the attributes below."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        # Expiry is relative to when the fake is made, so the "expires in" text does not
        # drift with how long the test run has been going.
        expires = datetime.now(UTC) + timedelta(minutes=4, seconds=12, milliseconds=500)
        self.sessions = [
            Session("sess-1", NOW, NOW, expires, None),
            Session("sess-2", NOW, None, None, "etag-2"),
        ]
        self.next_link: str | None = None
        self.execution = make_execution()
        self.remote: dict[str, bytes] = {"a.txt": b"alpha"}
        self.closed = False

    async def __aenter__(self) -> FakeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.closed = True

    def _record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))

    async def list_sessions_page(
        self, next_link: str | None = None, *, skip: int = 0, management: bool = False
    ) -> SessionPage:
        self._record("list_sessions_page", management=management)
        return SessionPage(tuple(self.sessions), self.next_link, None)

    async def list_sessions(self, *, management: bool = False) -> list[Session]:
        self._record("list_sessions", management=management)
        return list(self.sessions)

    async def get_session(self, identifier: str, *, management: bool = False) -> Session:
        self._record("get_session", identifier, management=management)
        return self.sessions[0]

    async def delete_session(self, identifier: str) -> None:
        self._record("delete_session", identifier)

    async def stop_session(self, identifier: str) -> str:
        self._record("stop_session", identifier)
        return "stopped"

    async def execute(self, identifier: str, code: str, **kwargs: Any) -> Execution:
        self._record("execute", identifier, code, **kwargs)
        return self.execution

    async def list_files(
        self, identifier: str, *, path: str = "", recursive: bool = False
    ) -> list[RemoteFile]:
        self._record("list_files", identifier, path=path, recursive=recursive)
        return [
            RemoteFile(name, False, len(data), NOW, "text/plain")
            for name, data in self.remote.items()
        ] + [RemoteFile("sub", True, None, None, None)]

    async def upload_file(
        self,
        identifier: str,
        local: Path,
        *,
        path: str = "",
        remote_name: str | None = None,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> RemoteFile:
        data = local.read_bytes()
        name = remote_name or local.name
        self.remote[name] = data
        if progress is not None:
            progress(len(data), len(data))
        return RemoteFile(name, False, len(data), NOW, None)

    async def download_file(
        self,
        identifier: str,
        name: str,
        dest: Path,
        *,
        path: str = "",
        overwrite: bool = False,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> Path:
        target = resolve_destination(dest, name, overwrite=overwrite)
        target.write_bytes(self.remote[name])
        return target

    async def delete_file(self, identifier: str, name: str, *, path: str = "") -> None:
        self._record("delete_file", identifier, name, path=path)
        del self.remote[name]

    async def get_pool_metadata(self) -> PoolMetadata:
        return PoolMetadata(
            runtimes=(Package("python", "3.12.7"),),
            packages=(Package("pandas", "2.2.2"), Package("numpy", "1.26.4")),
            created_at=NOW,
            last_updated_at=None,
            kernel=KernelInfo("python3", "6.29", None, None),
        )


def factory_for(client: FakeClient) -> Callable[[Connection], Any]:
    def factory(connection: Connection) -> Any:
        return client

    return factory


IMAGE = ImageResult("png", PNG_B64)


class FakeTerminal(io.StringIO):
    """A stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


@dataclass
class Outcome:
    code: int
    out: str
    err: str


class Runner(Protocol):
    def __call__(self, *argv: str) -> Outcome: ...
