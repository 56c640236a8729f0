"""What a Shell pool runs instead of code: a bash command line or an argv, with optional stdin.

Pass one to `execute` / `start_execution` in place of the code string; the result is the usual
`Execution`, whose `exit_code` is the process exit code (the Shell pool's `status`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dstui.api.errors import RequestValidationError

MAX_STDIN_CHARS = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ShellCommand:
    """Exactly one of `command` (run by bash: `shellCommand`) or `argv` (run as is:
    `execCommandAndArgs`)."""

    command: str | None = None
    argv: tuple[str, ...] | None = None
    stdin: str | None = None

    def __post_init__(self) -> None:
        if (self.command is None) == (self.argv is None):
            raise RequestValidationError("give either a shell command line or an argv, not both")
        if self.command is not None and not self.command.strip():
            raise RequestValidationError("the shell command is empty")
        if self.argv is not None and (not self.argv or not self.argv[0]):
            raise RequestValidationError("the argv names no program")
        for text in (self.command, self.stdin, *(self.argv or ())):
            if text is not None and "\x00" in text:
                raise RequestValidationError("a shell command cannot contain NUL characters")
        if self.stdin is not None and len(self.stdin) > MAX_STDIN_CHARS:
            raise RequestValidationError(f"stdin is longer than {MAX_STDIN_CHARS} characters")

    @property
    def shown(self) -> str:
        """One line for logs and history: the command line, or the argv joined."""
        if self.command is not None:
            return self.command
        return " ".join(self.argv or ())

    def body_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = (
            {"shellCommand": self.command}
            if self.command is not None
            else {"execCommandAndArgs": list(self.argv or ())}
        )
        if self.stdin is not None:
            fields["stdin"] = self.stdin
        return fields
