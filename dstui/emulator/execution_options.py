"""What every execution body carries besides its code or command, parsed once for both pool
types: executionType, timeoutInSeconds (capped as the platform caps it), outputStreamsMaxLength."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dstui.api.constants import (
    DEFAULT_EXECUTION_TIMEOUT_S,
    DEFAULT_OUTPUT_MAX_LENGTH,
    MAX_EXECUTION_TIMEOUT_S,
    MIN_EXECUTION_TIMEOUT_S,
)
from dstui.emulator.envelopes import VALIDATION_FAILED, ApiError

_EXECUTION_TYPES = {"synchronous": "Synchronous", "asynchronous": "Asynchronous"}


@dataclass(frozen=True)
class ExecutionOptions:
    execution_type: str  # "Synchronous" | "Asynchronous"
    timeout_s: int
    output_max_length: int


def bad_request(message: str, target: str, code: str = VALIDATION_FAILED) -> ApiError:
    return ApiError(400, code, message, target=target)


def integer_field(props: dict[str, Any], name: str, default: int) -> int:
    value = props.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'{name}' must be an integer.", name)
    return value


def parse_options(props: dict[str, Any]) -> ExecutionOptions:
    """The options of a (flat or unwrapped) execution body; enum values in any case."""
    named = props.get("executionType")
    execution_type = _EXECUTION_TYPES.get(str(named or "synchronous").lower())
    if execution_type is None:
        raise bad_request(f"Unknown executionType '{named}'.", "executionType")
    timeout = integer_field(props, "timeoutInSeconds", DEFAULT_EXECUTION_TIMEOUT_S)
    if timeout < MIN_EXECUTION_TIMEOUT_S:
        raise bad_request("'timeoutInSeconds' must be at least 1.", "timeoutInSeconds")
    max_length = integer_field(props, "outputStreamsMaxLength", DEFAULT_OUTPUT_MAX_LENGTH)
    if max_length < 0:
        raise bad_request(
            "'outputStreamsMaxLength' must not be negative.", "outputStreamsMaxLength"
        )
    return ExecutionOptions(
        execution_type=execution_type,
        timeout_s=min(timeout, MAX_EXECUTION_TIMEOUT_S),  # the platform's hard cap
        output_max_length=max_length,
    )
