"""What the emulator keeps of one execution; a session holds its recent ones (see pool.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ExecutionRecord:
    id: str
    identifier: str
    execution_type: str
    status: str = "Running"  # Running | Succeeded | Failed; a Shell pool's exit code
    stdout: str = ""
    stderr: str = ""
    result: Any = ""
    duration_ms: int = 0
    timings: dict[str, str] = field(default_factory=dict)
    session_guid: str = ""
    echo_type: bool = True  # a Shell answer names executionType only when the request did
