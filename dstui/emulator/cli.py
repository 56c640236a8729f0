"""`dstui emulator ...`: run the pool emulator in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from dataclasses import asdict, fields
from pathlib import Path
from types import FrameType

from dstui.emulator.config import EmulatorConfig
from dstui.emulator.faults import FaultSpecError, parse_faults
from dstui.emulator.interpreter import InterpreterError
from dstui.emulator.sandbox import SandboxUnavailable
from dstui.emulator.security import is_loopback_name
from dstui.emulator.server import EmulatorServer


def build_parser() -> argparse.ArgumentParser:
    """Each option's dest is the EmulatorConfig field it sets, and the config's defaults apply."""
    parser = argparse.ArgumentParser(
        prog="dstui emulator",
        description="Run a local emulator of an Azure Container Apps dynamic-sessions pool.",
    )
    parser.set_defaults(**asdict(EmulatorConfig()))
    parser.add_argument("--host", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, help="0 picks a free port")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--token", help="bearer token clients must send (default: random)")
    auth.add_argument(
        "--no-auth", dest="auth", action="store_false", help="accept requests without a token"
    )
    parser.add_argument(
        "--cooldown",
        dest="cooldown_s",
        type=float,
        metavar="S",
        help="idle seconds before a session is deleted",
    )
    parser.add_argument("--max-sessions", type=int, metavar="N")
    parser.add_argument(
        "--ready-sessions", type=int, metavar="N", help="kernels kept pre-started for new sessions"
    )
    parser.add_argument("--egress", action="store_true", help="give sessions network access")
    parser.add_argument("--sandbox", choices=("auto", "bwrap", "none"))
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="D",
        help="where session files live (default: a temp dir removed at exit)",
    )
    parser.add_argument(
        "--memory-limit",
        dest="memory_limit_mb",
        type=int,
        metavar="MB",
        help="address-space limit per kernel",
    )
    parser.add_argument(
        "--cpu-limit",
        dest="cpu_limit_s",
        type=int,
        metavar="S",
        help="CPU seconds a kernel may use in total",
    )
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        help='inject faults, e.g. "429=0.1,500=0.05,503=0.05,drop=0.02,slow=0.1:2.0"',
    )
    parser.add_argument("--seed", type=int, help="makes --faults reproducible")
    parser.add_argument("--tls", action="store_true", help="serve https with a generated CA")
    parser.add_argument(
        "--kernel-python", metavar="PATH", help="interpreter for the kernels (needs ipykernel)"
    )
    parser.add_argument("--pool-name")
    parser.add_argument("--quiet", action="store_true", help="no access log on stderr")
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        **{field.name: getattr(args, field.name) for field in fields(EmulatorConfig)}
    )


def _log_to_stderr(quiet: bool) -> logging.Handler:
    """Warnings, and unless quiet the JSON access log, on stderr (stdout is for the banner)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    emulator_logger = logging.getLogger("dstui.emulator")
    emulator_logger.addHandler(handler)
    if emulator_logger.getEffectiveLevel() > logging.INFO:
        emulator_logger.setLevel(logging.INFO)
    return handler


def _announce(server: EmulatorServer) -> None:
    lines = [f"dstui emulator: {server.endpoint}  (sandbox: {server.sandbox})"]
    exports = [f"export DSTUI_ENDPOINT={shlex.quote(server.endpoint)}"]
    if server.token is not None:
        lines.append(f"token: {server.token}")
        exports.append(f"export DSTUI_TOKEN={shlex.quote(server.token)}")
    else:
        lines.append("authentication: off (--no-auth)")
    if server.ca_file is not None:
        lines.append(f"CA certificate: {server.ca_file}")
        exports.append(f"export DSTUI_CA_FILE={shlex.quote(str(server.ca_file))}")
        exports.append(f"export SSL_CERT_FILE={shlex.quote(str(server.ca_file))}")
        exports.append(f"export REQUESTS_CA_BUNDLE={shlex.quote(str(server.ca_file))}")
    if not is_loopback_name(server.config.host):
        warning = "WARNING: listening beyond this machine; whoever reaches it can run code"
        lines.append(warning + ("" if server.token else ", and --no-auth lets anyone in"))
    print("\n".join([*lines, "", *exports, "", "Ctrl-C stops the emulator."]), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    if config.faults:
        try:
            parse_faults(config.faults)
        except FaultSpecError as exc:
            print(f"dstui emulator: --faults: {exc}", file=sys.stderr)
            return 2
    handler = _log_to_stderr(args.quiet)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = EmulatorServer(config)
    try:
        try:
            server.start()
        except (SandboxUnavailable, InterpreterError, OSError) as exc:
            print(f"dstui emulator: {exc}", file=sys.stderr)
            return 2
        _announce(server)
        while not stop.wait(0.5):
            pass
        return 0
    finally:
        server.stop()
        for sig, previous_handler in previous.items():
            signal.signal(sig, previous_handler)
        logging.getLogger("dstui.emulator").removeHandler(handler)
