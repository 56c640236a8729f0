"""Export a session's whole /mnt/data as one .tar.gz or .zip, atomically.

The tree is walked directory by directory (`list_files` with `path`, which every api-version
with directories has). Each file is downloaded into a private staging file beside the target
and then copied into the archive in chunks: the client may retry a download that broke off,
which a half-written archive member could not undo, and a tar header needs the exact size.
So no file is ever whole in memory, and at most one file is staged at a time.

The archive is written to a temporary file in the target's directory, fsynced and renamed;
on any failure (or cancellation) the temporary and staging files are removed. Member names are
made from the listed names one component at a time: an empty, `.`, `..` or slash-bearing name
is skipped (and reported), control characters become `_`, so no member leaves the archive root.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tarfile
import time
import zipfile
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from dstui.api.display import escape_controls, safe_local_name
from dstui.api.downloads import check_destination, fsync_directory, open_part_file
from dstui.api.errors import DestinationExistsError, LocalFileError, RequestValidationError
from dstui.api.models import RemoteFile
from dstui.api.protocol import SessionPoolAPI
from dstui.api.validation import expand_local_path

FORMATS = {".tar.gz": "tar.gz", ".tgz": "tar.gz", ".zip": "zip"}
_COPY_CHUNK = 1024 * 1024
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the oldest time a zip entry can hold
_ZIP_LAST = (2107, 12, 31, 23, 59, 58)  # and the latest


@dataclass(frozen=True, slots=True)
class ExportLimits:
    """Bounds on what a (possibly lying) server's listings can make the walk do."""

    max_depth: int = 32
    max_directories: int = 10_000
    max_files: int = 100_000


@dataclass(frozen=True, slots=True)
class ExportProgress:
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int | None  # None when a listing gave no size for some file
    current: str  # the member being written ("" once done)


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    remote: str  # where it is under /mnt/data, control characters escaped
    reason: str


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    format: str  # "tar.gz" or "zip"
    files: int
    directories: int
    bytes: int  # file contents, before compression
    skipped: tuple[SkippedEntry, ...]


ExportProgressCallback = Callable[[ExportProgress], None]


@dataclass(frozen=True, slots=True)
class _Member:
    directory: str  # the remote directory under /mnt/data ("" for the root)
    name: str  # the remote name
    member: str  # its name in the archive
    is_dir: bool
    size: int | None
    modified: datetime | None


def archive_format(path: Path) -> str:
    """ "tar.gz" or "zip" from the file name's suffix; anything else is refused."""
    name = path.name.lower()
    for suffix, kind in FORMATS.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return kind
    raise RequestValidationError(
        f"cannot tell the archive format of {path.name!r}",
        hint="End the file name with .tar.gz, .tgz or .zip.",
    )


def default_archive_name(identifier: str) -> str:
    """`ID.tar.gz`, made a plain file name: identifiers may hold `/` (and come from a
    listing), which must not lead the archive elsewhere."""
    name = safe_local_name(identifier).replace("/", "_").replace("\\", "_")
    return f"{'_' + name if name.startswith('.') else name}.tar.gz"


def resolve_archive_path(output: Path | None, identifier: str, *, overwrite: bool) -> Path:
    """Where to write: `output` (a file, or a directory to put ID.tar.gz in), else ./ID.tar.gz;
    checks the format, the directory, and that nothing is overwritten without `overwrite`."""
    target = expand_local_path(output) if output is not None else Path.cwd()
    if target.is_dir():
        target = target / default_archive_name(identifier)
    archive_format(target)
    check_destination(target, overwrite=overwrite)
    return target


