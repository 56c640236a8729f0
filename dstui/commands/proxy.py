"""`dstui proxy`: run the recording proxy in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import shlex
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from dstui.api.auth import TokenProvider, make_token_provider
from dstui.commands.context import CommandEnv, CommandError
from dstui.common.shell_exports import ca_trust_exports
from dstui.config import TOKEN_ENV_VAR
from dstui.recording.store import RecordingError, traffic_path

if TYPE_CHECKING:
    from dstui.proxy.server import ProxyServer


async def run_proxy(env: CommandEnv) -> int:
    from dstui.proxy.server import ProxyConfigError, ProxyOptions, ProxyServer

    args = env.args
    upstream = args.upstream or env.connection.endpoint
    if not upstream:
        raise CommandError(
            "no upstream to forward to",
            "give --upstream URL (the pool management endpoint), or set DSTUI_ENDPOINT",
        )
    record: Path | None = None if args.no_record else (args.record or traffic_path())
    ca_file = env.connection.ca_file  # --ca-file, DSTUI_CA_FILE or the profile's
    options = ProxyOptions(
        upstream=upstream,
        port=args.port,
        tls=args.tls,
        record=record,
        upstream_auth=_upstream_credential(env),
        verify=str(ca_file) if ca_file else True,
    )
    try:
        server = ProxyServer(options)
        server.start()
    except ProxyConfigError as exc:
        raise CommandError(str(exc)) from None
    except RecordingError as exc:
        raise CommandError(str(exc), "give another --record PATH, or --no-record") from None
    except OSError as exc:
        raise CommandError(f"cannot listen on port {args.port}: {exc.strerror or exc}") from None
    # What start-up made (modules, the app, the TLS context) lives as long as the proxy:
    # frozen, the collections that requests' garbage sets off no longer walk it.
    gc.freeze()
    try:
        _announce(env, server)
        await _until_stopped()
    finally:
        server.stop()
    env.note("proxy stopped")
    return 0


def _upstream_credential(env: CommandEnv) -> TokenProvider | None:
    """With --auth (other than none) the proxy holds the credential for the upstream; the
    token file is the resolved one (--token-file, DSTUI_TOKEN_FILE or the profile's)."""
    kind = getattr(env.args, "auth", None)
    if kind is None or kind == "none":
        return None
    token_file = env.connection.token_file
    token = env.environ.get(TOKEN_ENV_VAR) if kind == "token" and token_file is None else None
    return make_token_provider(kind, token=token, token_file=token_file)


def _announce(env: CommandEnv, server: ProxyServer) -> None:
    lines = [f"dstui proxy: {server.endpoint} -> {server.options.upstream}"]
    store = server.store
    lines.append(f"recording: {store.path}" if store else "recording: off (--no-record)")
    exports = [f"export POOL_MANAGEMENT_ENDPOINT={shlex.quote(server.endpoint)}"]
    if server.client_token is not None:
        lines.append(
            "the proxy attaches its own credential upstream; clients must send this bearer "
            f"token (shown once): {server.client_token}"
        )
    else:
        lines.append("clients' own Authorization headers are forwarded unchanged")
    if server.ca_file is not None:
        lines.append(f"CA certificate: {server.ca_file}")
        exports += ca_trust_exports(server.ca_file)
    env.out("\n".join([*lines, "", *exports, "", "Ctrl-C stops the proxy."]))
    env.stdout.flush()


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    try:
        for sig in signals:
            loop.add_signal_handler(sig, stop.set)
    except NotImplementedError:  # Windows: plain handlers, which wake the loop themselves
        previous = {sig: signal.getsignal(sig) for sig in signals}
        for sig in signals:
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
        try:
            await stop.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return
    try:
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
