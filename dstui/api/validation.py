"""Checks applied before anything is sent; each failure raises RequestValidationError."""

from __future__ import annotations

import logging
import uuid
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from dstui.api.constants import (
    IDENTIFIER_MAX_LENGTH,
    IDENTIFIER_MIN_LENGTH,
    IDENTIFIER_RE,
    MAX_EXECUTION_TIMEOUT_S,
    MAX_UPLOAD_BYTES,
    MIN_EXECUTION_TIMEOUT_S,
    MOUNT_ROOT,
    NAME_MAX_BYTES,
    OBSOLETE_AUDIENCE_HOST,
    PATH_MAX_BYTES,
    api_version_date,
)
from dstui.api.display import escape_controls, has_unsafe_chars
from dstui.api.errors import RequestValidationError
from dstui.common.net import is_loopback_host
from dstui.common.units import format_bytes

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
        shown = ", ".join(repr(ch) for ch in refused_identifier_characters(identifier)[:5])
        raise RequestValidationError(
            f"the session identifier contains characters the service refuses: {shown}",
            hint=_IDENTIFIER_HINT,
        )
    return identifier


def refused_identifier_characters(identifier: str) -> list[str]:
    """The characters of `identifier` the service refuses, each once, sorted."""
    return sorted(
        {ch for ch in identifier if IDENTIFIER_RE.match(ch * IDENTIFIER_MIN_LENGTH) is None}
    )


def new_identifier(prefix: str = "dstui") -> str:
    """A fresh, unguessable identifier (uuid4 comes from os.urandom)."""
    return validate_identifier(f"{prefix}-{uuid.uuid4()}")


def validate_api_version(api_version: str) -> str:
    try:
        api_version_date(api_version)
    except (TypeError, ValueError):
        raise RequestValidationError(
            f"not an api-version: {api_version!r}",
            hint="Use the form YYYY-MM-DD or YYYY-MM-DD-preview, "
            "such as 2025-10-02-preview or 2024-02-02-preview.",
        ) from None
    return api_version


def is_loopback_endpoint(endpoint: str) -> bool:
    try:
        return is_loopback_host(urlsplit(endpoint).hostname or "")
    except ValueError:  # not a URL at all; normalize_endpoint says why
        return False


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
    normalized = urlunsplit((scheme, parts.netloc, path, "", ""))
    try:
        httpx.URL(normalized)  # stricter than urlsplit, e.g. about IPv4 literals
    except httpx.InvalidURL as exc:
        raise RequestValidationError(f"the endpoint is not a valid URL: {exc}", hint=hint) from None
    return normalized


def timeout_problem(seconds: object) -> str | None:
    """What is wrong with an execution timeout, or None when the service accepts it; the one
    rule the client, the CLI and the TUI check."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        return f"the execution timeout must be whole seconds, got {seconds!r}"
    if not MIN_EXECUTION_TIMEOUT_S <= seconds <= MAX_EXECUTION_TIMEOUT_S:
        return (
            f"the execution timeout must be {MIN_EXECUTION_TIMEOUT_S}-{MAX_EXECUTION_TIMEOUT_S} "
            f"seconds, got {seconds}"
        )
    return None


def validate_timeout(seconds: int) -> int:
    problem = timeout_problem(seconds)
    if problem is not None:
        raise RequestValidationError(
            problem,
            hint=f"The service stops every execution after {MAX_EXECUTION_TIMEOUT_S} seconds.",
        )
    return seconds


def validate_output_max_length(length: int) -> int:
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise RequestValidationError(
            f"the output length cap must be a positive integer, got {length!r}"
        )
    return length


def upload_size_problem(size: int, limit: int = MAX_UPLOAD_BYTES) -> str | None:
    """What is wrong with uploading a file of `size` bytes, or None; the one rule the client,
    the demo pool and the TUI's picker check."""
    if size <= limit:
        return None
    return (
        f"the file has {format_bytes(size)} ({size:,} bytes), over the upload limit of "
        f"{format_bytes(limit)}"
    )


