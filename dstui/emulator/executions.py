"""Code execution requests: body parsing (flat or `properties`), running, and both reply shapes."""

from __future__ import annotations

import base64
import binascii
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from dstui.emulator.envelopes import (
    NOT_SUPPORTED,
    PROPERTIES_MISSING,
    DollarIds,
)
from dstui.emulator.execution_options import bad_request as _bad
from dstui.emulator.execution_options import parse_options
from dstui.emulator.execution_record import ExecutionRecord
from dstui.emulator.kernels import KernelStartError
from dstui.emulator.pool import Session, SessionPool
from dstui.emulator.results import (
    ABORTED_MESSAGE,
    TIMEOUT_MESSAGE,
    KernelOutput,
    execution_result,
    truncate,
)

logger = logging.getLogger("dstui.emulator")

_INPUT_TYPES = {"inline", "inlinetext", "inlinebase64"}
_MAX_OPERATION_ID = 128


@dataclass(frozen=True)
class ExecutionRequest:
    code: str
    timeout_s: int
    output_max_length: int
    jupyter_format: bool
    execution_type: str  # "Synchronous" | "Asynchronous"


def parse_execution_request(body: Any) -> ExecutionRequest:
    """Accept the flat body and the `properties`-wrapped one, enum values in any case."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.", "body")
    wrapped = body.get("properties")
    props: dict[str, Any] = wrapped if isinstance(wrapped, dict) else body
    if "shellCommand" in props or "execCommandAndArgs" in props:
        raise _bad(
            "Shell commands need a Shell session pool; this pool runs Python (PythonLTS).",
            "shellCommand",
            NOT_SUPPORTED,
        )
    code = props.get("code")
    if not isinstance(code, str):
        raise _bad("The request has no 'code' property.", "code", PROPERTIES_MISSING)
    input_type = str(props.get("codeInputType") or "inline").lower()
    if input_type not in _INPUT_TYPES:
        raise _bad(f"Unknown codeInputType '{props.get('codeInputType')}'.", "codeInputType")
    if input_type == "inlinebase64":
        try:
            code = base64.b64decode(code, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _bad("'code' is not valid base64 of UTF-8 text.", "code") from None
    options = parse_options(props)
    # `returnJupyterFormat` is the misspelling in one spec example. `useEmptyKernel` is accepted
    # and ignored: the service does not document what it does.
    jupyter = props.get("returnJupyterFormatExecutionResult", props.get("returnJupyterFormat"))
    return ExecutionRequest(
        code=code,
        timeout_s=options.timeout_s,
        output_max_length=options.output_max_length,
        jupyter_format=bool(jupyter),
        execution_type=options.execution_type,
    )


def new_record(session: Session, execution_type: str, operation_id: str | None) -> ExecutionRecord:
    if operation_id is not None and not 0 < len(operation_id) <= _MAX_OPERATION_ID:
        raise _bad("The operation-id header must have 1 to 128 characters.", "operation-id")
    record = ExecutionRecord(
        id=operation_id or str(uuid.uuid4()),
        identifier=session.identifier,
        execution_type=execution_type,
        session_guid=session.container.id,
    )
    session.remember(record)
    return record


async def run_execution(
    pool: SessionPool,
    session: Session,
    request: ExecutionRequest,
    record: ExecutionRecord,
    *,
    new_allocation: bool,
    received_at: float,
) -> None:
    """Run the code in the session's kernel (one execution at a time) and fill `record`."""
    start_ms = queued_ms = 0
    try:
        async with session.lock:
            queued_ms = int((time.monotonic() - received_at) * 1000)
            try:
                lease = await pool.lease_kernel(session)
            except (KernelStartError, OSError) as exc:
                logger.warning("kernel start failed: %s", exc)
                failure = KernelOutput.failed(f"{ABORTED_MESSAGE}: {exc}")
                _finish(record, request, "aborted", failure)
            else:
                start_ms = lease.start_ms
                new_allocation = new_allocation or lease.new_allocation
                executed = await lease.kernel.execute(request.code, request.timeout_s)
                if executed.kernel_broken:
                    await pool.replace_kernel(session)
                _finish(record, request, executed.outcome, executed.output)
            pool.touch(session)
    except Exception:
        # An asynchronous execution must never stay "Running" because of an emulator fault.
        logger.exception("execution failed inside the emulator")
        _finish(record, request, "aborted", KernelOutput())
    overall_ms = int((time.monotonic() - received_at) * 1000)
    record.timings = {
        "x-ms-overall-execution-time": str(overall_ms),
        "x-ms-preparation-time": str(queued_ms + start_ms),
        "x-ms-execution-request-time": str(record.duration_ms),
        "x-ms-execution-read-response-time": "0",
        "x-ms-total-execution-service-time": str(overall_ms),
        "x-ms-container-execution-duration": str(record.duration_ms),
        "x-ms-allocation-time": str(start_ms),
        "x-ms-allocation-retries": "0",
        "x-ms-new-allocation": "true" if new_allocation else "false",
    }


def _finish(
    record: ExecutionRecord, request: ExecutionRequest, outcome: str, out: KernelOutput
) -> None:
    limit = request.output_max_length
    record.stdout = truncate(out.stdout, limit)
    record.duration_ms = out.duration_ms
    if outcome == "timeout":
        record.status, record.stderr, record.result = "Failed", TIMEOUT_MESSAGE, ""
    elif outcome == "aborted":
        record.status, record.result = "Failed", ""
        record.stderr = truncate(
            out.stderr if out.stderr.startswith(ABORTED_MESSAGE) else ABORTED_MESSAGE, limit
        )
    else:
        record.status = "Failed" if outcome == "error" else "Succeeded"
        record.stderr = truncate(out.stderr, limit)
        record.result = execution_result(out, jupyter_format=request.jupyter_format)


def render_new(record: ExecutionRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": record.id,
        "identifier": record.identifier,
        "executionType": record.execution_type,
        "status": record.status,
    }
    if record.status != "Running":
        body["result"] = {
            "stdout": record.stdout,
            "stderr": record.stderr,
            "executionResult": record.result,
            "executionTimeInMilliseconds": record.duration_ms,
        }
    return body


def render_legacy(record: ExecutionRecord) -> dict[str, Any]:
    ids = DollarIds()
    outer = ids()
    return {
        "$id": outer,
        "properties": {
            "$id": ids(),
            "status": "Success" if record.status == "Succeeded" else "Failure",
            "stdout": record.stdout,
            "stderr": record.stderr,
            "result": record.result,
            "executionTimeInMilliseconds": record.duration_ms,
        },
    }
