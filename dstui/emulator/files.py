"""The session's /mnt/data on the host: path rules, and file access that cannot leave it.

Every access resolves the path with realpath, checks it stays inside the session's directory,
then walks it component by component with O_NOFOLLOW, so neither `..` nor a symlink made by
code in the session (even one swapped in between the check and the open) reaches a host file.
"""

from __future__ import annotations

import contextlib
import errno
import mimetypes
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dstui.api.constants import MOUNT_ROOT
from dstui.emulator.envelopes import VALIDATION_FAILED, ApiError, timestamp

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_LISTED = 10_000
DIRECTORY_CONTENT_TYPE = "application/octet-stream"


def _escape(target: str) -> ApiError:
    return ApiError(
        400, VALIDATION_FAILED, f"The {target} must stay inside {MOUNT_ROOT}.", target=target
    )


def not_found(name: str) -> ApiError:
    return ApiError(
        404, "FileNotFound", f"File '{name}' was not found in the session.", target="name"
    )


def directory_parts(path: str | None) -> list[str]:
    """`""`, `/`, `/mnt/data`, `x/y`, `/mnt/data/x/y` -> components under /mnt/data."""
    text = (path or "").strip()
    if text in ("", "/", MOUNT_ROOT, MOUNT_ROOT + "/"):
        return []
    if text.startswith(MOUNT_ROOT + "/"):
        text = text[len(MOUNT_ROOT) + 1 :]
    elif text.startswith("/"):
        raise _escape("path")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if any(part == ".." or "\x00" in part for part in parts):
        raise _escape("path")
    return parts


def file_name(name: str) -> str:
    """A single entry name; upload file names may carry a leading `/mnt/data/` (LlamaIndex, SK)."""
    if name.startswith(MOUNT_ROOT + "/"):
        name = name[len(MOUNT_ROOT) + 1 :]
    if name in ("", ".", "..") or "/" in name or "\x00" in name:
        raise ApiError(400, VALIDATION_FAILED, f"Invalid file name '{name}'.", target="name")
    return name


def content_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


@dataclass(frozen=True)
class FileEntry:
    name: str
    directory: str  # relative to the listed directory, "" at its top level
    is_dir: bool
    size: int
    modified: datetime

    @classmethod
    def from_stat(cls, name: str, directory: str, info: os.stat_result) -> FileEntry:
        modified = datetime.fromtimestamp(info.st_mtime, UTC)
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
        self.root = os.path.realpath(root)

    def _inside(self, parts: list[str], target: str) -> list[str]:
        resolved = os.path.realpath(os.path.join(self.root, *parts))
        relative = os.path.relpath(resolved, self.root)
        if relative == ".":
            return []
        if relative == ".." or relative.startswith("../") or os.path.isabs(relative):
            raise _escape(target)
        return relative.split(os.sep)

    @contextlib.contextmanager
    def directory(self, parts: list[str], *, create: bool = False) -> Iterator[int]:
        """An fd of the directory `parts` (under the root, symlinks resolved and checked)."""
        fd = os.open(self.root, _DIR_FLAGS)
        try:
            for part in self._inside(parts, "path"):
                try:
                    next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise ApiError(
                            404, "DirectoryNotFound", "The directory does not exist.", target="path"
                        ) from None
                    os.mkdir(part, 0o755, dir_fd=fd)
                    next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:  # ELOOP/ENOTDIR: a symlink or file in the way
                    raise _escape("path") from exc
                os.close(fd)
                fd = next_fd
            yield fd
        finally:
            os.close(fd)

    def _resolved_file(self, parts: list[str], name: str) -> tuple[list[str], str]:
        resolved = self._inside([*parts, name], "name")
        if not resolved:
            raise _escape("name")
        return resolved[:-1], resolved[-1]

    def stat(self, parts: list[str], name: str) -> FileEntry:
        dir_parts, base = self._resolved_file(parts, name)
        with self.directory(dir_parts) as dir_fd:
            try:
                info = os.stat(base, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                raise not_found(name) from None
        return FileEntry.from_stat(name, "", info)

    def open_read(self, parts: list[str], name: str) -> tuple[int, os.stat_result]:
        """An fd of a regular file, opened without following symlinks; the caller closes it."""
        dir_parts, base = self._resolved_file(parts, name)
        try:
            with self.directory(dir_parts) as dir_fd:
                fd = os.open(base, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        except ApiError as exc:
            raise not_found(name) if exc.status == 404 else exc from None
        except FileNotFoundError:
            raise not_found(name) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _escape("name") from exc
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise not_found(name)
        return fd, info

    def delete(self, parts: list[str], name: str) -> None:
        with self.directory(parts) as dir_fd:
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                raise not_found(name) from None
            if stat.S_ISDIR(info.st_mode):
                try:
                    os.rmdir(name, dir_fd=dir_fd)
                except OSError:
                    raise ApiError(
                        400, VALIDATION_FAILED, "The directory is not empty.", target="name"
                    ) from None
            else:
                os.unlink(name, dir_fd=dir_fd)

    def entries(self, parts: list[str], *, recursive: bool = False) -> list[FileEntry]:
        entries: list[FileEntry] = []
        with self.directory(parts) as dir_fd:
            self._list_into(dir_fd, "", recursive, entries)
        return entries

    def _list_into(self, dir_fd: int, prefix: str, recursive: bool, out: list[FileEntry]) -> None:
        with os.scandir(dir_fd) as it:
            children = sorted(it, key=lambda entry: entry.name)
        for child in children:
            if len(out) >= _MAX_LISTED:
                return
            try:
                info = child.stat(follow_symlinks=False)
            except FileNotFoundError:
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
                    self._list_into(sub_fd, sub_prefix, True, out)
                finally:
                    os.close(sub_fd)
