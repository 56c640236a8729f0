"""A session's timeline: what was done in it, in order, from every place that saw it.

Sources are recordings (a proxy's, an emulator's, dstui's own request log: each exchange says
which of them saw it) and dstui's run history. One event seen twice becomes one entry:

- the same request recorded by two sources (dstui's log and the emulator, or a proxy and the
  emulator behind it) shares its request id (`x-ms-client-request-id`, sent by dstui) or, when
  the client sent none, its method, path, query and status within MERGE_WINDOW_S;
- an execution's polls (`get-execution`) fold into the execution they ask about;
- a run in dstui's history matches the recorded execution with its operation id, or, for
  api-versions without one, the same code started within MERGE_WINDOW_S.

Only entries from *different* sources merge: two identical requests from one source (a retry)
stay two entries. Pure functions over the store's reads; no Textual, no httpx.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from dstui.recording.exchange import Exchange
from dstui.recording.run_history import RunRecord
from dstui.recording.store import Filter, RecordingStore

MERGE_WINDOW_S = 3.0
_EXIT_CODE = re.compile(r"-?[0-9]{1,10}")
OUTCOME_CHARS = 300  # an entry's outcome excerpt
DEFAULT_LIMIT = 500  # exchanges read per store

_KINDS = {
    "execute": "execution",
    "get-execution": "execution",
    "upload": "upload",
    "download": "download",
    "list-files": "file",
    "file-info": "file",
    "delete-file": "file",
    "get-session": "session",
    "delete-session": "session",
    "management": "session",
    "emulator-extension": "session",
}


@dataclass(frozen=True, slots=True)
class ExchangeLink:
    """Where an entry's exchange is stored: `store` is the label the caller gave the store in
    build_timeline's `stores`, `number` the exchange's id in it (`RecordingStore.get`)."""

    store: str
    number: int


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: float  # Unix time the event started
    sources: tuple[str, ...]  # who saw it: "proxy", "emulator", "dstui"; the richest first
    kind: str  # "execution", "upload", "download", "file", "session" or "other"
    operation: str  # the recording's operation name ("execute", "list-files", …)
    status: str  # "Succeeded", "Failed", "201", "404 SessionNotFound", "no answer"…
    ok: bool | None  # None: not known (still running, or no answer recorded)
    duration_ms: float | None = None
    code: str | None = None  # executions: the code (as recorded: may be cut)
    outcome: str | None = None  # executions: result, stdout or stderr excerpt; others: error
    file_name: str | None = None
    file_size: int | None = None
    execution_id: str | None = None
    run_number: int | None = None  # dstui's own run number, when its history has the run
    links: tuple[ExchangeLink, ...] = ()  # the exchanges behind the entry (polls included)
    merged: tuple[str, ...] = ()  # how duplicates were recognised, one phrase per merge

    @property
    def summary(self) -> str:
        """One line: the code's first line, the file's name, or the operation."""
        if self.code:
            first = next((line for line in self.code.splitlines() if line.strip()), "")
            return first.strip()[:120]
        if self.file_name:
            return self.file_name
        return self.operation


@dataclass(frozen=True, slots=True)
class RecordedSession:
    """A session the recordings name, and whether the pool's session list has it."""

    identifier: str
    exchanges: int
    executions: int
    first_seen: float
    last_seen: float
    in_pool: bool  # False: known only from the recording (expired, deleted, another pool…)


@dataclass
class _Draft:
    """An entry being assembled (mutable while merging)."""

    entry: TimelineEntry
    request_key: str | None = None  # request id, else None
    wire_key: tuple[str, ...] = ()  # method, path, query, status
    seen: set[str] = field(default_factory=set)


def build_timeline(
    identifier: str,
    stores: Mapping[str, RecordingStore],
    runs: Sequence[RunRecord] = (),
    *,
    limit: int = DEFAULT_LIMIT,
) -> list[TimelineEntry]:
    """Session `identifier`'s entries, oldest first. `stores` maps a label of the caller's
    choosing (used in links) to an open store; `runs` is dstui's history for the session
    (`RunHistory.runs(identifier)`). Reads the newest `limit` exchanges of each store."""
    where = Filter(identifier=identifier)
    recorded = [
        (label, exchange)
        for label, store in stores.items()
        for exchange in store.recent(limit, where)
    ]
    return merge_timeline(recorded, runs)


