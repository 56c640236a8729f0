"""`dstui emulator ...`: run the pool emulator in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import re
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from types import FrameType

from dstui.common.files import UnreadableFile, read_at_most
from dstui.common.shell_exports import ca_trust_exports
from dstui.emulator.arm_cli import add_arm_options, arm_banner, arm_specs
from dstui.emulator.arm_pools import ArmPoolsError
from dstui.emulator.config import CONTAINER_TYPES, EmulatorConfig
from dstui.emulator.faults import FaultSpecError, parse_faults
from dstui.emulator.interpreter import InterpreterError
from dstui.emulator.sandbox import SandboxUnavailable
from dstui.emulator.sandbox_report import banner_lines
from dstui.emulator.security import is_loopback_name
from dstui.emulator.server import EmulatorServer
from dstui.recording.store import RecordingError

TOKEN_ENV_VAR = "DSTUI_EMULATOR_TOKEN"
_MAX_TOKEN_FILE_BYTES = 4096
_TOKEN_RE = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: fits a header


class TokenError(ValueError):
    pass


def _add_session_limit_options(parser: argparse.ArgumentParser) -> None:
    limits = parser.add_argument_group("session limits (see README, 'Sandbox and limits')")
    limits.add_argument(
        "--max-processes",
        type=_bounded(int, 1, 10**7),
        metavar="N",
        help="processes and threads per session (default 512)",
    )
    limits.add_argument(
        "--tmp-size",
        dest="tmp_size_mb",
        type=_bounded(int, 1, 10**7),
        metavar="MB",
        help="size of a sandboxed session's /tmp (default 512)",
    )
    limits.add_argument(
        "--disk-quota",
        dest="disk_quota_mb",
        type=_bounded(int, 1, 10**7),
        metavar="MB",
        help="what a session's /mnt/data may hold (default 1024)",
    )
    limits.add_argument(
        "--interrupt-grace",
        dest="interrupt_grace_s",
        type=_bounded(float, 0.001, 3600),
        metavar="S",
        help="seconds a timed-out run may take to stop before its kernel is replaced (default 5)",
    )


def _add_container_options(parser: argparse.ArgumentParser) -> None:
    pool_type = parser.add_argument_group(
        "pool type (see README, 'Shell and custom-container pools')"
    )
    pool_type.add_argument(
        "--container-type",
        type=_container_type,
        choices=CONTAINER_TYPES,
        help="PythonLTS (default): a Python kernel per session; Shell: each command runs in "
        "bash; CustomContainer: --container-command per session, reached on --target-port",
    )
    pool_type.add_argument(
        "--container-command",
        metavar="CMD",
        help="CustomContainer: the app each session runs (a shell command line; $PORT is set)",
    )
    pool_type.add_argument(
        "--target-port",
        type=_bounded(int, 1, 65535),
        metavar="P",
        help="CustomContainer: the port the app listens on",
    )


def _container_type(value: str) -> str:
    """The type as ARM spells it, given in any case (`shell` → `Shell`); argparse's choices
    then refuse anything else."""
    return next((known for known in CONTAINER_TYPES if known.lower() == value.lower()), value)


def container_problem(config: EmulatorConfig) -> str | None:
    """What is wrong with the pool-type options, if anything."""
    custom = config.container_type == "CustomContainer"
    given = config.container_command is not None or config.target_port is not None
    if custom and (config.container_command is None or config.target_port is None):
        return "--container-type CustomContainer needs --container-command and --target-port"
    if given and not custom:
        return "--container-command and --target-port need --container-type CustomContainer"
    if custom and not (config.container_command or "").strip():
        return "--container-command is empty"
    return None


def _bounded(kind: type[int] | type[float], low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number of `kind` from `low` to `high` (argparse reports the error)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low!s} and {high!s}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """Each option's dest is the EmulatorConfig field it sets, and the config's defaults apply."""
    parser = argparse.ArgumentParser(
        prog="dstui emulator",
        description="Run a local emulator of an Azure Container Apps dynamic-sessions pool.",
    )
    parser.set_defaults(**asdict(EmulatorConfig()))
    parser.add_argument("--host", help="address to bind (default loopback)")
    parser.add_argument("--port", type=_bounded(int, 0, 65535), help="0 picks a free port")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--token",
        metavar="T",
        help="bearer token clients must send (shown by `ps`: prefer --token-file or "
        f"${TOKEN_ENV_VAR}; default: a random token, printed at start)",
    )
    auth.add_argument(
        "--token-file",
        metavar="PATH",
        type=Path,
        help="read the bearer token from this file (surrounding whitespace is ignored)",
    )
    auth.add_argument(
        "--no-auth", dest="auth", action="store_false", help="accept requests without a token"
    )
    parser.add_argument(
        "--cooldown",
        dest="cooldown_s",
        type=_bounded(float, 0.001, 10**9),
        metavar="S",
        help="idle seconds before a session is deleted",
    )
    parser.add_argument("--max-sessions", type=_bounded(int, 1, 10**6), metavar="N")
    parser.add_argument(
        "--ready-sessions",
        type=_bounded(int, 0, 1000),
        metavar="N",
        help="kernels kept pre-started for new sessions",
    )
    parser.add_argument("--egress", action="store_true", help="give sessions network access")
    parser.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "none"),
        help="auto: a working system bwrap, else the bundled one, else none (not isolated)",
    )
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
    _add_session_limit_options(parser)
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
    _add_container_options(parser)
    add_arm_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no access log on stderr")
    parser.add_argument(
        "--record",
        type=Path,
        metavar="PATH",
        default=None,
        help="record every exchange into this recording (read it with `dstui trace --record`)",
    )
    return parser


def resolve_token(args: argparse.Namespace, environ: dict[str, str]) -> str | None:
    """Where the token comes from, in order: --token, --token-file, $DSTUI_EMULATOR_TOKEN.

    Returns a description of the source for the banner (None: random or --token)."""
    if not args.auth or args.token is not None:
        source = None
    elif args.token_file is not None:
        args.token = _read_token_file(args.token_file)
        source = f"--token-file {args.token_file}"
    elif environ.get(TOKEN_ENV_VAR):
        args.token = environ[TOKEN_ENV_VAR].strip()
        source = f"${TOKEN_ENV_VAR}"
    else:
        return None
    if args.token is not None and not _TOKEN_RE.fullmatch(args.token):
        where = source or "--token"
        raise TokenError(f"{where}: the token must be printable ASCII without spaces")
    return source


def _read_token_file(path: Path) -> str:
    try:
        raw = read_at_most(
            path, _MAX_TOKEN_FILE_BYTES, f"longer than {_MAX_TOKEN_FILE_BYTES} bytes"
        )
    except UnreadableFile as exc:
        raise TokenError(f"--token-file {path}: {exc}") from None
    token = raw.decode("ascii", "replace").strip()
    if not token:
        raise TokenError(f"--token-file {path}: the file is empty")
    return token


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


def _token_export(server: EmulatorServer, args: argparse.Namespace, source: str | None) -> str:
    """The DSTUI_TOKEN export: a token from a file or a variable is named by its source, not
    printed; a random one is printed, and so is a --token value (it is on the argv already)."""
    if source is None:
        assert server.token is not None
        return shlex.quote(server.token)
    if args.token_file is not None:
        return f'"$(cat {shlex.quote(str(args.token_file))})"'
    return f'"${TOKEN_ENV_VAR}"'


def _sandbox_lines(server: EmulatorServer) -> list[str]:
    state = server.state
    if state is None:
        return [f"sandbox: {server.sandbox}"]
    return banner_lines(state.pool.policy)


def _pool_type_line(config: EmulatorConfig) -> str:
    if config.container_type == "Shell":
        return "pool type: Shell (a fresh bash per command, cwd /mnt/data)"
    return (
        f"pool type: CustomContainer ({config.container_command!r} per session, "
        f"target port {config.target_port}; only /.management/* is the pool's)"
    )


def _announce(server: EmulatorServer, args: argparse.Namespace, source: str | None) -> None:
    lines = [f"dstui emulator: {server.endpoint}", *_sandbox_lines(server)]
    if server.config.container_type != "PythonLTS":
        lines.append(_pool_type_line(server.config))
    if server.recording is not None:
        lines.append(f"recording: {server.recording.path}")
    exports = [f"export DSTUI_ENDPOINT={shlex.quote(server.endpoint)}"]
    if server.token is not None:
        lines.append(f"token: from {source}" if source else f"token: {server.token}")
        exports.append(f"export DSTUI_TOKEN={_token_export(server, args, source)}")
    else:
        lines.append("authentication: off (--no-auth)")
    if server.ca_file is not None:
        lines.append(f"CA certificate: {server.ca_file}")
        exports.append(f"export DSTUI_CA_FILE={shlex.quote(str(server.ca_file))}")
        exports += ca_trust_exports(server.ca_file)
    if not is_loopback_name(server.config.host):
        warning = "WARNING: listening beyond this machine; whoever reaches it can run code"
        lines.append(warning + ("" if server.token else ", and --no-auth lets anyone in"))
    arm_lines, arm_exports = arm_banner(server)
    lines, exports = [*lines, *arm_lines], [*exports, *arm_exports]
    print("\n".join([*lines, "", *exports, "", "Ctrl-C stops the emulator."]), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        token_source = resolve_token(args, dict(os.environ))
    except TokenError as exc:
        print(f"dstui emulator: {exc}", file=sys.stderr)
        return 2
    config = config_from_args(args)
    problem = container_problem(config)
    if problem is not None:
        print(f"dstui emulator: {problem}", file=sys.stderr)
        return 2
    if config.faults:
        try:
            parse_faults(config.faults)
        except FaultSpecError as exc:
            print(f"dstui emulator: --faults: {exc}", file=sys.stderr)
            return 2
    try:
        pools = arm_specs(args, config)
    except ArmPoolsError as exc:
        print(f"dstui emulator: --arm-pools: {exc}", file=sys.stderr)
        return 2
    level = logging.getLogger("dstui.emulator").level  # restored on return (in-process callers)
    handler = _log_to_stderr(args.quiet)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = EmulatorServer(
        config, record=args.record, arm_pools=pools, arm_page_size=args.arm_page_size
    )
    try:
        try:
            server.start()
        except (SandboxUnavailable, InterpreterError, OSError, RecordingError) as exc:
            print(f"dstui emulator: {exc}", file=sys.stderr)
            return 2
        _announce(server, args, token_source)
        while not stop.wait(0.5):
            pass
        return 0
    finally:
        server.stop()
        for sig, previous_handler in previous.items():
            signal.signal(sig, previous_handler)
        logging.getLogger("dstui.emulator").removeHandler(handler)
        logging.getLogger("dstui.emulator").setLevel(level)
