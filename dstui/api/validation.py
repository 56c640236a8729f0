"""Checks applied before anything is sent; each failure raises RequestValidationError."""

from __future__ import annotations

import ipaddress
import logging
import uuid
import warnings
from urllib.parse import urlsplit, urlunsplit

from dstui.api.constants import (
    IDENTIFIER_MAX_LENGTH,
    IDENTIFIER_MIN_LENGTH,
    IDENTIFIER_RE,
    MAX_EXECUTION_TIMEOUT_S,
    MIN_EXECUTION_TIMEOUT_S,
    MOUNT_ROOT,
    OBSOLETE_AUDIENCE_HOST,
    api_version_date,
)
from dstui.api.errors import RequestValidationError

logger = logging.getLogger("dstui.api")

_LEGACY_EXECUTE_SUFFIX = "/python/execute"
_IDENTIFIER_HINT = (
    f"Use {IDENTIFIER_MIN_LENGTH}-{IDENTIFIER_MAX_LENGTH} characters: letters, digits and "
    "_ - | & ^ % $ # ( ) { } [ ] ; : < > ? / . , @ * + = ! ~ ' \" `"
)


def mask_identifier(identifier: str) -> str:
    """Shorten an identifier for logs and tables; whoever knows it can use the session."""
    if len(identifier) <= 8:
        return identifier[:1] + "…"
    return f"{identifier[:4]}…{identifier[-4:]}"


def validate_identifier(identifier: str) -> str:
    if not isinstance(identifier, str):
        raise RequestValidationError(
            "the session identifier must be a string", hint=_IDENTIFIER_HINT
        )
    if not IDENTIFIER_MIN_LENGTH <= len(identifier) <= IDENTIFIER_MAX_LENGTH:
        raise RequestValidationError(
            f"the session identifier has {len(identifier)} characters; "
            f"it needs {IDENTIFIER_MIN_LENGTH} to {IDENTIFIER_MAX_LENGTH}",
            hint=_IDENTIFIER_HINT,
        )
    if IDENTIFIER_RE.match(identifier) is None:
        bad = sorted({ch for ch in identifier if IDENTIFIER_RE.match(ch * 4) is None})
        shown = ", ".join(repr(ch) for ch in bad[:5])
        raise RequestValidationError(
            f"the session identifier contains characters the service refuses: {shown}",
            hint=_IDENTIFIER_HINT,
        )
    return identifier


def new_identifier(prefix: str = "dstui") -> str:
    """A fresh, unguessable identifier (uuid4 comes from os.urandom)."""
    return validate_identifier(f"{prefix}-{uuid.uuid4()}")


def validate_api_version(api_version: str) -> str:
    try:
        api_version_date(api_version)
    except (TypeError, ValueError):
        raise RequestValidationError(
            f"not an api-version: {api_version!r}",
            hint="Use a version such as 2025-10-02-preview or 2024-02-02-preview.",
        ) from None
    return api_version


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_endpoint(endpoint: str) -> bool:
    return is_loopback_host(urlsplit(endpoint).hostname or "")