def merge_timeline(
    exchanges: Iterable[tuple[str, Exchange]], runs: Sequence[RunRecord] = ()
) -> list[TimelineEntry]:
    """The merge itself, for exchanges already read: (store label, exchange) pairs."""
    ordered = sorted(exchanges, key=lambda pair: (pair[1].started, pair[1].id or 0))
    drafts: list[_Draft] = []
    executions: dict[str, _Draft] = {}
    polls: list[tuple[str, Exchange]] = []
    for label, exchange in ordered:
        if exchange.operation == "get-execution":
            polls.append((label, exchange))
            continue
        if exchange.operation == "execute" and exchange.execution_id:
            known = executions.get(exchange.execution_id)
            if known is not None and exchange.source not in known.seen:
                _absorb(known, label, exchange, "same execution id")
                continue
        draft = _draft_of(label, exchange)
        twin = _twin(drafts, draft, exchange)
        if twin is not None:
            _absorb(twin, label, exchange, _merge_reason(twin, draft))
            continue
        drafts.append(draft)
        if exchange.operation == "execute" and exchange.execution_id:
            executions.setdefault(exchange.execution_id, draft)
    for label, poll in polls:
        parent = executions.get(poll.execution_id or "")
        if parent is None:
            drafts.append(_draft_of(label, poll))
        else:
            _fold_poll(parent, label, poll)
    _attach_runs(drafts, executions, runs)
    return sorted((d.entry for d in drafts), key=lambda entry: entry.at)


def recorded_sessions(
    stores: Iterable[RecordingStore], pool_identifiers: Iterable[str], *, limit: int = 500
) -> list[RecordedSession]:
    """Every session the recordings name (the most recently seen first), each marked with
    whether `pool_identifiers` (the session list as loaded) has it."""
    in_pool = set(pool_identifiers)
    merged: dict[str, RecordedSession] = {}
    for store in stores:
        for seen in store.identifiers(limit):
            known = merged.get(seen.identifier)
            merged[seen.identifier] = RecordedSession(
                identifier=seen.identifier,
                exchanges=seen.exchanges + (known.exchanges if known else 0),
                executions=seen.executions + (known.executions if known else 0),
                first_seen=min(seen.first_seen, known.first_seen if known else seen.first_seen),
                last_seen=max(seen.last_seen, known.last_seen if known else seen.last_seen),
                in_pool=seen.identifier in in_pool,
            )
    return sorted(merged.values(), key=lambda s: s.last_seen, reverse=True)


def identifiers_in_recording(
    stores: Iterable[RecordingStore], pool_identifiers: Iterable[str]
) -> set[str]:
    """The identifiers the recordings name that the session list does not have: the sessions
    to mark "recording only"."""
    return {s.identifier for s in recorded_sessions(stores, pool_identifiers) if not s.in_pool}


# building entries


def _draft_of(label: str, exchange: Exchange) -> _Draft:
    assert exchange.id is not None
    kind = _KINDS.get(exchange.operation, "other")
    entry = TimelineEntry(
        at=exchange.started,
        sources=(exchange.source,),
        kind=kind,
        operation=exchange.operation,
        status=_status(exchange),
        ok=_ok(exchange),
        duration_ms=exchange.duration_ms,
        code=exchange.code,
        outcome=_outcome(exchange),
        file_name=exchange.file_name,
        file_size=exchange.file_size,
        execution_id=exchange.execution_id,
        links=(ExchangeLink(label, exchange.id),),
    )
    return _Draft(
        entry,
        request_key=exchange.request_id or None,
        wire_key=(exchange.method, exchange.path, exchange.query, str(exchange.status)),
        seen={exchange.source},
    )


def _exit_code(exchange: Exchange) -> int | None:
    """A Shell pool's execution status is the exit code as a string ("0", "137")."""
    status = (exchange.execution_status or "").strip()
    return int(status) if _EXIT_CODE.fullmatch(status) else None


def _status(exchange: Exchange) -> str:
    code = _exit_code(exchange)
    if code is not None:
        return f"exit {code}"
    if exchange.execution_status:
        return exchange.execution_status
    if exchange.status is None:
        return "no answer"
    return (
        f"{exchange.status} {exchange.error_code}" if exchange.error_code else str(exchange.status)
    )


def _ok(exchange: Exchange) -> bool | None:
    if exchange.status is None:
        return None
    if exchange.status >= 400:
        return False
    code = _exit_code(exchange)
    if code is not None:
        return code == 0
    status = (exchange.execution_status or "").lower()
    if status in ("succeeded", "success"):
        return True
    if status in ("failed", "cancelled", "canceled", "timedout", "timeout"):
        return False
    if exchange.operation in ("execute", "get-execution") and status:
        return None  # running or queued
    return True


def _outcome(exchange: Exchange) -> str | None:
    for text in (
        exchange.stderr if _ok(exchange) is False else None,
        exchange.result,
        exchange.stdout,
        exchange.stderr,
        exchange.error_message,
        exchange.error,
    ):
        if text and text.strip():
            return _cut(text.strip())
    return None


def _cut(text: str) -> str:
    return text if len(text) <= OUTCOME_CHARS else text[: OUTCOME_CHARS - 1] + "…"


# merging


