"""From kernel messages to the service's result fields (stdout/stderr/executionResult/image)."""

from __future__ import annotations

import re
from dataclasses import dataclass
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


@dataclass
class KernelOutput:
    """What one execute request produced, gathered from iopub."""

    stdout: str = ""
    stderr: str = ""
    value: dict[str, Any] | None = None  # the formatter's description of the last expression
    text_plain: str | None = None
    image_png: str | None = None
    error_name: str | None = None
    duration_ms: int = 0

    def absorb(self, msg_type: str, content: dict[str, Any]) -> None:
        if msg_type == "stream":
            if content.get("name") == "stderr":
                self.stderr += content.get("text", "")
            else:
                self.stdout += content.get("text", "")
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
            self.stderr += text if text.endswith("\n") else text + "\n"


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
