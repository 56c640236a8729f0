"""One way to turn any failure into a single line for the user (never markup, never a token)."""

from __future__ import annotations

from dstui.api.errors import DynamicSessionsError, safe_text


def describe_error(exc: BaseException) -> str:
    """Known tokens redacted and control characters escaped, whatever the error carries."""
    if isinstance(exc, DynamicSessionsError):
        return safe_text(str(exc))
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return safe_text(f"{exc.strerror or type(exc).__name__}{where}")
    return safe_text(f"Unexpected error: {type(exc).__name__}: {exc}")
