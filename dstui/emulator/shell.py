"""Shell pools (`--container-type Shell`): each command runs in a fresh bash in the session's
sandbox, cwd /mnt/data; the status is the exit code as a string (contract §3.1, spec examples
CodeExecution_Execute_ShellCommand / _ShellExecCommandAndArgs).

Nothing but the files persists between commands: the spec's example reads stdin and echoes in
one command line, and no shell-state semantics are documented, so a fresh process per command
is the honest minimum (and a hung command cannot poison the next one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from dstui.emulator.disk_quota import quota_message, usage_bytes
from dstui.emulator.envelopes import PROPERTIES_MISSING
from dstui.emulator.execution_options import bad_request as _bad
from dstui.emulator.execution_options import parse_options
from dstui.emulator.execution_record import ExecutionRecord
from dstui.emulator.pool import Session, SessionPool
from dstui.emulator.results import MAX_KEPT_CHARS, TIMEOUT_MESSAGE, truncate
from dstui.emulator.sandboxed_process import SandboxedProcess

logger = logging.getLogger("dstui.emulator")

BASH = "/bin/bash"
# argv runs through bash only so that a missing program exits 127 in every sandbox mode.
_EXEC_ARGV = 'exec "$0" "$@"'
_QUOTA_CHECK_S = 0.5
_DRAIN_AFTER_EXIT_S = 1.0  # a background child may hold the pipes open after the shell exits
_MAX_STDIN_CHARS = 4 * 1024 * 1024
_SIGKILL_EXIT = 128 + 9  # what a shell reports for a process killed by SIGKILL


@dataclass(frozen=True)
class ShellRequest:
    argv: list[str]  # what runs inside the sandbox
    stdin: str | None
    timeout_s: int
    output_max_length: int
    execution_type: str  # "Synchronous" | "Asynchronous"
    echo_type: bool  # the request named executionType: the answer names it too (spec examples)


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"'{name}' must be a string.", name)
    if "\x00" in value:
        raise _bad(f"'{name}' must not contain NUL characters.", name)
    return value


def _command_argv(props: dict[str, Any]) -> list[str]:
    command, argv = props.get("shellCommand"), props.get("execCommandAndArgs")
    if "code" in props or (command is None and argv is None):
        raise _bad(
            "This is a Shell session pool: send 'shellCommand' or 'execCommandAndArgs' "
            "(not 'code').",
            "shellCommand",
            PROPERTIES_MISSING,
        )
    if command is not None and argv is not None:
        raise _bad("Send either 'shellCommand' or 'execCommandAndArgs', not both.", "shellCommand")
    if command is not None:
        text = _text(command, "shellCommand")
        if not text.strip():
            raise _bad("'shellCommand' is empty.", "shellCommand")
        return [BASH, "-c", text]
    if not isinstance(argv, list) or not argv:
        raise _bad(
            "'execCommandAndArgs' must be a non-empty array of strings.", "execCommandAndArgs"
        )
    words = [_text(word, "execCommandAndArgs") for word in argv]
    if not words[0]:
        raise _bad("'execCommandAndArgs' names no program.", "execCommandAndArgs")
    return [BASH, "-c", _EXEC_ARGV, *words]


def parse_shell_request(body: Any) -> ShellRequest:
    """A Shell pool's execution body (flat or `properties`-wrapped, like Python bodies).

    `codeInputType` is tolerated (the spec's ShellCommand example sends it); `code` is the
    mistake of a Python client and is refused with SessionPropertiesMissing, as the service
    does (contract §3.1, §6.3)."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.", "body")
    wrapped = body.get("properties")
    props: dict[str, Any] = wrapped if isinstance(wrapped, dict) else body
    argv = _command_argv(props)
    stdin = props.get("stdin")
    if stdin is not None:
        stdin = _text(stdin, "stdin")
        if len(stdin) > _MAX_STDIN_CHARS:
            raise _bad(f"'stdin' exceeds {_MAX_STDIN_CHARS} characters.", "stdin")
    options = parse_options(props)
    return ShellRequest(
        argv=argv,
        stdin=stdin,
        timeout_s=options.timeout_s,
        output_max_length=options.output_max_length,
        execution_type=options.execution_type,
        echo_type=props.get("executionType") is not None,
    )


@dataclass
class _Outcome:
    exit_code: int
    stdout: str
    stderr: str
    duration_ms: int
    note: str = ""  # the emulator's own words for stderr (timeout, quota)
    killed: bool = False  # stopped by the emulator (timeout, quota), not ended by itself


async def _read_capped(stream: asyncio.StreamReader | None, keep_bytes: int) -> bytes:
    """Everything the stream sends is read (the writer never blocks); the first bytes are kept."""
    kept = bytearray()
    if stream is None:
        return b""
    while chunk := await stream.read(65536):
        if len(kept) < keep_bytes:
            kept += chunk[: keep_bytes - len(kept)]
    return bytes(kept)


async def _feed(process: asyncio.subprocess.Process, text: str | None) -> None:
    stdin = process.stdin
    if stdin is None:
        return
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        if text:
            stdin.write(text.encode())
            await stdin.drain()
        stdin.close()


