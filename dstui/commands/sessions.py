"""`dstui sessions list|show|delete|stop`."""

from __future__ import annotations

from dstui.api import Session
from dstui.commands.context import CommandEnv, CommandError
from dstui.commands.output import (
    format_age,
    format_expiry,
    format_moment,
    render_fields,
    render_table,
    utc_now,
    write_json,
)


async def list_sessions(env: CommandEnv) -> int:
    management: bool = env.args.management
    async with env.client() as client:
        if env.args.all:
            sessions = await client.list_sessions(management=management)
            more = False
        else:
            page = await client.list_sessions_page(management=management)
            sessions, more = list(page.sessions), page.next_link is not None
    if env.json:
        write_json(env.stdout, sessions)
    elif sessions:
        env.out(sessions_table(sessions))
    else:
        env.note("no sessions")
    if more:
        env.note("more sessions exist; pass --all to list every page")
    return 0


def sessions_table(sessions: list[Session]) -> str:
    now = utc_now()
    rows = [
        (
            s.identifier,
            format_moment(s.created_at),
            format_age(s.last_accessed_at, now),
            format_expiry(s.expires_at, now),
        )
        for s in sessions
    ]
    return render_table(("IDENTIFIER", "CREATED", "LAST ACCESSED", "EXPIRES"), rows)


async def show_session(env: CommandEnv) -> int:
    async with env.client() as client:
        session = await client.get_session(env.args.identifier, management=env.args.management)
    if env.json:
        write_json(env.stdout, session)
        return 0
    now = utc_now()
    env.out(
        render_fields(
            [
                ("identifier", session.identifier),
                ("created", format_moment(session.created_at)),
                ("last accessed", format_age(session.last_accessed_at, now)),
                ("expires", format_expiry(session.expires_at, now)),
                ("etag", session.etag or "-"),
            ]
        )
    )
    return 0


async def delete_session(env: CommandEnv) -> int:
    identifier: str = env.args.identifier
    if not env.args.yes and not _confirm(env, f"delete session {identifier} and its files?"):
        env.note("aborted; nothing deleted")
        return 1
    async with env.client() as client:
        await client.delete_session(identifier)
    env.report_done({"deleted": identifier}, f"deleted session {identifier}")
    return 0


async def stop_session(env: CommandEnv) -> int:
    identifier: str = env.args.identifier
    async with env.client() as client:
        message = await client.stop_session(identifier)
    env.report_done(
        {"stopped": identifier, "message": message}, message or f"stopped session {identifier}"
    )
    return 0


def _confirm(env: CommandEnv, question: str) -> bool:
    """Ask on a terminal; refuse outright when nobody can answer (scripts must pass --yes)."""
    if not env.stdin.isatty():
        raise CommandError(
            "refusing to delete without confirmation: stdin is not a terminal",
            "pass --yes to delete from a script",
        )
    env.stderr.write(f"{question} [y/N] ")
    env.stderr.flush()
    return env.stdin.readline().strip().lower() in ("y", "yes")
