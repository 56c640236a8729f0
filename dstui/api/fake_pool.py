"""A deterministic, in-memory session pool for `--demo`, tests, screenshots and benchmarks.

It implements `dstui.api.protocol.SessionPoolAPI` without any network or kernel: fixed
identifiers and timestamps, an injected clock, canned execution results for a few known
snippets, and a small `/mnt/data` tree per session (directories, a binary file, odd names).
Code is never evaluated; only literal `print(...)` calls and a literal last expression are
"run", everything else answers with a note saying so.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import functools
import io
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dstui.api.constants import (
    DEFAULT_API_VERSION,
    DEFAULT_OUTPUT_MAX_LENGTH,
    DYNAMIC_APIS_NOT_ALLOWED,
    SESSIONS_PAGE_SIZE,
)
from dstui.api.container_requests import (
    DEFAULT_MAX_BODY_BYTES,
    ContainerQuery,
    ContainerResponse,
    query_pairs,
    validate_container_request,
)
from dstui.api.downloads import resolve_destination, write_atomically
from dstui.api.errors import (
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
    RemoteTarget,
    SessionNotFoundError,
    api_error_from_response,
    not_found_hint,
)
from dstui.api.models import (
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
from dstui.api.protocol import PollCallback
from dstui.api.run_options import DEFAULT_RUN, RunOptions
from dstui.api.shell_command import ShellCommand
from dstui.api.validation import upload_size_problem
from dstui.common.lifecycle import AsyncClosing

DEMO_NOW = datetime(2026, 1, 15, 10, 0, 0, tzinfo=UTC)
DEMO_ENDPOINT = "https://demo-pool.dynamicsessions.example"
DEMO_COOLDOWN_S = 300
_PREFIXES = ("etl-nightly", "agent-chat", "notebook", "ci-probe", "report-gen", "lab")
_TIMINGS = MappingProxyType(
    {
        "x-ms-overall-execution-time": "21",
        "x-ms-preparation-time": "2",
        "x-ms-container-execution-duration": "9",
        "x-ms-allocation-time": "0",
        "x-ms-new-allocation": "false",
    }
)
_SLEEP_RE = re.compile(r"time\.sleep\(\s*(\d+(?:\.\d*)?)\s*\)")


def frozen_clock() -> datetime:
    return DEMO_NOW


def ticking_clock() -> Callable[[], datetime]:
    """Starts at DEMO_NOW and advances with real time (interactive `--demo`)."""
    start = datetime.now(UTC)

    def now() -> datetime:
        return DEMO_NOW + (datetime.now(UTC) - start)

    return now


def demo_identifier(index: int) -> str:
    prefix = _PREFIXES[index % len(_PREFIXES)]
    return f"{prefix}-{index:05d}"


@dataclass(slots=True)
class _Entry:
    is_dir: bool
    data: bytes
    modified: datetime
    content_type: str | None


def _seed_files(now: datetime) -> dict[str, dict[str, _Entry]]:
    stamp = now - timedelta(minutes=7)
    text = "text/plain; charset=utf-8"
    return {
        "": {
            "data.csv": _Entry(
                False, b"region,sales\nwest,120\neast,98\nnorth,77\n", stamp, "text/csv"
            ),
            "report.md": _Entry(
                False, b"# Weekly report\n\n*Sales* are **up** 4%.\n", stamp, "text/markdown"
            ),
            "analysis.py": _Entry(
                False,
                b"import pandas as pd\n\ndf = pd.read_csv('data.csv')\nprint(df.sum())\n",
                stamp,
                "text/x-python",
            ),
            "model.bin": _Entry(False, bytes(range(256)) * 16, stamp, "application/octet-stream"),
            "weird name [v2] (1).txt": _Entry(False, b"[bold]not markup[/]\n", stamp, text),
            "ünïcødé.txt": _Entry(False, "grüße\n".encode(), stamp, text),
            "outputs": _Entry(True, b"", stamp, None),
            "logs": _Entry(True, b"", stamp, None),
        },
        "outputs": {
            "plot.png": _Entry(False, b"\x89PNG\r\n\x1a\n" + bytes(120), stamp, "image/png"),
            "summary.json": _Entry(False, b'{"rows": 3, "ok": true}\n', stamp, "application/json"),
        },
        "logs": {
            "run.log": _Entry(False, b"INFO start\nWARN slow step\nINFO done\n", stamp, text),
        },
    }


def _normalise_dir(path: str) -> str:
    path = path.strip()
    for root in ("/mnt/data", "/"):
        if path.startswith(root):
            path = path[len(root) :]
    return path.strip("/")


# The session calls a custom-container pool refuses (it has no data-plane file API).
_FILE_METHODS = frozenset(
    {"list_files", "get_file", "upload_file", "download_file", "read_file", "delete_file"}
)
_NO_DYNAMIC_APIS = (
    "This is a custom-container pool: it has no data-plane session list or file API. "
    "Use /.management/listSessions, or name a session with ?identifier=…."
)


class FakePool(AsyncClosing):
    """In-memory SessionPoolAPI. `failures` maps a method name to the error it always raises;
    `fail_next` makes only the next call of a method raise."""

    def __init__(
        self,
        *,
        session_count: int = 40,
        page_size: int = SESSIONS_PAGE_SIZE,
        clock: Callable[[], datetime] = frozen_clock,
        latency: float = 0.0,
        failures: Mapping[str, Exception] | None = None,
        endpoint: str = DEMO_ENDPOINT,
        api_version: str = DEFAULT_API_VERSION,
        identity: str | None = None,
        container_type: str = "PythonLTS",
    ) -> None:
        self.endpoint = endpoint
        self.container_type = container_type  # "Shell": runs ShellCommand inputs, not code
        self.identity = identity
        self.api_version = api_version
        self.page_size = page_size
        self.clock = clock
        self.latency = latency
        self.failures: dict[str, Exception] = dict(failures or {})
        self.calls: list[tuple[str, str | None]] = []
        # (identifier, code or command, options)
        self.runs: list[tuple[str, str | ShellCommand, RunOptions]] = []
        self.listed_with_management: list[bool] = []
        self.closed = False
        self._next_failures: dict[str, Exception] = {}
        # Sessions in list order; generated ones are built on first use (10,000 stay cheap).
        self._order: list[str] = [demo_identifier(index) for index in range(session_count)]
        self._generated: dict[str, int] = {name: i for i, name in enumerate(self._order)}
        self._sessions: dict[str, Session] = {}
        self._files: dict[str, dict[str, dict[str, _Entry]]] = {}
        self._executions: dict[tuple[str, str], tuple[Execution, int]] = {}
        self._run_counter = 0

    def _generated_session(self, index: int) -> Session:
        created = DEMO_NOW - timedelta(seconds=900 + (index * 733) % 86_000)
        idle = (index * 97) % 290 + 5
        if index % 17 == 16:
            idle = DEMO_COOLDOWN_S + 30  # a few already past their cooldown
        accessed = DEMO_NOW - timedelta(seconds=idle)
        return Session(
            identifier=demo_identifier(index),
            created_at=created,
            last_accessed_at=accessed,
            expires_at=accessed + timedelta(seconds=DEMO_COOLDOWN_S),
            etag=str(uuid.uuid5(uuid.NAMESPACE_URL, f"dstui-demo-{index}")),
        )

    def _lookup(self, identifier: str) -> Session | None:
        session = self._sessions.get(identifier)
        if session is None and identifier in self._generated:
            session = self._generated_session(self._generated[identifier])
            self._sessions[identifier] = session
        return session

    def _forget(self, identifier: str) -> None:
        if self._lookup(identifier) is not None:
            self._order.remove(identifier)
        self._sessions.pop(identifier, None)
        self._generated.pop(identifier, None)
        self._files.pop(identifier, None)

    # -- plumbing -------------------------------------------------------------------------

    def fail_next(self, method: str, error: Exception) -> None:
        """The next call of `method` (a SessionPoolAPI name) raises `error`; later ones do not."""
        self._next_failures[method] = error

    async def aclose(self) -> None:
        self.closed = True

    async def _call(self, method: str, identifier: str | None = None) -> None:
        self.calls.append((method, identifier))
        await asyncio.sleep(self.latency)  # 0 still yields to the loop, like real I/O
        failure = self._next_failures.pop(method, None) or self.failures.get(method)
        if failure is not None:
            raise failure

    async def _session_call(self, method: str, identifier: str) -> None:
        """A request that uses a session: recorded, then `_touch`ed like the service does."""
        await self._call(method, identifier)
        if method in _FILE_METHODS:
            self._refuse_dynamic_apis(method)
        self._touch(identifier)

    def _refuse_dynamic_apis(self, method: str) -> None:
        """A custom-container pool has no session list, files or /metadata (as the emulator)."""
        if self.container_type == "CustomContainer":
            body = {"code": DYNAMIC_APIS_NOT_ALLOWED, "message": _NO_DYNAMIC_APIS}
            what = method.replace("_", " ")
            raise api_error_from_response(400, {}, json.dumps(body).encode(), what=what)

    def _touch(self, identifier: str) -> None:
        """Any request naming a session allocates it or resets its cooldown, like the service."""
        now = self.clock()
        current = self._lookup(identifier)
        expires = now + timedelta(seconds=DEMO_COOLDOWN_S)
        if current is None:
            self._order.append(identifier)
            self._sessions[identifier] = Session(
                identifier, now, now, expires, str(uuid.uuid5(uuid.NAMESPACE_URL, identifier))
            )
        else:
            self._sessions[identifier] = replace(current, last_accessed_at=now, expires_at=expires)

    def _tree(self, identifier: str) -> dict[str, dict[str, _Entry]]:
        tree = self._files.get(identifier)
        if tree is None:
            tree = _seed_files(self.clock())
            self._files[identifier] = tree
        return tree

    def _directory(self, identifier: str, path: str) -> dict[str, _Entry]:
        key = _normalise_dir(path)
        tree = self._tree(identifier)
        if key not in tree:
            raise NotFoundError(
                f"directory {key!r} not found",
                status=404,
                code="DirectoryNotFound",
                hint=not_found_hint(RemoteTarget(key), "DirectoryNotFound"),
            )
        return tree[key]

    def _entry(self, identifier: str, path: str, name: str, *, file_only: bool = False) -> _Entry:
        entry = self._directory(identifier, path).get(name)
        if entry is None or (file_only and entry.is_dir):
            raise NotFoundError(
                f"file {name!r} not found",
                status=404,
                code="FileNotFound",
                hint=not_found_hint(RemoteTarget(_normalise_dir(path), name), "FileNotFound"),
            )
        return entry

    @staticmethod
    def _remote(name: str, entry: _Entry, directory: str = "") -> RemoteFile:
        return RemoteFile(
            name=name,
            is_dir=entry.is_dir,
            size=None if entry.is_dir else len(entry.data),
            last_modified=entry.modified,
            content_type=entry.content_type,
            directory=directory,
        )

    async def signed_in_identity(self) -> str | None:
        """Whom the token would name (None unless given). Not in `calls`: like the real
        client, it sends no request once a token is at hand."""
        return self.identity

    # -- sessions ---------------------------------------------------------------------------

    async def iter_session_pages(
        self, *, skip: int = 0, management: bool = False
    ) -> AsyncIterator[SessionPage]:
        page = await self.list_sessions_page(skip=skip, management=management)
        yield page
        while page.next_link is not None:
            page = await self.list_sessions_page(page.next_link, management=management)
            yield page

    async def list_sessions_page(
        self, next_link: str | None = None, *, skip: int = 0, management: bool = False
    ) -> SessionPage:
        await self._call("list_sessions_page")
        if not management:
            self._refuse_dynamic_apis("list sessions")
        self.listed_with_management.append(management)
        if next_link is not None:
            skip = int(parse_qs(urlsplit(next_link).query).get("skip", ["0"])[0])
        names = self._order[skip : skip + self.page_size]
        chunk = tuple(session for name in names if (session := self._lookup(name)) is not None)
        end = skip + len(names)
        more = f"{self.endpoint}/listSessions?skip={end}" if end < len(self._order) else None
        return SessionPage(chunk, more, None)

    async def list_sessions(self, *, management: bool = False) -> list[Session]:
        pages = self.iter_session_pages(management=management)
        return [session async for page in pages for session in page.sessions]

    async def get_session(self, identifier: str, *, management: bool = False) -> Session:
        await self._call("get_session", identifier)
        if self._lookup(identifier) is None:
            raise SessionNotFoundError(
                f"get session failed: HTTP 404 SessionWithIdentifierNotFound: no session "
                f"{identifier!r}",
                status=404,
                code="SessionWithIdentifierNotFound",
            )
        self._touch(identifier)
        return self._sessions[identifier]

    async def delete_session(self, identifier: str) -> None:
        await self._call("delete_session", identifier)
        self._forget(identifier)

    async def stop_session(self, identifier: str) -> str:
        await self._call("stop_session", identifier)
        self._forget(identifier)
        return f"Session {identifier} in session pool demo-pool stopped."

    async def get_pool_metadata(self) -> PoolMetadata:
        await self._call("get_pool_metadata")
        self._refuse_dynamic_apis("pool metadata")
        if self.container_type == "Shell":
            return PoolMetadata(  # bash, and nothing of Python's
                runtimes=(Package("bash", "5.2.21"),),
                packages=(),
                created_at=DEMO_NOW - timedelta(days=12),
                last_updated_at=DEMO_NOW - timedelta(days=2),
            )
        names = (
            ("beautifulsoup4", "4.12.3"),
            ("lxml", "6.1.1"),
            ("matplotlib", "3.8.4"),
            ("networkx", "3.3"),
            ("numpy", "1.26.4"),
            ("openpyxl", "3.1.5"),
            ("pandas", "2.2.2"),
            ("pillow", "11.3.0"),
            ("pyarrow", "16.1.0"),
            ("python-docx", "1.2.0"),
            ("requests", "2.32.3"),
            ("scikit-learn", "1.5.1"),
            ("scipy", "1.13.1"),
            ("seaborn", "0.13.2"),
            ("statsmodels", "0.14.6"),
            ("sympy", "1.14.0"),
            ("tabulate", "0.9.0"),
        )
        return PoolMetadata(
            runtimes=(Package("python", "3.12.7"),),
            packages=tuple(Package(n, v) for n, v in names),
            created_at=DEMO_NOW - timedelta(days=12),
            last_updated_at=DEMO_NOW - timedelta(days=2),
            kernel=KernelInfo(
                "ipykernel", "6.29.5", "https://github.com/ipython/ipykernel", "IPython Kernel"
            ),
        )

    # -- executions -------------------------------------------------------------------------

    def _outcome(
        self, identifier: str, code: str, timeout: int, cap: int
    ) -> tuple[ExecutionStatus, str, str, Any, ImageResult | None, int]:
        sleep = _SLEEP_RE.search(code)
        if sleep and float(sleep.group(1)) > timeout:
            return (
                ExecutionStatus.FAILED,
                "",
                "Request timed out waiting for code execution to complete",
                "",
                None,
                timeout * 1000,
            )
        if "raise " in code or "1/0" in code.replace(" ", ""):
            error = "ZeroDivisionError: division by zero" if "1/0" in code else "ValueError: boom"
            stderr = (
                "Traceback (most recent call last):\n"
                '  File "<cell>", line 1, in <module>\n'
                f"{error}\n"
            )
            return ExecutionStatus.FAILED, "", stderr, "", None, 4
        if "plt." in code or "savefig" in code:
            return ExecutionStatus.SUCCEEDED, "", "", "", ImageResult("png", _demo_plot_png()), 35
        stdout, result = _literal_run(code)
        if "* 10000" in code or "*10000" in code:
            stdout = ("0123456789abcdef" * (cap // 16 + 1))[:cap]
        return ExecutionStatus.SUCCEEDED, stdout[:cap], "", result, None, 6

    def _check_input_fits_pool(self, code: str | ShellCommand) -> None:
        """The service's answers to code for the wrong pool type (contract §3.1, §6.3)."""
        shell_pool = self.container_type == "Shell"
        if isinstance(code, ShellCommand) and not shell_pool:
            raise BadRequestError(
                "Shell commands need a Shell session pool.",
                status=400,
                code="SessionRequestNotSupported",
            )
        if isinstance(code, str) and shell_pool:
            raise BadRequestError(
                "This is a Shell session pool: send a shell command, not code.",
                status=400,
                code="SessionPropertiesMissing",
            )

    async def start_execution(
        self, identifier: str, code: str | ShellCommand, options: RunOptions = DEFAULT_RUN
    ) -> Execution:
        await self._session_call("start_execution", identifier)
        self._check_input_fits_pool(code)
        self.runs.append((identifier, code, options))
        self._run_counter += 1
        execution_id = options.operation_id or f"exec-{self._run_counter:04d}"
        cap = options.output_max_length or DEFAULT_OUTPUT_MAX_LENGTH
        exit_code = None
        if isinstance(code, ShellCommand):
            exit_code, stdout, stderr = _fake_shell(code, cap)
            status = ExecutionStatus.SUCCEEDED if exit_code == 0 else ExecutionStatus.FAILED
            result, image, duration = None, None, 3
        else:
            status, stdout, stderr, result, image, duration = self._outcome(
                identifier, code, options.timeout, cap
            )
        final = Execution(
            id=execution_id,
            identifier=identifier,
            status=status,
            stdout=stdout,
            stderr=stderr,
            result=result,
            image=image,
            duration_ms=duration,
            stdout_truncated=len(stdout) >= cap,
            stderr_truncated=len(stderr) >= cap,
            timings=_TIMINGS,
            session_guid=self._sessions[identifier].etag,
            operation_location=None,
            exit_code=exit_code,
        )
        if not options.asynchronous:
            return final
        location = f"{self.endpoint}/executions/{execution_id}?identifier={identifier}"
        self._executions[(identifier, execution_id)] = (
            replace(final, operation_location=location),
            2,
        )
        return replace(
            final,
            status=ExecutionStatus.RUNNING,
            stdout="",
            stderr="",
            result=None,
            image=None,
            duration_ms=None,
            stdout_truncated=False,
            stderr_truncated=False,
            operation_location=location,
        )

    async def get_execution(self, identifier: str, execution_id: str) -> Execution:
        await self._session_call("get_execution", identifier)
        key = (identifier, execution_id)
        if key not in self._executions:
            raise NotFoundError(f"execution {execution_id!r} not found", status=404)
        final, polls_left = self._executions[key]
        if polls_left > 1:
            self._executions[key] = (final, polls_left - 1)
            return replace(final, status=ExecutionStatus.RUNNING, stdout="", result=None)
        return final

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
        """A custom container's app that echoes the request as JSON; other pools have none."""
        await self._call("request_path", identifier)
        verb, relative = validate_container_request(method, path, query, headers)
        if self.container_type != "CustomContainer":
            raise NotFoundError(f"{verb} /{relative}: this pool routes no requests to an app")
        echo: dict[str, object] = {"method": verb, "path": f"/{relative}"}
        echo.update(query=[list(pair) for pair in query_pairs(query)], bodyBytes=len(body or b""))
        data = json.dumps(echo).encode()
        answer_headers = {"content-type": "application/json", "x-fake-app": "echo"}
        return ContainerResponse(200, answer_headers, data[:max_bytes], len(data) > max_bytes)

    async def interrupt_kernel(self, identifier: str) -> bool:
        """Like the emulator's extension: nothing runs here for long, so nothing to stop."""
        await self._call("interrupt_kernel", identifier)
        return False

    async def execute(
        self,
        identifier: str,
        code: str | ShellCommand,
        options: RunOptions = DEFAULT_RUN,
        *,
        on_poll: PollCallback | None = None,
    ) -> Execution:
        execution = await self.start_execution(identifier, code, options)
        while not execution.status.is_terminal:
            if on_poll is not None:
                on_poll(execution)
            execution = await self.get_execution(identifier, execution.id)
        return execution

    # -- files ------------------------------------------------------------------------------

    async def list_files(
        self, identifier: str, *, path: str = "", recursive: bool = False
    ) -> list[RemoteFile]:
        await self._session_call("list_files", identifier)
        base = _normalise_dir(path)
        listing = [self._remote(n, e) for n, e in self._directory(identifier, base).items()]
        if recursive:
            for key, entries in self._tree(identifier).items():
                if key != base and key.startswith(f"{base}/" if base else ""):
                    relative = key[len(base) :].strip("/")
                    listing.extend(self._remote(n, e, relative) for n, e in entries.items())
        return sorted(listing, key=lambda f: (f.directory, not f.is_dir, f.name.lower()))

    async def get_file(self, identifier: str, name: str, *, path: str = "") -> RemoteFile:
        await self._session_call("get_file", identifier)
        return self._remote(name, self._entry(identifier, path, name))

    async def upload_file(
        self,
        identifier: str,
        local: Path,
        *,
        path: str = "",
        remote_name: str | None = None,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> RemoteFile:
        too_large = upload_size_problem(local.stat().st_size)
        if too_large is not None:
            raise PayloadTooLargeError(f"{local.name}: {too_large}", status=413)
        await self._session_call("upload_file", identifier)
        data = local.read_bytes()
        if progress is not None:
            step = max(1, len(data) // 4)
            for sent in range(0, len(data), step):
                progress(sent, len(data))
            progress(len(data), len(data))
        name = remote_name or local.name
        entry = _Entry(False, data, self.clock(), "application/octet-stream")
        self._directory(identifier, path)[name] = entry
        return self._remote(name, entry)

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
        await self._session_call("download_file", identifier)
        entry = self._entry(identifier, path, name, file_only=True)
        target = resolve_destination(dest, name, overwrite=overwrite)  # as SessionsClient does
        await write_atomically(
            _single_chunk(entry.data),
            target,
            overwrite=overwrite,
            total=len(entry.data),
            progress=progress,
        )
        return target

    async def read_file(
        self, identifier: str, name: str, *, path: str = "", max_bytes: int = 1_048_576
    ) -> bytes:
        await self._session_call("read_file", identifier)
        entry = self._entry(identifier, path, name, file_only=True)
        return entry.data[:max_bytes]

    async def delete_file(self, identifier: str, name: str, *, path: str = "") -> None:
        await self._session_call("delete_file", identifier)
        entry = self._entry(identifier, path, name)
        del self._directory(identifier, path)[name]
        if entry.is_dir:  # its own listing and every folder below it go too
            base = _normalise_dir(path)
            gone = f"{base}/{name}" if base else name
            tree = self._tree(identifier)
            for key in [k for k in tree if k == gone or k.startswith(f"{gone}/")]:
                del tree[key]


async def _single_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _literal_run(code: str) -> tuple[str, Any]:
    """Output of `print(<literals>)` statements and the value of a literal last expression."""
    try:
        module = ast.parse(code)
    except SyntaxError:
        return "", ""
    lines: list[str] = []
    result: Any = ""
    for index, statement in enumerate(module.body):
        if not isinstance(statement, ast.Expr):
            continue
        call = statement.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "print"
        ):
            try:
                lines.append(" ".join(str(ast.literal_eval(arg)) for arg in call.args))
            except (ValueError, TypeError, SyntaxError, RecursionError):
                lines.append("(the demo pool prints literals only)")
        elif index == len(module.body) - 1:
            try:
                result = ast.literal_eval(call)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                result = "(the demo pool evaluates literals only)"
    return "".join(f"{line}\n" for line in lines), result


@functools.cache
def _demo_plot_png() -> str:
    """The "figure" the demo returns for plotting snippets: a small line chart, base64 PNG.
    Drawn on first use, so importing the demo (the benchmarks do) does not import Pillow."""
    from PIL import Image, ImageDraw

    width, height = 48, 28
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(3, 2), (3, height - 4), (width - 2, height - 4)], fill="#444444")
    points = [(4 + x, height - 6 - int((x / 2.2) ** 1.35 * 0.45)) for x in range(0, width - 6, 2)]
    draw.line(points, fill="#1f77b4", width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_EXIT_RE = re.compile(r"(?:^|[;&|]\s*)exit\s+(\d{1,3})\s*$")


def _fake_shell(command: ShellCommand, cap: int) -> tuple[int, str, str]:
    """A deterministic stand-in for bash: `echo WORDS` prints, a final `exit N` sets the exit
    code, `cat` echoes stdin, `false` fails; anything else prints nothing and exits 0."""
    line = command.shown.strip()
    exit_code = 0
    stdout = stderr = ""
    if (ended := _EXIT_RE.search(line)) is not None:
        exit_code = int(ended.group(1))
        line = line[: ended.start()].strip()
    for part in (p.strip() for p in line.split(";")):
        if part.startswith("echo "):
            stdout += part[5:].strip().strip("'\"") + "\n"
        elif part == "cat":
            stdout += command.stdin or ""
        elif part == "false":
            exit_code = exit_code or 1
        elif part and part.split()[0] not in ("true", "cd", "ls", ":"):
            stderr += f"fake shell: {part.split()[0]}: not simulated\n"
    return exit_code, stdout[:cap], stderr[:cap]