async def _run(command: SandboxedProcess, request: ShellRequest, quota: int) -> _Outcome:
    started = time.monotonic()
    process = await command.start(pipes=True)
    # UTF-8: up to 4 bytes a character; the emulator's memory bounds what any request may ask.
    keep = min(request.output_max_length, MAX_KEPT_CHARS) * 4 + 4
    readers = [
        asyncio.create_task(_read_capped(process.stdout, keep)),
        asyncio.create_task(_read_capped(process.stderr, keep)),
    ]
    feeder = asyncio.create_task(_feed(process, request.stdin))
    note = ""
    deadline = started + request.timeout_s
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                note = TIMEOUT_MESSAGE
                break
            try:
                await asyncio.wait_for(process.wait(), min(remaining, _QUOTA_CHECK_S))
                break
            except TimeoutError:
                if await asyncio.to_thread(usage_bytes, command.data_dir) > quota:
                    note = quota_message(quota)
                    break
        killed = bool(note)
        if not killed:  # exited: give a background child holding the pipes a moment
            await asyncio.wait(readers, timeout=_DRAIN_AFTER_EXIT_S)
            if await asyncio.to_thread(usage_bytes, command.data_dir) > quota:
                note = quota_message(quota)  # written faster than the checks above
    finally:
        await command.stop()
        feeder.cancel()
    done, _ = await asyncio.wait(readers, timeout=_DRAIN_AFTER_EXIT_S)
    for task in readers:
        task.cancel()
    out, err = (task.result() if task in done else b"" for task in readers)
    code = process.returncode if process.returncode is not None else -9
    return _Outcome(
        exit_code=128 - code if code < 0 else code,
        stdout=out.decode(errors="replace"),
        stderr=err.decode(errors="replace"),
        duration_ms=int((time.monotonic() - started) * 1000),
        note=note,
        killed=killed,
    )


async def run_shell_execution(
    pool: SessionPool,
    session: Session,
    request: ShellRequest,
    record: ExecutionRecord,
    *,
    new_allocation: bool,
    received_at: float,
) -> None:
    """Run the command in the session's sandbox (one at a time per session); fill `record`."""
    container = session.container
    limit = request.output_max_length
    queued_ms = 0
    try:
        async with session.lock:
            queued_ms = int((time.monotonic() - received_at) * 1000)
            command = SandboxedProcess(
                pool.policy, container.data_dir, container.next_runtime_dir(), request.argv
            )
            container.processes.add(command)
            try:
                outcome = await _run(command, request, pool.policy.limits.disk_quota_bytes)
            finally:
                container.processes.discard(command)
            pool.touch(session)
        record.status = str(_SIGKILL_EXIT if outcome.killed else outcome.exit_code)
        record.stdout = truncate(outcome.stdout, limit)
        record.stderr = _with_note(outcome.stderr, outcome.note, limit)
        record.duration_ms = outcome.duration_ms
    except OSError as exc:
        logger.warning("shell command could not start: %s", exc)
        record.status, record.stderr = "126", truncate(f"The command could not start: {exc}", limit)
    except Exception:
        # An asynchronous execution must never stay "Running" because of an emulator fault.
        logger.exception("shell execution failed inside the emulator")
        record.status, record.stderr = str(_SIGKILL_EXIT), truncate("Execution aborted", limit)
    overall_ms = int((time.monotonic() - received_at) * 1000)
    record.timings = {
        "x-ms-overall-execution-time": str(overall_ms),
        "x-ms-preparation-time": str(queued_ms),
        "x-ms-execution-request-time": str(record.duration_ms),
        "x-ms-container-execution-duration": str(record.duration_ms),
        "x-ms-new-allocation": "true" if new_allocation else "false",
    }


def _with_note(stderr: str, note: str, limit: int) -> str:
    """The command's stderr within `limit`, leaving room for the emulator's note at its end."""
    if not note:
        return truncate(stderr, limit)
    ending = f"{note}\n"
    return truncate(truncate(stderr, max(0, limit - len(ending))) + ending, limit)


_bash_version: str | None = None


async def bash_version() -> str:
    """The version of the bash the commands run with ("5.2.21(1)-release"); "" if unknown.
    Asked once: the same binary serves every session."""
    global _bash_version
    if _bash_version is None:
        try:
            process = await asyncio.create_subprocess_exec(
                BASH,
                "-c",
                'printf %s "$BASH_VERSION"',
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await asyncio.wait_for(process.communicate(), 10)
        except (OSError, TimeoutError):
            return ""
        _bash_version = out.decode(errors="replace").strip()
    return _bash_version


def render_shell(record: ExecutionRecord) -> dict[str, Any]:
    """As the spec's Shell examples: no executionResult; executionType only if it was sent."""
    body: dict[str, Any] = {"id": record.id, "identifier": record.identifier}
    if record.echo_type:
        body["executionType"] = record.execution_type
    body["status"] = record.status
    if record.status != "Running":
        body["result"] = {
            "stdout": record.stdout,
            "stderr": record.stderr,
            "executionTimeInMilliseconds": record.duration_ms,
        }
    return body