async def export_session(
    pool: SessionPoolAPI,
    identifier: str,
    target: Path,
    *,
    overwrite: bool = False,
    progress: ExportProgressCallback | None = None,
    limits: ExportLimits | None = None,
) -> ExportResult:
    """Write all of the session's /mnt/data to `target` (format from its suffix). Every
    listing and download touches the session (resets its cooldown)."""
    kind = archive_format(target)
    if target.exists() and not overwrite:
        raise DestinationExistsError(f"{target} already exists")
    members, skipped = await walk_session(pool, identifier, limits or ExportLimits())
    tally = _Tally(members, progress)
    handle, part = _open_part(target)
    staging = part.with_suffix(".staging")
    try:
        staging.mkdir(mode=0o700)
        with handle:
            archive = _ArchiveWriter(handle, kind)
            try:
                for member in members:
                    if member.is_dir:
                        archive.add_directory(member)
                        continue
                    staged = staging / "file"
                    tally.start(member)
                    await pool.download_file(
                        identifier,
                        member.name,
                        staged,
                        path=member.directory,
                        overwrite=True,
                        progress=tally.receiving,
                    )
                    size = staged.stat().st_size
                    await _unstoppable(asyncio.to_thread(archive.add_file, member, staged, size))
                    staged.unlink()
                    tally.finished(size)
            finally:
                archive.close()
            handle.flush()
            await _unstoppable(asyncio.to_thread(os.fsync, handle.fileno()))
        _publish(part, target, overwrite=overwrite)
    except OSError as exc:
        handle.close()
        _discard(part, staging)
        raise LocalFileError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        handle.close()
        _discard(part, staging)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    fsync_directory(target.parent)
    tally.done()
    return ExportResult(
        path=target,
        format=kind,
        files=tally.files_total,
        directories=len(members) - tally.files_total,
        bytes=tally.written,
        skipped=tuple(skipped),
    )


