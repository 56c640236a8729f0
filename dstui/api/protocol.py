"""The operations the CLI and TUI depend on; SessionsClient and the TUI's demo pool implement it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from dstui.api.constants import DEFAULT_EXECUTION_TIMEOUT_S
from dstui.api.models import Execution, PoolMetadata, RemoteFile, Session, SessionPage

ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes done, total bytes or None when unknown)."""

PollCallback = Callable[[Execution], None]


@runtime_checkable
class SessionPoolAPI(Protocol):
    @property
    def endpoint(self) -> str: ...

    @property
    def api_version(self) -> str: ...

    async def signed_in_identity(self) -> str | None: ...

    # sessions
    def iter_session_pages(
        self, *, skip: int = 0, management: bool = False
    ) -> AsyncIterator[SessionPage]: ...

    async def list_sessions_page(
        self, next_link: str | None = None, *, skip: int = 0, management: bool = False
    ) -> SessionPage: ...

    async def list_sessions(self, *, management: bool = False) -> list[Session]: ...

    async def get_session(self, identifier: str, *, management: bool = False) -> Session: ...

    async def delete_session(self, identifier: str) -> None: ...

    async def stop_session(self, identifier: str) -> str: ...

    async def get_pool_metadata(self) -> PoolMetadata: ...

    # executions
    async def execute(
        self,
        identifier: str,
        code: str,
        *,
        timeout: int = DEFAULT_EXECUTION_TIMEOUT_S,
        output_max_length: int | None = None,
        operation_id: str | None = None,
        asynchronous: bool = False,
        jupyter_format: bool = False,
        on_poll: PollCallback | None = None,
    ) -> Execution: ...

    async def start_execution(
        self,
        identifier: str,
        code: str,
        *,
        timeout: int = DEFAULT_EXECUTION_TIMEOUT_S,
        output_max_length: int | None = None,
        operation_id: str | None = None,
        asynchronous: bool = False,
        jupyter_format: bool = False,
        on_poll: PollCallback | None = None,
    ) -> Execution: ...

    async def get_execution(self, identifier: str, execution_id: str) -> Execution: ...

    # files (path = directory under /mnt/data, "" = root)
    async def list_files(
        self, identifier: str, *, path: str = "", recursive: bool = False
    ) -> list[RemoteFile]: ...

    async def get_file(self, identifier: str, name: str, *, path: str = "") -> RemoteFile: ...

    async def upload_file(
        self,
        identifier: str,
        local: Path,
        *,
        path: str = "",
        remote_name: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> RemoteFile: ...

    async def download_file(
        self,
        identifier: str,
        name: str,
        dest: Path,
        *,
        path: str = "",
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
    ) -> Path: ...

    async def read_file(
        self, identifier: str, name: str, *, path: str = "", max_bytes: int = 1_048_576
    ) -> bytes: ...

    async def delete_file(self, identifier: str, name: str, *, path: str = "") -> None: ...
