"""The session's /mnt/data on the host: path rules, and file access that cannot leave it.

Every access walks the path component by component from the session's directory with
O_NOFOLLOW, so neither `..` nor a symlink made by code in the session (even one swapped in
between a check and the open) reaches a host file.

Only regular files and directories are served. Symlinks, FIFOs, sockets and device nodes that
code in a session made are never followed nor opened (a FIFO would block the reader until
someone writes to it): they are left out of listings, and naming one gets a 400. They can still
be deleted (a link, never its target).
Every method here does blocking file I/O: the routes call them on a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import mimetypes
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from dstui.api.constants import MOUNT_ROOT
from dstui.emulator.envelopes import VALIDATION_FAILED, ApiError, timestamp
from dstui.emulator.file_errors import (
    escape_error,
    link_in_path,
    not_found,
    not_served,
    os_error,
    shown,
    special_kind,
)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
_MAX_LISTED = 10_000
_MAX_DEPTH = 100  # levels a recursive listing descends
MAX_NAME_BYTES = 255  # NAME_MAX of Linux file systems
MAX_PATH_BYTES = 1024
DIRECTORY_CONTENT_TYPE = "application/octet-stream"
_T = TypeVar("_T")
_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


async def file_io(func: Callable[..., _T], *args: Any) -> _T:
    """Run blocking file I/O on a worker thread, so one slow file never stalls other requests."""
    return await anyio.to_thread.run_sync(func, *args)


def _checked_length(text: str, target: str, limit: int, what: str) -> None:
    try:
        size = len(os.fsencode(text))
    except UnicodeEncodeError:
        raise ApiError(
            400, VALIDATION_FAILED, f"The {target} is not valid text.", target=target
        ) from None
    if size > limit:
        raise ApiError(
            400,
            VALIDATION_FAILED,
            f"The {what} is {size} bytes long; the limit is {limit} bytes.",
            target=target,
        )


def directory_parts(path: str | None) -> list[str]:
    """`""`, `/`, `/mnt/data`, `x/y`, `/mnt/data/x/y` -> components under /mnt/data."""
    text = (path or "").strip()
    if text in ("", "/", MOUNT_ROOT, MOUNT_ROOT + "/"):
        return []
    if text.startswith(MOUNT_ROOT + "/"):
        text = text[len(MOUNT_ROOT) + 1 :]
    elif text.startswith("/"):
        raise escape_error("path")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if any(part == ".." or "\x00" in part for part in parts):
        raise escape_error("path")
    _checked_length(text, "path", MAX_PATH_BYTES, "path")
    for part in parts:
        _checked_length(part, "path", MAX_NAME_BYTES, f"directory name '{shown(part)}'")
    return parts


def file_name(name: str) -> str:
    """A single entry name; upload file names may carry a leading `/mnt/data/` (LlamaIndex, SK)."""
    if name.startswith(MOUNT_ROOT + "/"):
        name = name[len(MOUNT_ROOT) + 1 :]
    if name in ("", ".", "..") or "/" in name or "\x00" in name:
        raise ApiError(400, VALIDATION_FAILED, f"Invalid file name '{shown(name)}'.", target="name")
    _checked_length(name, "name", MAX_NAME_BYTES, "file name")
    return name


def content_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def modified_at(info: os.stat_result) -> datetime:
    """The mtime as a datetime, clamped: code may set any mtime (`os.utime(f, (0, 1e18))`)."""
    try:
        return datetime.fromtimestamp(info.st_mtime, UTC)
    except (OverflowError, OSError, ValueError):
        return _LATEST if info.st_mtime > 0 else _EARLIEST


@dataclass(frozen=True)
class FileEntry:
    name: str
    directory: str  # relative to the listed directory, "" at its top level
    is_dir: bool
    size: int
    modified: datetime

    @classmethod
    def from_stat(cls, name: str, directory: str, info: os.stat_result) -> FileEntry:
        modified = modified_at(info)
        return cls(name, directory, stat.S_ISDIR(info.st_mode), info.st_size, modified)

    def render(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "directory": self.directory,
            "type": "Directory" if self.is_dir else "File",
            "contentType": DIRECTORY_CONTENT_TYPE if self.is_dir else content_type(self.name),
            "sizeInBytes": self.size,
            "lastModifiedAt": timestamp(self.modified),
        }

    def render_legacy(self) -> dict[str, Any]:
        return {
            "filename": self.name,
            "size": self.size,
            "lastModifiedTime": timestamp(self.modified),
        }


class SessionFiles:
    def __init__(self, root: Path) -> None:
        self._given_root = root

    @functools.cached_property
    def root(self) -> str:
        return os.path.realpath(self._given_root)

    def open_directory(self, parts: list[str], *, create: bool = False) -> int:
        """An fd of the directory `parts`, no symlink followed; the caller closes it."""
        if any(part in ("", ".", "..") or "/" in part for part in parts):
            raise escape_error("path")
        fd = os.open(self.root, _DIR_FLAGS)
        try:
            for part in parts:
                next_fd = self._open_child_directory(fd, part, create)
                os.close(fd)
                fd = next_fd
        except BaseException:
            os.close(fd)
            raise
        return fd

    @staticmethod
    def _open_child_directory(fd: int, part: str, create: bool) -> int:
        try:
            try:
                return os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise ApiError(
                        404, "DirectoryNotFound", "The directory does not exist.", target="path"
                    ) from None
                with contextlib.suppress(FileExistsError):  # a concurrent upload made it
                    os.mkdir(part, 0o755, dir_fd=fd)
                return os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            if _is_link(fd, part):
                raise link_in_path(part) from None
            if not isinstance(exc, NotADirectoryError):  # ELOOP: a link swapped in since
                raise os_error(exc, part, "path") from None
            raise ApiError(
                400,
                VALIDATION_FAILED,
                f"'{shown(part)}' in the path is not a directory.",
                target="path",
            ) from None

    @contextlib.contextmanager
    def directory(self, parts: list[str], *, create: bool = False) -> Iterator[int]:
        fd = self.open_directory(parts, create=create)
        try:
            yield fd
        finally:
            os.close(fd)

    @staticmethod
    def _resolved_file(parts: list[str], name: str) -> tuple[list[str], str]:
        if name in ("", ".", "..") or "/" in name:
            raise escape_error("name")
        return parts, name

    def _lstat_served(self, dir_fd: int, base: str, name: str) -> os.stat_result:
        """The entry's own stat; links, FIFOs, sockets and devices are refused unopened."""
        try:
            info = os.stat(base, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as exc:
            raise os_error(exc, name) from None
        kind = special_kind(info.st_mode)
        if kind is not None:
            raise not_served(name, kind)
        return info

    def stat(self, parts: list[str], name: str) -> FileEntry:
        dir_parts, base = self._resolved_file(parts, name)
        with self.directory(dir_parts) as dir_fd:
            info = self._lstat_served(dir_fd, base, name)
        return FileEntry.from_stat(name, "", info)

    def open_read(self, parts: list[str], name: str) -> tuple[int, os.stat_result]:
        """An fd of a regular file, opened without following symlinks; the caller closes it."""
        dir_parts, base = self._resolved_file(parts, name)
        try:
            with self.directory(dir_parts) as dir_fd:
                self._lstat_served(dir_fd, base, name)
                try:
                    fd = os.open(base, _READ_FLAGS, dir_fd=dir_fd)
                except OSError as exc:
                    raise os_error(exc, name) from None
        except ApiError as exc:
            raise not_found(name) if exc.status == 404 else exc from None
        info = os.fstat(fd)  # what was opened, in case the entry was swapped since the check
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            kind = special_kind(info.st_mode)
            raise not_found(name) if kind is None else not_served(name, kind)
        return fd, info

    def delete(self, parts: list[str], name: str) -> None:
        """Removes a file, an empty directory, a link (never its target) or a special file."""
        with self.directory(parts) as dir_fd:
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if not stat.S_ISDIR(info.st_mode):
                    os.unlink(name, dir_fd=dir_fd)
                    return
                os.rmdir(name, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    raise ApiError(
                        400, VALIDATION_FAILED, "The directory is not empty.", target="name"
                    ) from None
                raise os_error(exc, name) from None

    def entries(self, parts: list[str], *, recursive: bool = False) -> list[FileEntry]:
        """Files and directories, by name; links and special files are left out."""
        entries: list[FileEntry] = []
        with self.directory(parts) as dir_fd:
            self._list_into(dir_fd, "", recursive, entries, depth=0)
        return entries

    def _list_into(
        self, dir_fd: int, prefix: str, recursive: bool, out: list[FileEntry], *, depth: int
    ) -> None:
        if depth > _MAX_DEPTH:
            raise ApiError(
                400,
                VALIDATION_FAILED,
                f"The directory tree is more than {_MAX_DEPTH} levels deep; "
                "list a sub-directory with 'path' instead.",
                target="recursive",
            )
        with os.scandir(dir_fd) as it:
            children = sorted(it, key=lambda entry: entry.name)
        for child in children:
            if len(out) >= _MAX_LISTED:
                return
            try:
                info = child.stat(follow_symlinks=False)
            except OSError:  # removed since, or unreadable
                continue
            if special_kind(info.st_mode) is not None:
                continue
            entry = FileEntry.from_stat(child.name, prefix, info)
            out.append(entry)
            if recursive and entry.is_dir:
                try:
                    sub_fd = os.open(child.name, _DIR_FLAGS, dir_fd=dir_fd)
                except OSError:
                    continue
                try:
                    sub_prefix = f"{prefix}/{child.name}" if prefix else child.name
                    self._list_into(sub_fd, sub_prefix, True, out, depth=depth + 1)
                finally:
                    os.close(sub_fd)


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False
