"""From kernel messages to the service's result fields (stdout/stderr/executionResult/image)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

RESULT_MIME = "application/x-dstui-result+json"

# Run once in every new kernel: a display formatter that reports the last expression's value
# as JSON (numbers stay numbers, strings stay strings, anything else becomes its repr).
BOOTSTRAP_CODE = f"""
def _dstui_install_result_formatter():
    import math, numbers
    from IPython import get_ipython
    from IPython.core.formatters import BaseFormatter
    from traitlets import Unicode

    class ResultFormatter(BaseFormatter):
        format_type = Unicode({RESULT_MIME!r})
        _return_type = (dict,)

    def describe(value):
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
            return {{"kind": "repr", "value": repr(value)}}
        if isinstance(value, str):
            return {{"kind": "text", "value": value}}
        if isinstance(value, numbers.Integral):
            return {{"kind": "number", "value": int(value)}}
        number = float(value)
        if not math.isfinite(number):
            return {{"kind": "null"}}
        return {{"kind": "number", "value": number}}

    shell = get_ipython()
    formatter = ResultFormatter(parent=shell.display_formatter)
    formatter.for_type(object, describe)
    shell.display_formatter.formatters[formatter.format_type] = formatter

_dstui_install_result_formatter()
del _dstui_install_result_formatter
"""

_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
TIMEOUT_MESSAGE = "Request timed out waiting for code execution to complete"
ABORTED_MESSAGE = "Execution aborted"


def strip_ansi(text: str) -> str:
    return _ANSI_RE.sub("", text)


# Of each stream, whatever outputStreamsMaxLength asks: a kernel that prints without end must not
# grow the emulator without end (the service cuts output too; contract §5.1).
MAX_KEPT_CHARS = 4 * 1024 * 1024


class BoundedText:
    """Text gathered from many small messages, kept up to `cap` characters and joined once when
    read (appending to one str would copy it on every message)."""

    __slots__ = ("_parts", "_size", "cap")

    def __init__(self, text: str = "", cap: int = MAX_KEPT_CHARS) -> None:
        self.cap = cap
        self._parts: list[str] = []
        self._size = 0
        self.add(text)

    def add(self, text: str) -> None:
        room = self.cap - self._size
        if room > 0 and text:
            piece = text[:room]
            self._parts.append(piece)
            self._size += len(piece)

    def end_with(self, note: str) -> None:
        """Append `note` even when full, cutting the text before it instead."""
        kept = str(self)[: max(0, self.cap - len(note))] + note
        self._parts, self._size = [kept], len(kept)

    def __str__(self) -> str:
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""


@dataclass
class KernelOutput:
    """What one execute request produced, gathered from iopub."""

    stdout_text: BoundedText = field(default_factory=BoundedText)
    stderr_text: BoundedText = field(default_factory=BoundedText)
    value: dict[str, Any] | None = None  # the formatter's description of the last expression
    text_plain: str | None = None
    image_png: str | None = None
    error_name: str | None = None
    duration_ms: int = 0

    @classmethod
    def failed(cls, stderr: str) -> KernelOutput:
        return cls(stderr_text=BoundedText(stderr))

    @property
    def stdout(self) -> str:
        return str(self.stdout_text)

    @property
    def stderr(self) -> str:
        return str(self.stderr_text)

    def absorb(self, msg_type: str, content: dict[str, Any]) -> None:
        if msg_type == "stream":
            stream = self.stderr_text if content.get("name") == "stderr" else self.stdout_text
            stream.add(str(content.get("text", "")))
        elif msg_type in ("execute_result", "display_data", "update_display_data"):
            data = content.get("data") or {}
            if "image/png" in data:
                self.image_png = str(data["image/png"]).replace("\n", "")
            if msg_type == "execute_result":
                self.value = data.get(RESULT_MIME)
                self.text_plain = data.get("text/plain")
        elif msg_type == "error":
            self.error_name = content.get("ename")
            traceback = content.get("traceback") or [
                f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
            ]
            text = strip_ansi("\n".join(traceback))
            self.stderr_text.add(text if text.endswith("\n") else text + "\n")


def execution_result(output: KernelOutput, *, jupyter_format: bool) -> Any:
    """The `executionResult` / `result` value as the service formats it (contract §5.2, §5.3)."""
    if output.image_png is not None:
        return {"type": "image", "format": "png", "base64_data": output.image_png}
    if jupyter_format:
        return output.text_plain  # None (no value) -> null
    if output.value is None:
        return ""
    if output.value.get("kind") == "null":
        return None
    return output.value.get("value", output.text_plain)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]