async def _unstoppable(work: Coroutine[Any, Any, None]) -> None:
    """Await work done in a thread; a cancellation waits for the thread to finish (it cannot
    be stopped) before it goes on, so the file is never closed under the thread."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


class _Tally:
    """Counts files and bytes and tells the progress callback."""

    def __init__(self, members: list[_Member], progress: ExportProgressCallback | None) -> None:
        sizes = [m.size for m in members if not m.is_dir]
        self.files_total = len(sizes)
        self.bytes_total = None if None in sizes else sum(s or 0 for s in sizes)
        self.files_done = self.written = 0
        self._current = ""
        self._progress = progress
        self._tell(0)

    def start(self, member: _Member) -> None:
        self._current = member.member
        self._tell(self.written)

    def receiving(self, done: int, _total: int | None) -> None:
        self._tell(self.written + done)

    def finished(self, size: int) -> None:
        self.files_done += 1
        self.written += size
        self._tell(self.written)

    def done(self) -> None:
        self._current = ""
        self._tell(self.written)

    def _tell(self, bytes_done: int) -> None:
        if self._progress is not None:
            self._progress(
                ExportProgress(
                    self.files_done, self.files_total, bytes_done, self.bytes_total, self._current
                )
            )


class _Lister(Protocol):
    async def list_files(
        self, identifier: str, *, path: str = "", recursive: bool = False
    ) -> list[RemoteFile]: ...


async def walk_session(
    pool: _Lister, identifier: str, limits: ExportLimits | None = None
) -> tuple[list[_Member], list[SkippedEntry]]:
    """Every directory and file under /mnt/data, parents before children, with the archive
    name each gets; and what was left out and why."""
    members: list[_Member] = []
    skipped: list[SkippedEntry] = []
    pending: deque[tuple[str, str, int]] = deque([("", "", 0)])  # remote dir, archive dir, depth
    limits = limits or ExportLimits()
    directories = files = 0
    while pending:
        directory, prefix, depth = pending.popleft()
        try:
            listed = await pool.list_files(identifier, path=directory)
        except RequestValidationError as exc:
            if not directory:
                raise
            # Old api-versions have no directories below the root: keep the rest.
            skipped.append(SkippedEntry(_remote(directory, ""), exc.message))
            continue
        taken: set[str] = set()
        for entry in sorted(listed, key=_by_name):
            where = _remote(directory, entry.name)
            problem = _unsafe_component(entry.name)
            if problem:
                skipped.append(SkippedEntry(where, problem))
                continue
            local = _unique(safe_local_name(entry.name), taken)
            member = f"{prefix}{local}"
            if entry.is_dir:
                directories += 1
                if depth + 1 > limits.max_depth or directories > limits.max_directories:
                    skipped.append(SkippedEntry(where, "too deep or too many directories"))
                    continue
                members.append(_Member(directory, entry.name, member, True, None, None))
                child = f"{directory}/{entry.name}" if directory else entry.name
                pending.append((child, member + "/", depth + 1))
                continue
            files += 1
            if files > limits.max_files:
                raise RequestValidationError(
                    f"the session lists more than {limits.max_files:,} files; not exported"
                )
            members.append(
                _Member(directory, entry.name, member, False, entry.size, entry.last_modified)
            )
    return members, skipped


def _by_name(entry: RemoteFile) -> tuple[bool, str]:
    return (entry.is_dir, entry.name)


def _remote(directory: str, name: str) -> str:
    return escape_controls("/".join(p for p in ("/mnt/data", directory, name) if p))


def _unsafe_component(name: str) -> str | None:
    if not name or not name.strip():
        return "empty name"
    if name in (".", ".."):
        return f"{name!r} is not a name"
    if "/" in name or "\\" in name or "\x00" in name:
        return "the name holds a path separator or NUL"
    return None


def _unique(name: str, taken: set[str]) -> str:
    """Two names that map to the same safe name (`a\\x1b` and `a\\x07`) keep apart."""
    candidate, number = name, 2
    while candidate in taken:
        stem, dot, suffix = name.partition(".")
        candidate = f"{stem} ({number}){dot}{suffix}"
        number += 1
    taken.add(candidate)
    return candidate


class _ArchiveWriter:
    """Members into an open binary file, as tar.gz or zip."""

    def __init__(self, handle: IO[bytes], kind: str) -> None:
        self._tar: tarfile.TarFile | None = None
        self._zip: zipfile.ZipFile | None = None
        if kind == "zip":
            self._zip = zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED)
        else:
            # Closed by close(); the archive outlives this constructor.
            self._tar = tarfile.open(  # noqa: SIM115
                fileobj=handle, mode="w:gz", format=tarfile.PAX_FORMAT
            )

    def add_directory(self, member: _Member) -> None:
        if self._tar is not None:
            info = self._tar_info(member.member, member.modified)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            self._tar.addfile(info)
        elif self._zip is not None:
            self._zip.writestr(self._zip_info(member.member + "/", member.modified), b"")

    def add_file(self, member: _Member, staged: Path, size: int) -> None:
        with staged.open("rb") as source:
            if self._tar is not None:
                entry = self._tar_info(member.member, member.modified)
                entry.size, entry.mode = size, 0o644
                self._tar.addfile(entry, source)
            elif self._zip is not None:
                info = self._zip_info(member.member, member.modified)
                info.compress_type = zipfile.ZIP_DEFLATED
                with self._zip.open(info, "w", force_zip64=size > 2**31) as sink:
                    shutil.copyfileobj(source, sink, _COPY_CHUNK)

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()
        if self._zip is not None:
            self._zip.close()

    @staticmethod
    def _tar_info(name: str, modified: datetime | None) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.mtime = int(modified.timestamp()) if modified else int(time.time())
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    @staticmethod
    def _zip_info(name: str, modified: datetime | None) -> zipfile.ZipInfo:
        moment: tuple[int, ...] = time.localtime()[:6]
        if modified is not None:
            with contextlib.suppress(OverflowError, ValueError):  # year 1 west of UTC
                moment = tuple(modified.astimezone().timetuple()[:6])
        # A zip entry holds 1980 to 2107; a server may send any date.
        clamped = min(max(moment, _ZIP_EPOCH), _ZIP_LAST)
        return zipfile.ZipInfo(name, clamped)  # type: ignore[arg-type]


ARCHIVE_MODE = 0o600


def _open_part(target: Path) -> tuple[IO[bytes], Path]:
    try:
        fd, part = open_part_file(target)
        # The archive holds every file of the session: private, like a recording.
        os.fchmod(fd, ARCHIVE_MODE)
    except OSError as exc:
        raise LocalFileError(f"cannot write beside {target}: {exc.strerror or exc}") from exc
    return os.fdopen(fd, "wb"), part


def _publish(part: Path, target: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(part, target)
        return
    try:
        os.link(part, target)  # fails if the target appeared meanwhile: never clobbers
    except FileExistsError:
        raise DestinationExistsError(f"{target} appeared while exporting") from None
    part.unlink()


def _discard(part: Path, staging: Path) -> None:
    with contextlib.suppress(OSError):
        part.unlink()
    shutil.rmtree(staging, ignore_errors=True)
