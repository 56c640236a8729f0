"""Diagnostics on stderr for `--verbose`, with tokens removed and session identifiers masked."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO
from urllib.parse import unquote

from dstui.api.errors import redact
from dstui.api.validation import mask_identifier

_LOGGERS = ("dstui", "httpx", "azure")
_IDENTIFIER_PARAM_RE = re.compile(r"(identifier=)([^&\s\"'<>]+)")


class RedactingFormatter(logging.Formatter):
    """Formats, then strips bearer tokens, the given secrets, and identifiers in query strings."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        # Very short "secrets" would mangle ordinary words; tokens are long.
        self._secrets = tuple(s for s in secrets if len(s) >= 8)

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _IDENTIFIER_PARAM_RE.sub(
            lambda m: m.group(1) + mask_identifier(unquote(m.group(2))), text
        )


def _demote_azure_warnings(record: logging.LogRecord) -> bool:
    """azure-identity warns with the whole credential chain before dstui says which credential
    to fix; its text is detail, shown with --verbose as debug lines."""
    if record.name.startswith("azure") and record.levelno == logging.WARNING:
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
    return True


@contextmanager
def diagnostics(stream: TextIO, *, verbose: bool, secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """Route dstui/httpx/azure logs to `stream` for the duration of one CLI run.

    Quiet runs show warnings only (azure's count as debug, so none); verbose runs show dstui
    debug and HTTP request lines. The handler is removed afterwards so repeated in-process
    runs (tests) do not stack handlers.
    """
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(secrets))
    handler.addFilter(_demote_azure_warnings)
    levels = {
        "dstui": logging.DEBUG if verbose else logging.WARNING,
        "httpx": logging.INFO if verbose else logging.WARNING,
        "azure": logging.INFO if verbose else logging.ERROR,
    }
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.setLevel(levels[name])
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, level, propagate in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
