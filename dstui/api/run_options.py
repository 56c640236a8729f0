"""How one piece of code should run: the options `execute` and `start_execution` share."""

from __future__ import annotations

from dataclasses import dataclass

from dstui.api.constants import DEFAULT_EXECUTION_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class RunOptions:
    """`timeout` is the service's own limit in seconds; `output_max_length` caps each stream
    (None: the service default); `operation_id` names the execution for later polling."""

    timeout: int = DEFAULT_EXECUTION_TIMEOUT_S
    output_max_length: int | None = None
    operation_id: str | None = None
    asynchronous: bool = False
    jupyter_format: bool = False


DEFAULT_RUN = RunOptions()
