"""`dstui files ls|put|get|rm`: the session's file area under /mnt/data."""

from __future__ import annotations

from pathlib import Path

from dstui.api import DestinationExistsError, RemoteFile
from dstui.api.constants import MOUNT_ROOT
from dstui.api.display import escape_controls
from dstui.api.validation import expand_local_path, normalize_remote_path
from dstui.commands.context import CommandEnv, CommandError
from dstui.commands.output import (
    format_moment,
    format_size,
    render_table,
    write_json,
)
from dstui.commands.progress import transfer_progress


def remote_location(path: str, name: str = "") -> str:
    """`/mnt/data/<path>/<name>` for messages, control characters escaped."""
    parts = [MOUNT_ROOT, normalize_remote_path(path), name]
    return escape_controls("/".join(part for part in parts if part))


async def list_files(env: CommandEnv) -> int:
    async with env.client() as client:
        files = await client.list_files(
            env.args.identifier, path=env.args.path, recursive=env.args.recursive
        )
    if env.json:
        write_json(env.stdout, files)
    elif files:
        env.out(files_table(files, recursive=env.args.recursive))
    else:
        env.note(f"no files in {remote_location(env.args.path)}")
    return 0


def files_table(files: list[RemoteFile], *, recursive: bool) -> str:
    rows = [
        (
            (f.relative_path if recursive else f.name) + ("/" if f.is_dir else ""),
            "dir" if f.is_dir else "file",
            "-" if f.is_dir else format_size(f.size),
            format_moment(f.last_modified),
        )
        for f in sorted(files, key=lambda f: (not f.is_dir, f.relative_path))
    ]
    return render_table(("NAME", "TYPE", "SIZE", "MODIFIED"), rows)


async def put_file(env: CommandEnv) -> int:
    local = expand_local_path(Path(env.args.local))
    if not local.is_file():
        problem = "is a directory" if local.is_dir() else "does not exist"
        raise CommandError(f"{local} {problem}", "give the path of a local file to upload")
    label = f"uploading {local.name}"
    async with env.client() as client:
        with transfer_progress(env.stderr, label, enabled=not env.json) as bar:
            uploaded = await client.upload_file(
                env.args.identifier,
                local,
                path=env.args.path,
                remote_name=env.args.name,
                progress=bar,
            )
    where = remote_location(env.args.path, uploaded.name)
    env.report_done(uploaded, f"uploaded {local} ({format_size(uploaded.size)}) to {where}")
    return 0


async def get_file(env: CommandEnv) -> int:
    name: str = env.args.name
    # A folder (the current one by default) receives the remote name; the client checks it.
    output: str | None = env.args.output
    target = expand_local_path(Path(output)) if output is not None else Path.cwd()
    async with env.client() as client:
        label = f"downloading {escape_controls(name)}"
        with transfer_progress(env.stderr, label, enabled=not env.json) as bar:
            try:
                saved = await client.download_file(
                    env.args.identifier,
                    name,
                    target,
                    path=env.args.path,
                    overwrite=env.args.force,
                    progress=bar,
                )
            except DestinationExistsError as exc:
                exc.hint = "Pass --force to replace it, or -o DEST to save it elsewhere."
                raise
    env.report_done(
        {"name": name, "path": saved, "size": saved.stat().st_size},
        f"saved {remote_location(env.args.path, name)} to {saved}",
    )
    return 0


async def remove_file(env: CommandEnv) -> int:
    name: str = env.args.name
    async with env.client() as client:
        await client.delete_file(env.args.identifier, name, path=env.args.path)
    where = remote_location(env.args.path, name)
    env.report_done({"deleted": where}, f"deleted {where}")
    return 0
