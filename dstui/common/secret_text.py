"""Text that may be stored or shown: credential shapes redacted, lone surrogates replaced.

Standard library only, so the client, the recorder and the proxy share one definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
SECRET_MIN_CHARS = 8  # shorter "secrets" would blank out ordinary words
# Bearer credentials and JWT-shaped strings.
BEARER_RE = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]{16,}=*")
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*")


def redact_known(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each of `secrets` (longest first), then any bearer or JWT shape, redacted."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= SECRET_MIN_CHARS and secret in text:
            text = text.replace(secret, REDACTED)
    text = BEARER_RE.sub(r"\1" + REDACTED, text)
    return JWT_RE.sub(REDACTED, text) if "eyJ" in text else text  # the check is cheaper


def encodable(text: str) -> str:
    """`text` with lone surrogates (from `\\udc80`-style escapes, or undecodable file names)
    replaced by U+FFFD, so it can be encoded as UTF-8 (SQLite, a terminal, a HAR file)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text
