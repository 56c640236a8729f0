"""SessionsClient: every data-plane operation, for the old and the new API shape."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from dstui.api.auth import TokenProvider, token_identity
from dstui.api.constants import (
    DEFAULT_API_VERSION,
    DEFAULT_OUTPUT_MAX_LENGTH,
    MAX_UPLOAD_BYTES,
    OPERATION_ID_HEADER,
    OPERATION_LOCATION_HEADER,
    SESSION_PROPERTIES_MISSING,
    supports_output_cap,
    supports_session_management,
    uses_legacy_shape,
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
    DestinationExistsError,
    LocalFileError,
    MalformedResponseError,
    RemoteTarget,
    RequestTimeoutError,
    RequestValidationError,
)
from dstui.api.limits import DEFAULT_LIMITS, ClientLimits
from dstui.api.links import join_path, quote_segment, resolve_link
from dstui.api.models import (
    Execution,
    PoolMetadata,
    RemoteFile,
    Session,
    SessionPage,
    parse_file_list,
    parse_uploaded_file,
)
from dstui.api.observer import ExchangeObserver
from dstui.api.paging import PageGuard
from dstui.api.protocol import PollCallback, ProgressCallback
from dstui.api.requester import (
    Answer,
    BodyFactory,
    Call,
    Fallback,
    Requester,
    decode_json,
    json_body,
)
from dstui.api.retry import RetryPolicy
from dstui.api.run_options import DEFAULT_RUN, RunOptions
from dstui.api.shell_command import ShellCommand
from dstui.api.uploads import MultipartFileStream, has_unstated_size
from dstui.api.validation import (
    expand_local_path,
    is_loopback_endpoint,
    mask_identifier,
    normalize_endpoint,
    normalize_remote_path,
    validate_api_version,
    validate_execution_id,
    validate_identifier,
    validate_new_remote_name,
    validate_output_max_length,
    validate_remote_name,
    validate_timeout,
    validate_upload_size,
)
from dstui.common.lifecycle import AsyncClosing

logger = logging.getLogger("dstui.api")

# A synchronous execution may legitimately take the full 220 s; the read timeout must outlast it.
_EXECUTION_READ_SLACK_S = 30.0
# Polling an asynchronous execution: first delay, growth factor, ceiling, and how long past the
# requested timeout to keep polling before giving up.
_POLL_FIRST_S = 0.25
_POLL_FACTOR = 1.5
_POLL_MAX_S = 5.0
_POLL_GRACE_S = 120.0
# File bodies are fetched unencoded so Content-Length is the real size for progress.
_RAW_BODY_HEADERS = {"Accept": "*/*", "Accept-Encoding": "identity"}
# Success statuses the contract documents (or real gateways send) beyond a plain 200.
_EXECUTION_STATUSES = frozenset({200, 202})
_DELETE_STATUSES = frozenset({200, 202, 204})
_UPLOAD_STATUSES = frozenset({200, 201})
_STOP_STATUSES = frozenset({200, 204})
_RUN_CHECK = (
    "The code may already have run in the session (a gateway can fail after the session "
    "started it). Check before running it again: list the session's files or run a harmless "
    "probe, e.g. print a variable the code sets."
)
_UPLOAD_CHECK = (
    "The file may have arrived anyway: list the session's files (the Files pane, or "
    "`dstui files ls ID`) before uploading it again."
)
_STOP_CHECK = "Check the session (`dstui sessions show ID`) before repeating it."


class SessionsClient(AsyncClosing):
    """Async client for one session pool; use as `async with SessionsClient(...) as client`.

    Session-management routes (/session, /listSessions, /metadata, stopSession) only exist from
    2025-02-02-preview; with an older configured api-version they are sent with
    2025-10-02-preview (as LangChain does for delete). A 404 from delete_session is raised as
    NotFoundError: it may equally mean a wrong endpoint, so it is not silently ignored.

    `limits` bounds what a server can make the client do (call deadline, JSON answer size,
    transfer floor, paging); redirects and undocumented statuses are errors, never followed.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        auth: TokenProvider | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool | str = True,
        limits: ClientLimits = DEFAULT_LIMITS,
        observer: ExchangeObserver | None = None,
    ) -> None:
        self._endpoint = normalize_endpoint(endpoint)
        self._api_version = validate_api_version(api_version)
        if auth is None and not is_loopback_endpoint(self._endpoint):
            raise RequestValidationError(
                f"refusing to call {httpx.URL(self._endpoint).host} without authentication",
                hint="Only a loopback endpoint (the local emulator) may be used with auth 'none'.",
            )
        if timeout <= 0:
            raise RequestValidationError(f"the client timeout must be positive, got {timeout}")
        self.legacy = uses_legacy_shape(self._api_version)
        self._has_output_cap = supports_output_cap(self._api_version)
        self.max_upload_bytes = max_upload_bytes
        self._management_version = (
            self._api_version
            if supports_session_management(self._api_version)
            else DEFAULT_API_VERSION
        )
        # Which execution body wrapping the service accepted last (see SessionPropertiesMissing).
        self._wrap_properties = self.legacy
        self._auth = auth
        self._observer = observer
        self._http = Requester(
            auth=auth,
            retry=retry or RetryPolicy(),
            timeout=timeout,
            transport=transport,
            verify=verify,
            limits=limits,
            observer=observer,
            plain_http=httpx.URL(self._endpoint).scheme == "http",
        )
        self.limits = limits

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def api_version(self) -> str:
        return self._api_version

    async def signed_in_identity(self) -> str | None:
        """Whom the bearer token names (see token_identity); None without auth. Call it after
        a first request: the provider then hands back its cached token, with no round trip."""
        if self._auth is None:
            return None
        return token_identity(await self._auth.get_token())

    @property
    def wraps_execution_body(self) -> bool:
        """True while execution bodies are sent wrapped in `properties`."""
        return self._wrap_properties

    async def aclose(self) -> None:
        await self._http.aclose()
        # An observer may hold exchanges to write (the request log); off the event loop.
        close_observer = getattr(self._observer, "close", None)
        if callable(close_observer):
            await asyncio.to_thread(close_observer)

    def __repr__(self) -> str:
        return f"SessionsClient({self._endpoint!r}, api_version={self._api_version!r})"

    # -- helpers ---------------------------------------------------------------------------

    def _url(
        self, route: str, params: Mapping[str, str | None], *, version: str | None = None
    ) -> httpx.URL:
        present = tuple((key, value) for key, value in params.items() if value is not None)
        query = (("api-version", version or self._api_version), *present)
        return _build_url(self._endpoint, route, query)

    def _session_url(
        self, route: str, identifier: str, *, version: str | None = None, **params: str | None
    ) -> httpx.URL:
        return self._url(route, {"identifier": identifier, **params}, version=version)

    def _link(self, link: str, required: Mapping[str, str]) -> httpx.URL:
        return resolve_link(self._endpoint, link, required)

    async def _json(self, call: Call) -> Any:
        response = await self._http.send(call)
        return decode_json(response, call.what)

    # -- sessions --------------------------------------------------------------------------

    async def iter_session_pages(
        self, *, skip: int = 0, management: bool = False
    ) -> AsyncIterator[SessionPage]:
        """Pages in order, following nextLink; a UI can stop after any page. A repeated link
        or a passed paging bound (see ClientLimits) raises EndlessPagingError."""
        guard = PageGuard("list sessions", self.limits)
        page = await self.list_sessions_page(skip=skip, management=management)
        yield page
        guard.received(len(page.sessions), page.next_link)
        while page.next_link:
            page = await self.list_sessions_page(page.next_link, management=management)
            yield page
            guard.received(len(page.sessions), page.next_link)

    async def list_sessions_page(
        self, next_link: str | None = None, *, skip: int = 0, management: bool = False
    ) -> SessionPage:
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise RequestValidationError(f"skip must be a non-negative integer, got {skip!r}")
        path = ".management/listSessions" if management else "listSessions"
        version = self._api_version if management else self._management_version
        if next_link is not None:
            url = self._link(next_link, {"api-version": version})
        else:
            url = self._url(path, {"skip": str(skip) if skip else None}, version=version)
        call = Call("POST" if management else "GET", url, what="list sessions", idempotent=True)
        answer = await self._http.send(call)
        return SessionPage.from_bytes(answer.content)

    async def list_sessions(self, *, management: bool = False) -> list[Session]:
        sessions: list[Session] = []
        async for page in self.iter_session_pages(management=management):
            sessions.extend(page.sessions)
        return sessions

    async def get_session(self, identifier: str, *, management: bool = False) -> Session:
        identifier = validate_identifier(identifier)
        if management:
            url = self._session_url(".management/getSession", identifier)
            call = Call("POST", url, what="get session", idempotent=True, identifier=identifier)
        else:
            url = self._session_url("session", identifier, version=self._management_version)
            call = Call("GET", url, what="get session", idempotent=True, identifier=identifier)
        return Session.from_json(await self._json(call))

    async def delete_session(self, identifier: str) -> None:
        identifier = validate_identifier(identifier)
        url = self._session_url("session", identifier, version=self._management_version)
        await self._http.send(
            Call(
                "DELETE",
                url,
                what="delete session",
                idempotent=True,
                identifier=identifier,
                expected=_DELETE_STATUSES,
            )
        )
        logger.info("deleted session %s", mask_identifier(identifier))

    async def stop_session(self, identifier: str) -> str:
        """Custom-container pools; returns the service's text/plain confirmation."""
        identifier = validate_identifier(identifier)
        url = self._session_url(
            ".management/stopSession", identifier, version=self._management_version
        )
        response = await self._http.send(
            Call(
                "POST",
                url,
                what="stop session",
                idempotent=False,
                identifier=identifier,
                expected=_STOP_STATUSES,
                check_effect=_STOP_CHECK,
            )
        )
        text = response.text.strip()
        if text.startswith('"'):  # some gateways JSON-encode the plain string
            try:
                decoded = decode_json(response, "stop session")
                text = decoded if isinstance(decoded, str) else text
            except MalformedResponseError:
                pass
        return text

    async def get_pool_metadata(self) -> PoolMetadata:
        url = self._url("metadata", {}, version=self._management_version)
        call = Call("GET", url, what="get pool metadata", idempotent=True)
        return PoolMetadata.from_json(await self._json(call))

    # -- executions ------------------------------------------------------------------------

    def _output_cap(self, output_max_length: int | None) -> int | None:
        if not self._has_output_cap:
            return None
        if output_max_length is None:
            return DEFAULT_OUTPUT_MAX_LENGTH
        return output_max_length

    def _execution_body(
        self, code: str | ShellCommand, options: RunOptions, *, wrapped: bool
    ) -> dict[str, Any]:
        body: dict[str, Any]
        if isinstance(code, ShellCommand):
            body = {
                "executionType": "Asynchronous" if options.asynchronous else "Synchronous",
                **code.body_fields(),
                "timeoutInSeconds": options.timeout,
            }
            if options.output_max_length is not None and self._has_output_cap:
                body["outputStreamsMaxLength"] = options.output_max_length
        elif self.legacy:
            # The old shape documents lowercase enum values.
            body = {
                "codeInputType": "inline",
                "executionType": "synchronous",
                "code": code,
                "timeoutInSeconds": options.timeout,
            }
        else:
            body = {
                "codeInputType": "Inline",
                "executionType": "Asynchronous" if options.asynchronous else "Synchronous",
                "code": code,
                "timeoutInSeconds": options.timeout,
            }
            if options.output_max_length is not None and self._has_output_cap:
                body["outputStreamsMaxLength"] = options.output_max_length
            if options.jupyter_format:
                body["returnJupyterFormatExecutionResult"] = True
        return {"properties": body} if wrapped else body

    async def start_execution(
        self, identifier: str, code: str | ShellCommand, options: RunOptions = DEFAULT_RUN
    ) -> Execution:
        """POST the code (or a Shell pool's command) and return the first answer (RUNNING for
        an asynchronous start).

        On `400 SessionPropertiesMissing` the body is re-sent once with the other wrapping (the
        service ran nothing) and the wrapping that worked is kept for later calls.
        """
        identifier = validate_identifier(identifier)
        options = replace(options, timeout=validate_timeout(options.timeout))
        timeout = options.timeout
        shell = isinstance(code, ShellCommand)
        if not (shell or isinstance(code, str)):
            raise RequestValidationError("the code to run must be a string")
        if shell and (self.legacy or options.jupyter_format):
            raise RequestValidationError(
                "shell commands need api-version 2024-10-02-preview or later"
                if self.legacy
                else "Jupyter-format results are for Python pools, not shell commands"
            )
        if options.output_max_length is not None:
            validate_output_max_length(options.output_max_length)
        if self.legacy and (options.asynchronous or options.jupyter_format):
            feature = "asynchronous execution" if options.asynchronous else "Jupyter-format results"
            raise RequestValidationError(
                f"{feature} needs api-version 2024-10-02-preview or later "
                f"(this client uses {self._api_version})"
            )
        if options.jupyter_format and not self._has_output_cap:
            raise RequestValidationError(
                "Jupyter-format results need api-version 2025-10-02-preview or later"
            )
        headers: dict[str, str] = {}
        if options.operation_id is not None:
            if self.legacy:
                raise RequestValidationError("operation-id needs api-version 2024-10-02-preview+")
            headers[OPERATION_ID_HEADER] = validate_execution_id(
                options.operation_id, "operation id"
            )
        path = "code/execute" if self.legacy else "executions"
        url = self._session_url(path, identifier)
        cap = self._output_cap(options.output_max_length)

        def body(wrapped: bool) -> BodyFactory:
            return json_body(self._execution_body(code, options, wrapped=wrapped))

        wrapped = self._wrap_properties
        call = Call(
            "POST",
            url,
            what="run a shell command" if shell else "execute code",
            idempotent=False,
            identifier=identifier,
            headers=headers,
            body=body(wrapped),
            read_timeout=timeout + _EXECUTION_READ_SLACK_S,
            deadline_s=timeout + _EXECUTION_READ_SLACK_S + self.limits.call_deadline_s,
            expected=_EXECUTION_STATUSES,
            check_effect=_RUN_CHECK,
            fallback=Fallback(SESSION_PROPERTIES_MISSING, body(not wrapped)),
        )
        response = await self._http.send(call)
        if response.used_fallback:
            logger.info(
                "the service wants the %s execution body; switching",
                "flat" if wrapped else "properties-wrapped",
            )
            self._wrap_properties = not wrapped
        location = response.headers.get(OPERATION_LOCATION_HEADER)
        return _parse_execution(response, "execute code", identifier, cap, location)

    async def execute(
        self,
        identifier: str,
        code: str | ShellCommand,
        options: RunOptions = DEFAULT_RUN,
        *,
        on_poll: PollCallback | None = None,
    ) -> Execution:
        """Run code and return the finished execution; a non-terminal first answer (always the
        case for an asynchronous run, possible for a 202) is polled with backoff. Cancelling the
        awaiting task stops the polling (the service offers no way to stop the code itself)."""
        execution = await self.start_execution(identifier, code, options)
        if execution.status.is_terminal or self.legacy:  # the old shape has nothing to poll
            return execution
        cap = self._output_cap(options.output_max_length)
        return await self._poll(execution, cap, options.timeout, on_poll)

    async def _poll(
        self,
        execution: Execution,
        cap: int | None,
        timeout: int,
        on_poll: PollCallback | None,
    ) -> Execution:
        policy = self._http.retry
        identifier = execution.identifier
        if execution.operation_location:
            url = self._link(
                execution.operation_location,
                {"api-version": self._api_version, "identifier": identifier},
            )
        elif execution.id:
            url = self._execution_url(identifier, execution.id)
        else:
            raise MalformedResponseError(
                "the execution is still running but the answer names no way to poll it"
            )
        deadline = policy.clock() + timeout + _POLL_GRACE_S
        delay = _POLL_FIRST_S
        while True:
            if on_poll is not None:
                on_poll(execution)
            if policy.clock() + delay > deadline:
                raise RequestTimeoutError(
                    f"execution {execution.id or '?'} still {execution.status} after "
                    f"{timeout + _POLL_GRACE_S:.0f} s",
                    operation_id=execution.id or None,
                    hint="Fetch it later with get_execution, or check the session.",
                )
            await policy.sleep(delay)
            delay = min(delay * _POLL_FACTOR, _POLL_MAX_S)
            execution = await self._fetch_execution(
                url, identifier, "poll execution", cap, execution.operation_location
            )
            if execution.status.is_terminal:
                return execution

    def _execution_url(self, identifier: str, execution_id: str) -> httpx.URL:
        return self._session_url(f"executions/{quote_segment(execution_id)}", identifier)

    async def get_execution(self, identifier: str, execution_id: str) -> Execution:
        identifier = validate_identifier(identifier)
        if self.legacy:
            raise RequestValidationError(
                f"api-version {self._api_version} has no execution resources to fetch"
            )
        validate_execution_id(execution_id)
        url = self._execution_url(identifier, execution_id)
        return await self._fetch_execution(url, identifier, "get execution", self._output_cap(None))

    async def _fetch_execution(
        self,
        url: httpx.URL,
        identifier: str,
        what: str,
        cap: int | None,
        operation_location: str | None = None,
    ) -> Execution:
        call = Call(
            "GET",
            url,
            what=what,
            idempotent=True,
            identifier=identifier,
            expected=_EXECUTION_STATUSES,
        )
        response = await self._http.send(call)
        return _parse_execution(response, what, identifier, cap, operation_location)

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
        """Custom-container pools: send one request to the session's own app (`path` below the
        pool endpoint, `?identifier=…` added) and return its answer whatever the status, the
        body cut at `max_bytes`. Never retried: the app's semantics are unknown."""
        identifier = validate_identifier(identifier)
        verb, relative = validate_container_request(method, path, query, headers)
        params = (*query_pairs(query), ("identifier", identifier))
        url = _build_url(self._endpoint, relative, tuple(params))
        content = body

        def payload() -> tuple[bytes, Mapping[str, str]]:
            return content or b"", {}

        call = Call(
            verb,
            url,
            what=f"{verb} {'/' + relative}",
            idempotent=verb in ("GET", "HEAD", "OPTIONS"),
            identifier=identifier,
            headers={"Accept": "*/*", **(headers or {})},
            body=payload if content is not None else None,
        )
        answer = await self._http.send_raw(call, max_bytes)
        joined: dict[str, str] = {}
        for name, value in answer.headers.multi_items():
            key = name.lower()
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        return ContainerResponse(answer.status_code, joined, answer.content, answer.truncated)

    async def interrupt_kernel(self, identifier: str) -> bool:
        """EMULATOR ONLY (`/x-dstui/interruptKernel`, not part of the service): interrupt the
        code running in the session's kernel. True when there was a run to interrupt."""
        identifier = validate_identifier(identifier)
        url = self._session_url("x-dstui/interruptKernel", identifier)
        call = Call("POST", url, what="interrupt kernel", idempotent=True, identifier=identifier)
        answer = await self._json(call)
        return isinstance(answer, dict) and answer.get("interrupted") is True

    # -- files -----------------------------------------------------------------------------

    def _file_path_params(self, path: str) -> dict[str, str | None]:
        directory = normalize_remote_path(path)
        if self.legacy and directory:
            raise RequestValidationError(
                f"api-version {self._api_version} has no directories; only the root of /mnt/data",
                hint="Use api-version 2024-10-02-preview or later for sub-directories.",
            )
        return {"path": directory or None}

    def _file_call(
        self,
        method: str,
        identifier: str,
        name: str,
        path: str,
        *,
        what: str,
        content: bool,
        expected: frozenset[int] = frozenset({200}),
    ) -> Call:
        """A call on one file; its content is fetched unencoded (see _RAW_BODY_HEADERS)."""
        name = validate_remote_name(name)
        params = self._file_path_params(path)
        quoted = quote_segment(name)
        if self.legacy:
            route = f"files/content/{quoted}" if content else f"files/{quoted}"
        else:
            route = f"files/{quoted}/content" if content else f"files/{quoted}"
        return Call(
            method,
            self._session_url(route, identifier, **params),
            what=what,
            idempotent=True,
            identifier=identifier,
            headers=_RAW_BODY_HEADERS if content else {},
            remote=RemoteTarget(params["path"] or "", name),
            expected=expected,
        )

    async def list_files(
        self, identifier: str, *, path: str = "", recursive: bool = False
    ) -> list[RemoteFile]:
        identifier = validate_identifier(identifier)
        params = self._file_path_params(path)
        if recursive:
            if not self._has_output_cap:
                raise RequestValidationError(
                    "recursive listing needs api-version 2025-10-02-preview or later"
                )
            params["recursive"] = "true"
        url = self._session_url("files", identifier, **params)
        # The root always exists, so only a sub-directory's 404 can mean "no such directory".
        remote = RemoteTarget(params["path"]) if params["path"] else None
        files: list[RemoteFile] = []
        guard = PageGuard("list files", self.limits)
        while True:
            call = Call(
                "GET", url, what="list files", idempotent=True, identifier=identifier, remote=remote
            )
            body = await self._json(call)
            page = parse_file_list(body)
            files.extend(page)
            next_link = body.get("nextLink") if isinstance(body, dict) else None
            if not isinstance(next_link, str) or not next_link:
                return files
            guard.received(len(page), next_link)
            url = self._link(
                next_link, {"api-version": self._api_version, "identifier": identifier}
            )

    async def get_file(self, identifier: str, name: str, *, path: str = "") -> RemoteFile:
        identifier = validate_identifier(identifier)
        call = self._file_call("GET", identifier, name, path, what="get file", content=False)
        return parse_uploaded_file(await self._json(call))

    async def upload_file(
        self,
        identifier: str,
        local: Path,
        *,
        path: str = "",
        remote_name: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> RemoteFile:
        """Stream `local` as multipart field `file`; the size is checked before sending."""
        identifier = validate_identifier(identifier)
        local = expand_local_path(Path(local))
        name = validate_new_remote_name(remote_name if remote_name is not None else local.name)
        params = self._file_path_params(path)
        try:
            stat = local.stat()
        except OSError as exc:
            raise RequestValidationError(f"cannot read {local}: {exc.strerror or exc}") from None
        if not local.is_file():
            raise RequestValidationError(f"{local} is not a regular file")
        size = validate_upload_size(stat.st_size, self.max_upload_bytes)
        if not os.access(local, os.R_OK):
            raise RequestValidationError(f"cannot read {local}: permission denied")
        if size == 0 and has_unstated_size(local):
            raise RequestValidationError(
                f"{local} says it is empty but has content (a /proc or /sys file?), "
                "so its size cannot be sent",
                hint=f"Copy it to a regular file first (cp {local} copy.txt) and upload that.",
            )
        url = self._session_url("files/upload" if self.legacy else "files", identifier, **params)

        def body() -> tuple[MultipartFileStream, Mapping[str, str]]:
            stream = MultipartFileStream(local, filename=name, size=size, progress=progress)
            return stream, stream.headers

        call = Call(
            "POST",
            url,
            what="upload file",
            idempotent=False,
            identifier=identifier,
            body=body,
            expected=_UPLOAD_STATUSES,
            deadline_s=self.limits.call_deadline_s + size / self.limits.upload_min_bytes_per_s,
            check_effect=_UPLOAD_CHECK,
        )
        uploaded = parse_uploaded_file(await self._json(call))
        logger.info("uploaded %d bytes to session %s", size, mask_identifier(identifier))
        return uploaded

    async def download_file(
        self,
        identifier: str,
        name: str,
        dest: Path,
        *,
        path: str = "",
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
    ) -> Path:
        """Stream a file to `dest` (a file path, or a directory to put `name` in) through a
        temporary file and an atomic rename; raises DestinationExistsError unless overwrite."""
        identifier = validate_identifier(identifier)
        call = self._file_call("GET", identifier, name, path, what="download file", content=True)
        target = resolve_destination(Path(dest), name, overwrite=overwrite)

        async def save(response: httpx.Response, chunks: AsyncIterator[bytes]) -> Path:
            try:
                await write_atomically(
                    chunks,
                    target,
                    overwrite=overwrite,
                    total=_content_length(response),
                    progress=progress,
                )
            except DestinationExistsError:
                raise
            except OSError as exc:
                raise LocalFileError(f"cannot write {target}: {exc.strerror or exc}") from exc
            return target

        return await self._http.receive(call, save)

    async def read_file(
        self, identifier: str, name: str, *, path: str = "", max_bytes: int = 1_048_576
    ) -> bytes:
        """At most `max_bytes` from the start of a file (a preview; the rest is not fetched)."""
        identifier = validate_identifier(identifier)
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise RequestValidationError(f"max_bytes must be >= 0, got {max_bytes!r}")
        call = self._file_call("GET", identifier, name, path, what="read file", content=True)

        async def head(response: httpx.Response, body: AsyncIterator[bytes]) -> bytes:
            chunks: list[bytes] = []
            size = 0
            async for chunk in body:
                chunks.append(chunk)
                size += len(chunk)
                if size >= max_bytes:
                    break
            return b"".join(chunks)[:max_bytes]

        return await self._http.receive(call, head)

    async def delete_file(self, identifier: str, name: str, *, path: str = "") -> None:
        identifier = validate_identifier(identifier)
        call = self._file_call(
            "DELETE",
            identifier,
            name,
            path,
            what="delete file",
            content=False,
            expected=_DELETE_STATUSES,
        )
        await self._http.send(call)


@functools.lru_cache(maxsize=256)
def _build_url(endpoint: str, route: str, query: tuple[tuple[str, str], ...]) -> httpx.URL:
    """httpx spends tens of microseconds parsing a URL; the same few are built over and over
    (polling, one session's files), and httpx.URL is immutable, so they are cached."""
    return httpx.URL(join_path(endpoint, route), params=query)


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


def _parse_execution(
    response: Answer, what: str, identifier: str, cap: int | None, location: str | None
) -> Execution:
    return Execution.from_json(
        decode_json(response, what),
        headers=response.headers,
        identifier=identifier,
        output_max_length=cap,
        operation_location=location,
    )
