"""Idle pruning across pools: list every pool's sessions concurrently, page by page, keep only
the ones the criteria select, then delete those with a per-session outcome.

Memory stays bounded by the selection, not by what the pools hold: a page is matched and let
go before the next one is asked for. UI-free; the CLI (`dstui sessions prune`) and a TUI view
drive it and render its results.

A session without `lastAccessedAt` (or without `expireAt` for the expiry criterion) is never
selected: how long it has been idle is unknown, and a prune must not guess. Such sessions are
counted per pool (`undated`) so the report can say so.

Custom-container pools have no data-plane session list and no `DELETE /session`: their
sessions are listed with `.management/listSessions` and stopped with `.management/stopSession`.
A pool's type comes from ARM when known, else from its first answer (`DynamicApisNotAllowed`).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dstui.api.constants import DYNAMIC_APIS_NOT_ALLOWED
from dstui.api.errors import DynamicSessionsError, NotFoundError, safe_text
from dstui.api.models import Session
from dstui.api.protocol import SessionPoolAPI
from dstui.common.clock import as_utc, utc_now

DEFAULT_LIST_CONCURRENCY = 8
DEFAULT_DELETE_CONCURRENCY = 16


@dataclass(frozen=True, slots=True)
class PruneCriteria:
    """Sessions idle longer than `idle_longer_than`, and/or expiring later than
    `expiring_after` from now; with both, a session must match both (the narrower choice)."""

    idle_longer_than: timedelta | None = None
    expiring_after: timedelta | None = None

    def __post_init__(self) -> None:
        if self.idle_longer_than is None and self.expiring_after is None:
            raise ValueError("give an idle time, an expiry horizon, or both")

    def idle_for(self, session: Session, now: datetime) -> timedelta | None:
        if session.last_accessed_at is None:
            return None
        return now - as_utc(session.last_accessed_at)

    def matches(self, session: Session, now: datetime) -> bool | None:
        """True or False; None when a needed timestamp is missing (never selected)."""
        verdicts: list[bool] = []
        if self.idle_longer_than is not None:
            idle = self.idle_for(session, now)
            if idle is None:
                return None
            verdicts.append(idle > self.idle_longer_than)
        if self.expiring_after is not None:
            if session.expires_at is None:
                return None
            verdicts.append(as_utc(session.expires_at) > now + self.expiring_after)
        return all(verdicts)


@dataclass(frozen=True, slots=True)
class PoolTarget:
    """One pool to prune: a label for reports (its name or endpoint) and an open client.
    `custom_container` None: not known (ARM was not asked); the pool's first answer tells."""

    label: str
    client: SessionPoolAPI
    custom_container: bool | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    pool: str
    session: Session
    idle: timedelta | None
    stop: bool = False  # a custom-container session: stopped, not deleted


@dataclass(slots=True)
class PoolScan:
    pool: str
    listed: int = 0
    pages: int = 0
    selected: int = 0
    undated: int = 0  # sessions the criteria could not judge (no timestamp)
    error: str | None = None  # why the listing stopped, if it did
    stops: bool = False  # a custom-container pool: listed by .management, sessions stopped


@dataclass(slots=True)
class ScanResult:
    candidates: list[Candidate] = field(default_factory=list)
    pools: list[PoolScan] = field(default_factory=list)

    @property
    def listed(self) -> int:
        return sum(pool.listed for pool in self.pools)


class PruneOutcome(enum.StrEnum):
    DELETED = "deleted"
    STOPPED = "stopped"  # a custom-container session (it has no DELETE /session)
    GONE = "gone"  # it was no longer there (expired or deleted meanwhile)
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PruneResult:
    candidate: Candidate
    outcome: PruneOutcome
    reason: str | None = None


PageCallback = Callable[[PoolScan], None]
ResultCallback = Callable[[PruneResult], None]


async def scan_pools(
    targets: Sequence[PoolTarget],
    criteria: PruneCriteria,
    *,
    now: datetime | None = None,
    concurrency: int = DEFAULT_LIST_CONCURRENCY,
    on_page: PageCallback | None = None,
) -> ScanResult:
    """Every pool's listing, at most `concurrency` at once. A pool that fails (401, gone,
    unreachable, endless paging) is reported in its PoolScan; the others go on."""
    moment = now or utc_now()
    gate = asyncio.Semaphore(max(1, concurrency))
    result = ScanResult(pools=[PoolScan(target.label) for target in targets])

    async def listing(target: PoolTarget, pool: PoolScan) -> None:
        async for page in target.client.iter_session_pages(management=pool.stops):
            pool.pages += 1
            pool.listed += len(page.sessions)
            for session in page.sessions:
                verdict = criteria.matches(session, moment)
                if verdict is None:
                    pool.undated += 1
                elif verdict:
                    pool.selected += 1
                    idle = criteria.idle_for(session, moment)
                    candidate = Candidate(target.label, session, idle, stop=pool.stops)
                    result.candidates.append(candidate)
            if on_page is not None:
                on_page(pool)

    async def scan(target: PoolTarget, pool: PoolScan) -> None:
        pool.stops = target.custom_container is True
        async with gate:
            try:
                try:
                    await listing(target, pool)
                except DynamicSessionsError as exc:
                    # Its first answer says it is a custom-container pool: list it that way.
                    learnt = target.custom_container is None and pool.pages == 0
                    if not (learnt and exc.code == DYNAMIC_APIS_NOT_ALLOWED):
                        raise
                    pool.stops = True
                    await listing(target, pool)
            except DynamicSessionsError as exc:
                pool.error = safe_text(exc.message)

    await asyncio.gather(*(scan(t, p) for t, p in zip(targets, result.pools, strict=True)))
    return result


async def delete_candidates(
    targets: Sequence[PoolTarget],
    candidates: Sequence[Candidate],
    *,
    concurrency: int = DEFAULT_DELETE_CONCURRENCY,
    on_result: ResultCallback | None = None,
) -> list[PruneResult]:
    """Delete (or, in a custom-container pool, stop) each candidate through its pool's client;
    results in the candidates' order."""
    clients = {target.label: target.client for target in targets}
    gate = asyncio.Semaphore(max(1, concurrency))

    async def delete(candidate: Candidate) -> PruneResult:
        async with gate:
            client, identifier = clients[candidate.pool], candidate.session.identifier
            try:
                if candidate.stop:
                    await client.stop_session(identifier)
                else:
                    await client.delete_session(identifier)
            except NotFoundError:  # SessionNotFoundError too: it went on its own
                outcome = PruneResult(candidate, PruneOutcome.GONE)
            except DynamicSessionsError as exc:
                outcome = PruneResult(candidate, PruneOutcome.FAILED, safe_text(exc.message))
            else:
                done = PruneOutcome.STOPPED if candidate.stop else PruneOutcome.DELETED
                outcome = PruneResult(candidate, done)
        if on_result is not None:
            on_result(outcome)
        return outcome

    return list(await asyncio.gather(*(delete(candidate) for candidate in candidates)))