def normalize_endpoint(url: str) -> str:
    """A pool management endpoint without trailing `/` or legacy `/python/execute`.

    https is required except for loopback hosts (the local emulator).
    """
    hint = (
        "Use the pool's management endpoint, e.g. "
        "https://<region>.dynamicsessions.io/subscriptions/<sub>/resourceGroups/<rg>/"
        "sessionPools/<pool> (az containerapp sessionpool show --query "
        "properties.poolManagementEndpoint)."
    )
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise RequestValidationError("no pool management endpoint given", hint=hint)
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise RequestValidationError(f"the endpoint is not a valid URL: {exc}", hint=hint) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise RequestValidationError(
            f"the endpoint must be an http(s) URL with a host, got {text[:120]!r}", hint=hint
        )
    if parts.username or parts.password:
        raise RequestValidationError("the endpoint must not contain credentials", hint=hint)
    if parts.query or parts.fragment:
        raise RequestValidationError(
            "the endpoint must not carry a query or fragment (api-version is added per call)",
            hint=hint,
        )
    if scheme == "http" and not is_loopback_host(host):
        raise RequestValidationError(
            f"refusing plain http to {host}: tokens must only travel over https",
            hint="Use https://, or http:// only for a loopback address such as 127.0.0.1.",
        )
    path = parts.path.rstrip("/")
    if path.lower().endswith(_LEGACY_EXECUTE_SUFFIX):
        path = path[: -len(_LEGACY_EXECUTE_SUFFIX)].rstrip("/")
    if ".." in path.split("/"):
        raise RequestValidationError("the endpoint path must not contain '..'", hint=hint)
    if host.lower() == OBSOLETE_AUDIENCE_HOST or host.lower().endswith(
        "." + OBSOLETE_AUDIENCE_HOST
    ):
        message = (
            f"{host} is the obsolete acasessions.io audience; current pools use "
            "*.dynamicsessions.io or *.azurecontainerapps.io"
        )
        warnings.warn(message, UserWarning, stacklevel=2)
        logger.warning(message)
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def validate_timeout(seconds: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise RequestValidationError(
            f"the execution timeout must be whole seconds, got {seconds!r}"
        )
    if not MIN_EXECUTION_TIMEOUT_S <= seconds <= MAX_EXECUTION_TIMEOUT_S:
        raise RequestValidationError(
            f"the execution timeout must be {MIN_EXECUTION_TIMEOUT_S}-{MAX_EXECUTION_TIMEOUT_S} "
            f"seconds, got {seconds}",
            hint=f"The service stops every execution after {MAX_EXECUTION_TIMEOUT_S} seconds.",
        )
    return seconds


def validate_output_max_length(length: int) -> int:
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise RequestValidationError(
            f"the output length cap must be a positive integer, got {length!r}"
        )
    return length


def validate_upload_size(size: int, limit: int) -> int:
    if size > limit:
        raise RequestValidationError(
            f"the file has {size:,} bytes, over the upload limit of {limit:,} bytes",
            hint="The service refuses uploads over 128 MB; split or compress the file.",
        )
    return size


def validate_remote_name(name: str) -> str:
    """A single file name inside a session directory (never a path)."""
    hint = "Give a plain file name; put the directory in `path`."
    if not isinstance(name, str) or not name or not name.strip():
        raise RequestValidationError("the remote file name is empty", hint=hint)
    if "\x00" in name:
        raise RequestValidationError("the remote file name contains a NUL character", hint=hint)
    if "/" in name or "\\" in name:
        raise RequestValidationError(
            f"the remote file name must not contain '/' or '\\': {name[:80]!r}", hint=hint
        )
    if name in (".", ".."):
        raise RequestValidationError(f"{name!r} is not a file name", hint=hint)
    return name


def normalize_remote_path(path: str) -> str:
    """A directory below /mnt/data, relative and without `.`: "", "/" and "/mnt/data" → ""."""
    hint = "Give a directory below /mnt/data, e.g. 'results' or '/mnt/data/results'."
    if not isinstance(path, str):
        raise RequestValidationError("the remote path must be a string", hint=hint)
    if "\x00" in path:
        raise RequestValidationError("the remote path contains a NUL character", hint=hint)
    if "\\" in path:
        raise RequestValidationError("the remote path must use '/' separators", hint=hint)
    text = path.strip()
    if text == MOUNT_ROOT or text.startswith(MOUNT_ROOT + "/"):
        text = text[len(MOUNT_ROOT) :]
    segments = [seg for seg in text.split("/") if seg not in ("", ".")]
    if ".." in segments:
        raise RequestValidationError(
            f"the remote path must not contain '..': {path[:80]!r}", hint=hint
        )
    return "/".join(segments)
