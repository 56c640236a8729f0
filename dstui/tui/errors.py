"""One way to turn any failure into a single line for the user (never markup, never a token)."""

from __future__ import annotations

from dstui.api.errors import DynamicSessionsError, redact


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, DynamicSessionsError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or type(exc).__name__}{where}"
    return redact(f"Unexpected error: {type(exc).__name__}: {exc}")