def validate_upload_size(size: int, limit: int) -> int:
    problem = upload_size_problem(size, limit)
    if problem is not None:
        raise RequestValidationError(
            problem,
            hint=f"The service refuses files over {format_bytes(MAX_UPLOAD_BYTES)}; "
            "split or compress the file.",
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
    size = _utf8_length(name)
    if size > NAME_MAX_BYTES:
        raise RequestValidationError(
            f"the remote file name is {size:,} bytes long (UTF-8); the limit is "
            f"{NAME_MAX_BYTES}: {name[:40]!r}…",
            hint="Choose a shorter name.",
        )
    return name


def validate_new_remote_name(name: str) -> str:
    """A name a file is given on upload: a remote name that also has no control characters
    (existing names may have them, so they can still be read and deleted)."""
    name = validate_remote_name(name)
    if has_unsafe_chars(name):
        raise RequestValidationError(
            f"the remote file name contains control characters: {escape_controls(name[:80])}",
            hint="Use letters, digits and punctuation only.",
        )
    return name


def expand_local_path(path: Path) -> Path:
    """`~` and `~user` expanded; an unknown user is a clear error, not a RuntimeError."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        raise RequestValidationError(
            f"cannot expand {str(path)[:120]!r}: no such user's home directory",
            hint="Give the path without ~user, or with an existing user's name.",
        ) from None


def validate_execution_id(value: str, what: str = "execution id") -> str:
    """An execution or operation id: it travels in a URL segment or a header."""
    if not isinstance(value, str) or not value.strip():
        raise RequestValidationError(f"the {what} is empty")
    if has_unsafe_chars(value):
        raise RequestValidationError(
            f"the {what} contains control characters: {escape_controls(value[:80])}",
            hint="Use letters, digits and punctuation only.",
        )
    if _utf8_length(value) > NAME_MAX_BYTES:
        raise RequestValidationError(
            f"the {what} is over {NAME_MAX_BYTES} bytes long", hint="Use a shorter id."
        )
    return value


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def normalize_remote_path(path: str) -> str:
    """A directory below /mnt/data, relative and without `.`: "" and "/mnt/data" → "";
    any other absolute path is refused."""
    hint = "Give a directory below /mnt/data, e.g. 'results' or '/mnt/data/results'."
    if not isinstance(path, str):
        raise RequestValidationError("the remote path must be a string", hint=hint)
    if "\x00" in path:
        raise RequestValidationError("the remote path contains a NUL character", hint=hint)
    if "\\" in path:
        raise RequestValidationError("the remote path must use '/' separators", hint=hint)
    text = path.strip()
    if _utf8_length(text) > PATH_MAX_BYTES:
        raise RequestValidationError(
            f"the remote path is {_utf8_length(text):,} bytes long; the limit is {PATH_MAX_BYTES}",
            hint=hint,
        )
    if text == MOUNT_ROOT or text.startswith(MOUNT_ROOT + "/"):
        text = text[len(MOUNT_ROOT) :]
    elif text.startswith("/"):
        # Every session file lives below /mnt/data: /etc or /tmp must not quietly become
        # /mnt/data/etc or /mnt/data/tmp.
        raise RequestValidationError(
            f"the remote path {path[:80]!r} is outside {MOUNT_ROOT}",
            hint=f"Give {MOUNT_ROOT} or a directory under it ({MOUNT_ROOT}/results), or a "
            "path relative to it (results).",
        )
    segments = [seg for seg in text.split("/") if seg not in ("", ".")]
    if ".." in segments:
        raise RequestValidationError(
            f"the remote path must not contain '..': {path[:80]!r}", hint=hint
        )
    for segment in segments:
        if _utf8_length(segment) > NAME_MAX_BYTES:
            raise RequestValidationError(
                f"a directory name in the remote path is over {NAME_MAX_BYTES} bytes: "
                f"{segment[:40]!r}…",
                hint=hint,
            )
    return "/".join(segments)
