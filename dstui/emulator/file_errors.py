"""The service's error envelopes for what the file system says while serving a session's files."""

from __future__ import annotations

import errno
import stat

from dstui.api.constants import MOUNT_ROOT
from dstui.emulator.envelopes import VALIDATION_FAILED, ApiError

_SPECIAL_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFLNK: "a symbolic link",  # never followed: its target may be anywhere on the host
}


def escape_error(target: str) -> ApiError:
    return ApiError(
        400, VALIDATION_FAILED, f"The {target} must stay inside {MOUNT_ROOT}.", target=target
    )


def not_found(name: str) -> ApiError:
    return ApiError(
        404, "FileNotFound", f"File '{shown(name)}' was not found in the session.", target="name"
    )


def shown(text: str, limit: int = 80) -> str:
    """A client-supplied value as it appears in a message: shortened when long."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def special_kind(mode: int) -> str | None:
    return _SPECIAL_KINDS.get(stat.S_IFMT(mode))


def not_served(name: str, kind: str) -> ApiError:
    return ApiError(
        400,
        VALIDATION_FAILED,
        f"'{shown(name)}' is {kind}; only regular files and directories can be read.",
        target="name",
    )


def link_in_path(part: str) -> ApiError:
    return ApiError(
        400,
        VALIDATION_FAILED,
        f"'{shown(part)}' in the path is a symbolic link; links are not followed.",
        target="path",
    )


def os_error(exc: OSError, name: str, target: str = "name") -> ApiError:
    """The service's envelope for a file system error met while serving `name`."""
    code = exc.errno
    subject = f"'{shown(name)}'" if name else "the file"
    if code == errno.ENOENT:
        return not_found(name)
    if code in (errno.ELOOP, errno.ENOTDIR, errno.EXDEV):
        return escape_error(target)
    if code == errno.ENAMETOOLONG:
        return ApiError(400, VALIDATION_FAILED, f"The {target} is too long.", target=target)
    if code in (errno.ENXIO, errno.ENODEV):
        return not_served(name, "not a regular file")
    if code == errno.EISDIR:
        return ApiError(400, VALIDATION_FAILED, f"{subject} is a directory.", target=target)
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ApiError(
            403,
            "Forbidden",
            f"The emulator may not access {subject}: permission denied.",
            target=target,
        )
    if code == errno.EDQUOT:
        return ApiError(
            413, "PayloadTooLarge", "The session's storage quota is used up.", target=target
        )
    if code == errno.EFBIG:
        return ApiError(413, "PayloadTooLarge", f"{subject} is too large.", target=target)
    if code in (errno.EMFILE, errno.ENFILE, errno.EAGAIN):
        return ApiError(
            503,
            "ServiceUnavailable",
            "The emulator is out of file handles; retry shortly.",
            headers={"Retry-After": "1"},
        )
    if code == errno.ENOSPC:
        return ApiError(507, "InsufficientStorage", "The emulator's disk is full.")
    reason = exc.strerror or type(exc).__name__
    return ApiError(500, "FileSystemError", f"The file system failed on {subject}: {reason}.")