def _twin(drafts: list[_Draft], draft: _Draft, exchange: Exchange) -> _Draft | None:
    """An earlier entry that is this exchange seen by another source."""
    for other in reversed(drafts):
        if exchange.started - other.entry.at > MERGE_WINDOW_S:
            return None  # drafts are in time order: nothing earlier can match
        if exchange.source in other.seen or other.entry.operation != exchange.operation:
            continue
        if draft.request_key and other.request_key:
            if draft.request_key == other.request_key:
                return other
            continue
        if draft.wire_key == other.wire_key:
            return other
    return None


def _merge_reason(twin: _Draft, draft: _Draft) -> str:
    if draft.request_key and draft.request_key == twin.request_key:
        return "same request id"
    return f"same request and status within {MERGE_WINDOW_S:g} s"


def _absorb(draft: _Draft, label: str, exchange: Exchange, reason: str) -> None:
    """Add another source's view of the same event; a proxy's or emulator's view is richer
    than dstui's (it saw the server's side), so it leads."""
    entry = draft.entry
    assert exchange.id is not None
    link = ExchangeLink(label, exchange.id)
    theirs = _draft_of(label, exchange).entry
    lead, other = (
        (theirs, entry)
        if exchange.source != "dstui" and "dstui" in draft.seen
        else (
            entry,
            theirs,
        )
    )
    draft.entry = replace(
        lead,
        at=min(entry.at, theirs.at),
        sources=(*lead.sources, *(s for s in other.sources if s not in lead.sources)),
        code=lead.code or other.code,
        outcome=lead.outcome or other.outcome,
        file_name=lead.file_name or other.file_name,
        file_size=lead.file_size if lead.file_size is not None else other.file_size,
        run_number=entry.run_number,
        links=(*entry.links, link),
        merged=(*entry.merged, reason),
    )
    draft.seen.add(exchange.source)


def _fold_poll(parent: _Draft, label: str, poll: Exchange) -> None:
    """A poll's answer is the execution's newest state (while it is not a failed request)."""
    assert poll.id is not None
    entry = parent.entry
    updates: dict[str, object] = {"links": (*entry.links, ExchangeLink(label, poll.id))}
    if poll.status is not None and poll.status < 400 and poll.execution_status:
        updates |= {
            "status": poll.execution_status,
            "ok": _ok(poll),
            "outcome": _outcome(poll) or entry.outcome,
            "duration_ms": max(0.0, (poll.started + poll.duration_ms / 1000 - entry.at) * 1000),
        }
    if poll.source not in entry.sources:
        updates["sources"] = (*entry.sources, poll.source)
    parent.entry = replace(entry, **updates)  # type: ignore[arg-type]


def _attach_runs(
    drafts: list[_Draft], executions: Mapping[str, _Draft], runs: Sequence[RunRecord]
) -> None:
    for run in runs:
        at = _run_time(run)
        match = executions.get(run.execution_id) if run.execution_id else None
        reason = "same execution id as dstui's run"
        if match is None:
            match = _same_code(drafts, run, at)
            reason = f"same code as dstui's run within {MERGE_WINDOW_S:g} s"
        if match is not None:
            entry = match.entry
            match.entry = replace(
                entry,
                sources=entry.sources if "dstui" in entry.sources else (*entry.sources, "dstui"),
                code=_longer(run.code, entry.code),
                run_number=run.number or None,
                merged=(*entry.merged, reason),
            )
            match.seen.add("history")
            continue
        drafts.append(_Draft(_run_entry(run, at), seen={"history"}))


def _same_code(drafts: list[_Draft], run: RunRecord, at: float) -> _Draft | None:
    for draft in drafts:
        entry = draft.entry
        if (
            entry.operation == "execute"
            and "history" not in draft.seen
            and entry.code
            and (entry.code == run.code or run.code.startswith(entry.code.split("…[cut:")[0]))
            and abs(entry.at - at) <= MERGE_WINDOW_S
        ):
            return draft
    return None


def _longer(first: str | None, second: str | None) -> str | None:
    return max((first or "", second or ""), key=len) or None


def _run_time(run: RunRecord) -> float:
    try:
        return datetime.fromisoformat(run.at).timestamp()
    except ValueError:
        return 0.0


def _run_entry(run: RunRecord, at: float) -> TimelineEntry:
    """A run that only dstui's history knows (recording off, or pruned)."""
    failed = run.status != "Succeeded"
    outcome = run.error or (run.stderr if failed else "") or run.result_text or run.stdout
    return TimelineEntry(
        at=at,
        sources=("dstui",),
        kind="execution",
        operation="execute",
        status=run.status,
        ok=not failed,
        duration_ms=float(run.duration_ms if run.duration_ms is not None else run.elapsed_ms or 0),
        code=run.code,
        outcome=_cut(outcome.strip()) if outcome and outcome.strip() else None,
        execution_id=run.execution_id or None,
        run_number=run.number or None,
    )
