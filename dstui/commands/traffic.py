"""`dstui log` (the requests dstui sent) and `dstui trace` (a proxy's or emulator's recording):
recent exchanges as lines or JSON lines, one as curl, all as HAR 1.2, or followed live."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from dstui.api.display import escape_controls, format_bytes
from dstui.api.validation import expand_local_path, mask_identifier, validate_identifier
from dstui.commands.context import CommandEnv, CommandError
from dstui.commands.output import json_text
from dstui.recording.exchange import Exchange
from dstui.recording.export import ExportError, curl_command, har_log
from dstui.recording.store import (
    Filter,
    RecordingError,
    RecordingStore,
    own_requests_path,
    traffic_path,
)

_CODE_CHARS = 60
_APPEAR_POLL_S = 0.2
FOLLOW_POLL_S = 0.1  # how often --follow looks for new rows


async def show_log(env: CommandEnv) -> int:
    return await _show(env, own_requests_path(), Filter(), what="requests dstui sent")


async def show_trace(env: CommandEnv) -> int:
    args = env.args
    path: Path = args.record or traffic_path()
    identifier = None if args.identifier is None else validate_identifier(args.identifier)
    where = Filter(identifier, args.operation, args.status)
    return await _show(env, path, where, what="recorded exchanges")


async def _show(env: CommandEnv, path: Path, where: Filter, *, what: str) -> int:
    if not getattr(env.args, "follow", False):
        return await _listing(env, path, where, what, None)
    with _ctrl_c_sets() as stopped:  # from the start, so no Ctrl-C falls between two phases
        return await _listing(env, path, where, what, stopped)


async def _listing(
    env: CommandEnv, path: Path, where: Filter, what: str, stopped: asyncio.Event | None
) -> int:
    """The recent exchanges (or one as curl, or a HAR file); with `stopped`, then followed."""
    args = env.args
    if not path.exists() and stopped is not None:
        env.note(f"waiting for {path} to appear (Ctrl-C stops)")
        while not path.exists():
            if stopped.is_set():
                return 0
            await asyncio.sleep(_APPEAR_POLL_S)
    try:
        store = RecordingStore(path, create=False)
    except RecordingError as exc:
        if not path.exists():
            env.note(f"no {what} yet ({path} does not exist)")
            return 0
        raise CommandError(exc.args[0], "is it a recording made by dstui?") from None
    with store:
        try:
            if args.curl is not None:
                return _print_curl(env, store, args.curl)
            if getattr(args, "har", None) is not None:
                return _write_har(env, store, where, args.har, args.lines)
            exchanges = store.recent(args.lines, where)
            for exchange in exchanges:
                _print(env, exchange, args.show_identifiers)
            if stopped is not None:
                after = exchanges[-1].id if exchanges else store.last_number()
                return await _follow(env, store, where, after or 0, stopped)
        except RecordingError as exc:
            raise CommandError(exc.args[0]) from None
    return 0


async def _follow(
    env: CommandEnv, store: RecordingStore, where: Filter, after: int, stopped: asyncio.Event
) -> int:
    """Print what is written after number `after` until Ctrl-C (which is not a failure)."""
    while not stopped.is_set():
        batch = store.newer_than(after, where)
        for exchange in batch:
            assert exchange.id is not None
            after = exchange.id
            _print(env, exchange, env.args.show_identifiers)
        if not batch:
            await asyncio.sleep(FOLLOW_POLL_S)
    return 0


@contextlib.contextmanager
def _ctrl_c_sets() -> Iterator[asyncio.Event]:
    """Ctrl-C sets the event instead of cancelling the command, so only a real cancellation
    (SIGTERM: exit 143 in cli.py) propagates as CancelledError."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, stopped.set)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        yield stopped  # Ctrl-C stays KeyboardInterrupt there
        return
    try:
        yield stopped
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, previous)


def _print_curl(env: CommandEnv, store: RecordingStore, number: int) -> int:
    exchange = store.get(number)
    if exchange is None:
        raise CommandError(
            f"no exchange #{number} in {store.path}",
            "the numbers are in the first column of the listing; old ones are pruned",
        )
    try:
        env.out(curl_command(exchange))
    except ExportError as exc:
        raise CommandError(str(exc)) from None
    env.note('set DSTUI_TOKEN first; the command sends it as "Authorization: Bearer $DSTUI_TOKEN"')
    return 0


def _write_har(
    env: CommandEnv, store: RecordingStore, where: Filter, dest: Path, count: int
) -> int:
    exchanges = store.recent(count, where)
    data = json_text(har_log(exchanges), indent=1)
    dest = expand_local_path(dest)
    temp: str | None = None
    try:
        descriptor, temp = tempfile.mkstemp(prefix=".dstui-har-", dir=dest.parent or ".")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(temp, dest)
        temp = None
    except OSError as exc:
        raise CommandError(f"cannot write {dest}: {exc.strerror or exc}") from None
    finally:
        if temp is not None:  # not moved into place: leave nothing behind
            with contextlib.suppress(OSError):
                os.unlink(temp)
    env.report_done(
        {"har": str(dest), "entries": len(exchanges)},
        f"wrote {len(exchanges)} exchanges to {dest} (HAR 1.2)",
    )
    return 0


def _print(env: CommandEnv, exchange: Exchange, show_identifiers: bool) -> None:
    if env.json:
        env.out(json_text(exchange.to_dict()))
    else:
        env.out(summary_line(exchange, show_identifiers=show_identifiers))
    env.stdout.flush()


def summary_line(exchange: Exchange, *, show_identifiers: bool = False) -> str:
    """`#12 21:30:01.123 proxy execute 200 15ms abcd…wxyz Succeeded print(6*7)`."""
    moment = datetime.fromtimestamp(exchange.started).strftime("%H:%M:%S.%f")[:-3]
    status = str(exchange.status) if exchange.status is not None else "---"
    identifier = exchange.identifier or "-"
    if exchange.identifier and not show_identifiers:
        identifier = mask_identifier(exchange.identifier)
    parts = [
        f"#{exchange.id:<5}",
        moment,
        f"{exchange.source:<8}",
        f"{exchange.operation:<14}",
        status,
        f"{exchange.duration_ms:>7.0f}ms",
        escape_controls(identifier),
    ]
    parts += _details(exchange)
    return " ".join(parts)


def _details(exchange: Exchange) -> list[str]:
    details: list[str] = []
    if exchange.parent is not None:
        details.append(f"poll of #{exchange.parent}")
    if exchange.execution_status:
        details.append(escape_controls(exchange.execution_status))
    if exchange.code:
        first = exchange.code.strip().splitlines()[0] if exchange.code.strip() else ""
        more = "…" if len(first) > _CODE_CHARS or "\n" in exchange.code.strip() else ""
        details.append(escape_controls(first[:_CODE_CHARS]) + more)
    if exchange.file_direction or exchange.file_name:
        size = format_bytes(exchange.file_size) if exchange.file_size is not None else ""
        checksum = f"sha256:{exchange.file_sha256[:12]}" if exchange.file_sha256 else ""
        name = escape_controls(exchange.file_name or "")
        details.append(" ".join(filter(None, [exchange.file_direction, name, size, checksum])))
    if exchange.asked:
        details.append(escape_controls(exchange.asked))
    if exchange.error_code:
        details.append(f"[{escape_controls(exchange.error_code)}]")
    if exchange.error:
        details.append(f"! {escape_controls(exchange.error)}")
    return details
