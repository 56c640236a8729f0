"""`dstui sessions prune`: delete idle sessions across one or more pools (dstui.api.prune)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dstui.api.protocol import SessionPoolAPI
from dstui.api.prune import (
    Candidate,
    PoolTarget,
    PruneCriteria,
    PruneOutcome,
    PruneResult,
    ScanResult,
    delete_candidates,
    scan_pools,
)
from dstui.commands.context import CommandEnv, CommandError, make_client
from dstui.commands.output import format_duration, iso_utc, render_table, write_json
from dstui.common.clock import utc_now
from dstui.common.units import counted
from dstui.config import Connection

if TYPE_CHECKING:
    from dstui.api.arm_models import SessionPoolResource

EXIT_PARTLY_FAILED = 1
_DURATION_RE = re.compile(r"\A\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*\Z", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION = timedelta(days=366)


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `2h`, `1d` (a unit is required: `30` alone is ambiguous), at most
    MAX_DURATION: no session lives that long, and far larger ones overflow a datetime."""
    match = _DURATION_RE.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 30m, 2h or 1d)")
    seconds = float(match[1]) * _UNIT_SECONDS[match[2].lower()]
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text.strip()[:40]!r} is too long: at most {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


async def prune_sessions(env: CommandEnv) -> int:
    args = env.args
    if args.idle is None and args.expiring_after is None:
        raise CommandError(
            "say which sessions to prune",
            "pass --idle AGE (e.g. 30m), --expiring-after AGE, or both",
        )
    criteria = PruneCriteria(idle_longer_than=args.idle, expiring_after=args.expiring_after)
    now = utc_now()
    pools = await _pools_to_prune(env, args.pool or [])
    async with contextlib.AsyncExitStack() as stack:
        targets = []
        for pool in pools:
            client = await stack.enter_async_context(_open(env, pool.connection))
            targets.append(PoolTarget(pool.label, client, pool.custom_container))
        scan = await scan_pools(targets, criteria, now=now, concurrency=args.concurrency)
        failed_pools = [pool for pool in scan.pools if pool.error]
        selected = sorted(scan.candidates, key=lambda c: (c.pool, c.session.identifier))
        if args.dry_run or not selected:
            _report(env, scan, selected, None, dry_run=args.dry_run, now=now)
            return EXIT_PARTLY_FAILED if failed_pools else 0
        if not args.yes and not _confirmed(env, scan, selected):
            env.note("aborted; nothing deleted")
            return EXIT_PARTLY_FAILED
        results = await delete_candidates(targets, selected, concurrency=args.concurrency)
    _report(env, scan, selected, results, dry_run=False, now=now)
    failed = any(result.outcome is PruneOutcome.FAILED for result in results)
    return EXIT_PARTLY_FAILED if failed or failed_pools else 0


def _open(env: CommandEnv, connection: Connection) -> SessionPoolAPI:
    """A client for one pool, from the same factory the other commands use."""
    if env.client_factory is not None:
        return env.client_factory(connection)
    return make_client(connection, env.environ)


@dataclass(frozen=True)
class _PoolToPrune:
    label: str  # its name, or its endpoint
    connection: Connection
    custom_container: bool | None  # from ARM; None: the pool's first answer tells


async def _pools_to_prune(env: CommandEnv, pools: Sequence[str]) -> list[_PoolToPrune]:
    """Each --pool (an endpoint, or an ARM pool name), else the configured endpoint. Every
    pool shares the command's credential and api-version; `dstui --container-type T` says
    the type of every pool, over what ARM says."""
    found = await _found_pools(env, pools)
    forced = getattr(env.args, "container_type", None)
    if forced is None:
        return found
    custom = forced == "CustomContainer"
    return [replace(pool, custom_container=custom) for pool in found]


async def _found_pools(env: CommandEnv, pools: Sequence[str]) -> list[_PoolToPrune]:
    base = env.connection
    if not pools:
        if base.endpoint is None:
            env.client()  # raises the usual "no pool endpoint configured" error
        assert base.endpoint is not None
        return [_PoolToPrune(base.endpoint, base, None)]
    named = [pool for pool in pools if "://" not in pool]
    resolved = await _resolve_names(env, named) if named else {}
    seen: dict[str, _PoolToPrune] = {}
    for pool in pools:
        resource = resolved.get(pool)
        if resource is None:
            seen.setdefault(pool, _PoolToPrune(pool, _with_endpoint(base, pool), None))
            continue
        endpoint = resource.pool_management_endpoint
        assert endpoint is not None  # resolve_pool_names refuses a pool without one
        custom = (resource.container_type or "").lower() == "customcontainer"
        seen.setdefault(endpoint, _PoolToPrune(pool, _with_endpoint(base, endpoint), custom))
    return list(seen.values())


def _with_endpoint(base: Connection, endpoint: str) -> Connection:
    return replace(base, endpoint=endpoint, source="flag")


async def _resolve_names(env: CommandEnv, names: Sequence[str]) -> dict[str, SessionPoolResource]:
    from dstui.commands.pool_names import resolve_pool_names

    return await resolve_pool_names(env, names)


def _confirmed(env: CommandEnv, scan: ScanResult, selected: list[Candidate]) -> bool:
    """A typed count, as the TUI's bulk delete asks; refused outright without a terminal."""
    if not env.stdin.isatty():
        raise CommandError(
            "refusing to delete without confirmation: stdin is not a terminal",
            "pass --yes to prune from a script (try --dry-run first)",
        )
    pools = len({candidate.pool for candidate in selected})
    idles = sorted(c.idle.total_seconds() for c in selected if c.idle is not None)
    ages = f", idle {format_duration(idles[0])} to {format_duration(idles[-1])}" if idles else ""
    stops = sum(candidate.stop for candidate in selected)
    verb = "delete" if not stops else "stop" if stops == len(selected) else "delete or stop"
    env.stderr.write(
        f"{verb} {len(selected)} of {scan.listed} sessions in {counted(pools, 'pool')}{ages}, with "
        f"their files? Type {len(selected)} to confirm: "
    )
    env.stderr.flush()
    return env.stdin.readline().strip() == str(len(selected))


def _idle_text(candidate: Candidate) -> str:
    return format_duration(candidate.idle.total_seconds()) if candidate.idle else "-"


def _report(
    env: CommandEnv,
    scan: ScanResult,
    selected: list[Candidate],
    results: list[PruneResult] | None,
    *,
    dry_run: bool,
    now: datetime,
) -> None:
    outcomes = {id(r.candidate): r for r in results or []}
    if env.json:
        write_json(env.stdout, _as_json(scan, selected, outcomes, dry_run=dry_run, now=now))
        return
    rows = []
    for candidate in selected:
        result = outcomes.get(id(candidate))
        what = "selected" if result is None else result.outcome.value
        if result is not None and result.reason:
            what += f": {result.reason}"
        last = candidate.session.last_accessed_at
        rows.append(
            (
                what,
                candidate.pool,
                candidate.session.identifier,
                _idle_text(candidate),
                iso_utc(last, whole_seconds=True) if last else "-",
            )
        )
    if rows:
        env.out(render_table(("OUTCOME", "POOL", "IDENTIFIER", "IDLE", "LAST ACCESSED"), rows))
    for pool in scan.pools:
        if pool.error:
            env.note(f"{pool.pool}: listing failed after {pool.listed} sessions: {pool.error}")
        if pool.undated:
            undated = counted(pool.undated, "session")
            env.note(f"{pool.pool}: {undated} without the timestamp, kept")
    env.note(_summary(scan, selected, results, dry_run=dry_run))


def _summary(
    scan: ScanResult, selected: list[Candidate], results: list[PruneResult] | None, *, dry_run: bool
) -> str:
    pools = counted(len(scan.pools), "pool")
    head = f"{len(selected)} of {scan.listed} sessions in {pools} selected"
    if results is None:
        return head + ("; dry run, nothing deleted" if dry_run else "")
    counts = {outcome: 0 for outcome in PruneOutcome}
    for result in results:
        counts[result.outcome] += 1
    shown = {o: n for o, n in counts.items() if n or o is not PruneOutcome.STOPPED}
    return head + "; " + ", ".join(f"{n} {outcome.value}" for outcome, n in shown.items())


def _as_json(
    scan: ScanResult,
    selected: list[Candidate],
    outcomes: dict[int, PruneResult],
    *,
    dry_run: bool,
    now: datetime,
) -> dict[str, object]:
    sessions = []
    for candidate in selected:
        result = outcomes.get(id(candidate))
        sessions.append(
            {
                "pool": candidate.pool,
                "identifier": candidate.session.identifier,
                "last_accessed_at": candidate.session.last_accessed_at,
                "expires_at": candidate.session.expires_at,
                "idle_s": round(candidate.idle.total_seconds()) if candidate.idle else None,
                "action": "stop" if candidate.stop else "delete",
                "outcome": result.outcome.value if result else None,
                "reason": result.reason if result else None,
            }
        )
    return {
        "dry_run": dry_run,
        "now": now,
        "pools": [
            {
                "pool": pool.pool,
                "listed": pool.listed,
                "selected": pool.selected,
                "undated": pool.undated,
                "error": pool.error,
                "custom_container": pool.stops,
            }
            for pool in scan.pools
        ],
        "sessions": sessions,
    }
