"""Writing a download to a temporary file beside the target, then an atomic rename; no partial
file survives an error or a cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from dstui.api.display import safe_local_name
from dstui.api.errors import DestinationExistsError, RequestValidationError
from dstui.api.validation import expand_local_path, validate_remote_name

_PART_SUFFIX = ".dstui-part"


def resolve_destination(dest: Path, remote_name: str, *, overwrite: bool) -> Path:
    """The file to write: `dest` itself, or `dest/<remote_name>` when dest is a directory, with
    control characters and bidi overrides of a listed name mapped to `_`."""
    dest = expand_local_path(dest)
    # validate_remote_name rejects separators, "." and "..", so a name never leaves the directory.
    local_name = safe_local_name(validate_remote_name(remote_name))
    target = dest.resolve() / local_name if dest.is_dir() else dest
    check_destination(target, overwrite=overwrite)
    return target


def check_destination(target: Path, *, overwrite: bool) -> None:
    """The file's directory exists, and the file does not unless it may be replaced."""
    if not target.parent.is_dir():
        raise RequestValidationError(
            f"the destination directory {target.parent} does not exist",
            hint="Create it first or choose another destination.",
        )
    if target.exists() and not overwrite:
        raise DestinationExistsError(f"{target} already exists")


def open_part_file(target: Path) -> tuple[int, Path]:
    """A new, private temporary file beside `target` (its fd and path), to be renamed onto it."""
    for _ in range(8):
        part = target.with_name(f".{target.name}.{secrets.token_hex(4)}{_PART_SUFFIX}")
        try:
            # 0o666 so the final file gets the usual umask-derived mode.
            return os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), part
        except FileExistsError:
            continue
    raise RequestValidationError(f"cannot create a temporary file beside {target}")


async def write_atomically(
    chunks: AsyncIterator[bytes],
    target: Path,
    *,
    overwrite: bool,
    total: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Stream `chunks` into `target`; returns the number of bytes written."""
    fd, part = open_part_file(target)
    written = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            async for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
                if progress is not None:
                    progress(written, total)
            handle.flush()
            await asyncio.to_thread(os.fsync, handle.fileno())
        if not overwrite and target.exists():
            raise DestinationExistsError(f"{target} appeared while downloading")
        os.replace(part, target)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    fsync_directory(target.parent)
    return written


def fsync_directory(directory: Path) -> None:
    """Persist the rename itself (best effort: not every platform lets a directory be opened)."""
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
