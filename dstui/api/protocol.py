"""The operations the CLI and TUI depend on; SessionsClient and `FakePool` implement it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from dstui.api.container_requests import (
    DEFAULT_MAX_BODY_BYTES,
    ContainerQuery,
    ContainerResponse,
)
from dstui.api.models import Execution, PoolMetadata, RemoteFile, Session, SessionPage
from dstui.api.run_options import DEFAULT_RUN, RunOptions
from dstui.api.shell_command import ShellCommand

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

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def aclose(self) -> None:
        """Release connections; the pool is unusable afterwards."""
        ...

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
        code: str | ShellCommand,
        options: RunOptions = DEFAULT_RUN,
        *,
        on_poll: PollCallback | None = None,
    ) -> Execution: ...

    async def start_execution(
        self, identifier: str, code: str | ShellCommand, options: RunOptions = DEFAULT_RUN
    ) -> Execution:
        """`code` is Python source, or a ShellCommand for a Shell pool."""
        ...

    async def get_execution(self, identifier: str, execution_id: str) -> Execution: ...

    # custom-container pools
    async def request_path(
        self,
        method: str,
        path: str,
        identifier: str,
        body: bytes | None = None,
        *,
        query: ContainerQuery | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> ContainerResponse:
        """One request to the session's own app; any status is its answer."""
        ...

    async def interrupt_kernel(self, identifier: str) -> bool:
        """Emulator-only extension; the service has no such call."""
        ...

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
