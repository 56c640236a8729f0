"""`dstui files export ID [-o FILE]`: all of /mnt/data as one .tar.gz or .zip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dstui.api import DestinationExistsError
from dstui.api.session_export import ExportProgress, export_session, resolve_archive_path
from dstui.commands.context import CommandEnv
from dstui.commands.output import format_size
from dstui.commands.progress import ProgressBar, transfer_progress
from dstui.common.units import counted


async def export_files(env: CommandEnv) -> int:
    identifier: str = env.args.identifier
    output = Path(env.args.output) if env.args.output is not None else None
    try:
        target = resolve_archive_path(output, identifier, overwrite=env.args.force)
    except DestinationExistsError as exc:
        exc.hint = "Pass --force to replace it, or -o FILE to write elsewhere."
        raise
    async with env.client() as client:
        with transfer_progress(env.stderr, "exporting /mnt/data", enabled=not env.json) as bar:
            result = await export_session(
                client,
                identifier,
                target,
                overwrite=env.args.force,
                progress=None if bar is None else _bytes_to(bar),
            )
    for skipped in result.skipped:
        env.note(f"skipped {skipped.remote}: {skipped.reason}")
    env.report_done(
        {
            "path": str(result.path),
            "format": result.format,
            "files": result.files,
            "directories": result.directories,
            "bytes": result.bytes,
            "skipped": [{"remote": s.remote, "reason": s.reason} for s in result.skipped],
        },
        f"exported {counted(result.files, 'file')} in "
        f"{counted(result.directories, 'directory', 'directories')} "
        f"({format_size(result.bytes)}) to {result.path}",
    )
    return 0


def _bytes_to(bar: ProgressBar) -> Callable[[ExportProgress], None]:
    def progress(state: ExportProgress) -> None:
        bar(state.bytes_done, state.bytes_total)

    return progress
