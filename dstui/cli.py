"""The `dstui` command: argument parsing, dispatch to dstui.commands, and error reporting.

Without a subcommand it opens the TUI; dstui.tui and dstui.emulator are imported only when
needed, so scripted subcommands never load Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import json
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import Any, TextIO

from dstui import __version__
from dstui.api.constants import (
    DEFAULT_API_VERSION,
    DEFAULT_EXECUTION_TIMEOUT_S,
    MAX_EXECUTION_TIMEOUT_S,
    MAX_UPLOAD_BYTES,
    MIN_EXECUTION_TIMEOUT_S,
)
from dstui.api.errors import DynamicSessionsError, safe_text
from dstui.api.validation import timeout_problem
from dstui.commands.context import ClientFactory, CommandEnv, CommandError
from dstui.commands.logs import diagnostics
from dstui.common.auth_kinds import AUTH_KINDS
from dstui.common.units import format_bytes
from dstui.config import ARM_TOKEN_ENV_VAR, CA_FILE_ENV_VAR, TOKEN_ENV_VAR, ConfigError

Handler = Callable[[CommandEnv], Coroutine[Any, Any, int]]

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool cut off by `| head`

_LIFETIME_NOTE = (
    "Running code or touching files (exec, files ...) resets that session's idle cooldown, "
    "and exec or a file upload with an unknown identifier starts a new session."
)
_ENV_HELP = """\
environment:
  DSTUI_ENDPOINT, POOL_MANAGEMENT_ENDPOINT, ACA_POOL_MANAGEMENT_ENDPOINT
                  pool management endpoint when --endpoint is not given (first set wins)
  DSTUI_PROFILE   config profile when --profile is not given
  DSTUI_TOKEN     bearer token for --auth token (never passed on the command line)
  DSTUI_TOKEN_FILE
                  file holding the bearer token for --auth token
  DSTUI_CA_FILE   CA certificate file to trust for https, as --ca-file
  DSTUI_ARM_ENDPOINT
                  Azure Resource Manager URL when --arm-endpoint is not given
  DSTUI_ARM_TOKEN bearer token for ARM with --auth token (else DSTUI_TOKEN)
  SSL_CERT_FILE   also honoured (by httpx) when no CA file is configured
  DSTUI_CONFIG    config file (default: see `dstui config path`)
"""


def _whole_number(text: str, what: str = "a whole number") -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def _timeout(text: str) -> int:
    value = _whole_number(text, "a whole number of seconds")
    problem = timeout_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return value


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _common_options() -> argparse.ArgumentParser:
    """Options accepted before or after any subcommand.

    SUPPRESS keeps a subcommand's unset option from overwriting the same option given before the
    subcommand; readers use getattr(args, name, None).
    """
    common = argparse.ArgumentParser(
        add_help=False, argument_default=argparse.SUPPRESS, allow_abbrev=False
    )
    group = common.add_argument_group("connection and output")
    group.add_argument("--endpoint", metavar="URL", help="pool management endpoint")
    group.add_argument(
        "--api-version", metavar="VERSION", help=f"data-plane api-version ({DEFAULT_API_VERSION})"
    )
    group.add_argument(
        "--auth",
        choices=AUTH_KINDS,
        help="credential: Azure default chain, Azure CLI, device code, managed identity, a "
        f"static token from ${TOKEN_ENV_VAR} or --token-file, or none (loopback only)",
    )
    group.add_argument(
        "--token-file", metavar="PATH", type=Path, help="file holding a bearer token (--auth token)"
    )
    group.add_argument(
        "--ca-file",
        metavar="PATH",
        type=Path,
        help="trust this CA certificate (PEM) instead of the system's, e.g. the one "
        f"`dstui emulator --tls` prints (else ${CA_FILE_ENV_VAR}, else the profile's ca_file)",
    )
    group.add_argument("--profile", metavar="NAME", help="profile from the config file")
    group.add_argument(
        "--arm-endpoint",
        metavar="URL",
        help="Azure Resource Manager URL, for sovereign clouds or `dstui emulator --arm` "
        "(else $DSTUI_ARM_ENDPOINT, else the profile's arm_endpoint, else Azure's)",
    )
    group.add_argument(
        "--arm-api-version",
        metavar="VERSION",
        help="api-version for Microsoft.App/sessionPools in ARM (default 2025-01-01)",
    )
    group.add_argument("--json", action="store_true", help="print stable JSON instead of text")
    group.add_argument(
        "-v", "--verbose", action="store_true", help="log requests and details to stderr"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = _root_parser(common)
    cli = _Commands(
        parser.add_subparsers(title="commands", dest="command", metavar="COMMAND"), common
    )
    for add_commands in COMMAND_GROUPS:
        add_commands(cli)
    return parser


def _root_parser(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dstui",
        description="Explore Azure Container Apps dynamic sessions. Without a command, opens "
        "the terminal UI.",
        epilog=f"{_LIFETIME_NOTE}\n\n{_ENV_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
        # No prefix matching: `--token SECRET` must fail, not be read as `--token-file SECRET`.
        allow_abbrev=False,
    )
    parser.set_defaults(handler=None, command=None)
    parser.add_argument("--version", action="version", version=f"dstui {__version__}")
    tui = parser.add_argument_group("terminal UI")
    tui.add_argument("--emulator", action="store_true", help="use an embedded local emulator")
    tui.add_argument("--read-only", action="store_true", help="disable every change")
    tui.add_argument("--theme", metavar="NAME", help="colour theme")
    tui.add_argument("--demo", action="store_true", help="a deterministic fake pool")
    tui.add_argument(
        "--container-type",
        type=_container_type,
        metavar="TYPE",
        help="the pool's type, over what ARM or its first answers say: PythonLTS, Shell or "
        "CustomContainer",
    )
    return parser


def _container_type(value: str) -> str:
    from dstui.tui.pool_type import parse_container_type

    try:
        return parse_container_type(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


Subcommands = argparse._SubParsersAction  # what add_subparsers returns


@dataclass(frozen=True)
class LazyHandler:
    """A command's handler, imported from dstui.commands only when that command runs: the TUI
    and the other commands never load it."""

    module: str
    name: str

    def resolve(self) -> Handler:
        handler: Handler = getattr(import_module(f"dstui.commands.{self.module}"), self.name)
        return handler

    def __call__(self, env: CommandEnv) -> Coroutine[Any, Any, int]:
        return self.resolve()(env)


@dataclass(frozen=True)
class _Commands:
    """Adds commands: `top` holds `dstui COMMAND`; each takes the common options."""

    top: Subcommands[argparse.ArgumentParser]
    common: argparse.ArgumentParser

    def group(
        self, name: str, summary: str, description: str | None = None
    ) -> Subcommands[argparse.ArgumentParser]:
        """A command that takes an ACTION (`dstui sessions list`)."""
        holder = self.top.add_parser(name, help=summary, description=description)
        return holder.add_subparsers(dest="action", metavar="ACTION", required=True)

    def command(
        self,
        group: Subcommands[argparse.ArgumentParser],
        name: str,
        handler: LazyHandler,
        summary: str,
        details: str = "",
    ) -> argparse.ArgumentParser:
        sub = group.add_parser(
            name,
            help=summary,
            description=f"{summary[0].upper()}{summary[1:]}. {details}".strip(),
            parents=[self.common],
            allow_abbrev=False,
        )
        sub.set_defaults(handler=handler)
        return sub


def _identifier(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("identifier", metavar="ID", help="session identifier")


def _remote_path(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--path", default="", metavar="DIR", help="directory below /mnt/data (default: top)"
    )


def _listing(sub: argparse.ArgumentParser, lines: int) -> None:
    sub.add_argument(
        "-n",
        "--lines",
        type=_positive_int,
        default=lines,
        metavar="N",
        help=f"how many of the newest exchanges (default {lines})",
    )
    sub.add_argument("--curl", type=_positive_int, metavar="N", help="print exchange N as curl")
    sub.add_argument("--har", type=Path, metavar="FILE", help="write them as HAR 1.2 to FILE")
    sub.add_argument(
        "--show-identifiers", action="store_true", help="print session identifiers unmasked"
    )


def _add_sessions(cli: _Commands) -> None:
    """`dstui sessions list|show|delete|stop`."""
    group = cli.group("sessions", "list, inspect, stop and delete sessions", _LIFETIME_NOTE)
    sub = cli.command(
        group,
        "list",
        LazyHandler("sessions", "list_sessions"),
        "list the pool's sessions",
        "Does not extend any session's life.",
    )
    sub.add_argument("--all", action="store_true", help="follow every page (default: first page)")
    sub.add_argument("--management", action="store_true", help="use POST /.management/listSessions")
    sub = cli.command(
        group,
        "show",
        LazyHandler("sessions", "show_session"),
        "show one session",
        "Does not start a session; whether reading one counts as activity is up to the service "
        "(the local emulator does not count it).",
    )
    _identifier(sub)
    sub.add_argument("--management", action="store_true", help="use POST /.management/getSession")
    sub = cli.command(
        group,
        "delete",
        LazyHandler("sessions", "delete_session"),
        "delete a session and its files",
        "Asks first on a terminal; without a terminal, --yes is required.",
    )
    _identifier(sub)
    sub.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    sub = cli.command(
        group,
        "stop",
        LazyHandler("sessions", "stop_session"),
        "stop a session (custom-container pools)",
        "Uses POST /.management/stopSession; the session and its files are gone afterwards.",
    )
    _identifier(sub)
    _add_sessions_prune(cli, group)


def _duration(text: str) -> Any:
    from dstui.commands.prune import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_sessions_prune(cli: _Commands, group: Subcommands[argparse.ArgumentParser]) -> None:
    """`dstui sessions prune`: idle sessions across pools."""
    sub = cli.command(
        group,
        "prune",
        LazyHandler("prune", "prune_sessions"),
        "delete idle sessions across pools",
        "Lists every pool's sessions concurrently and deletes those idle longer than --idle "
        "(from lastAccessedAt) and/or expiring later than --expiring-after; a session without "
        "the timestamp is kept. Asks for the typed count on a terminal; without one, --yes is "
        "required. Exits 1 when a pool or a deletion failed.",
    )
    sub.add_argument("--idle", type=_duration, metavar="AGE", help="idle longer than AGE (30m)")
    sub.add_argument(
        "--expiring-after", type=_duration, metavar="AGE", help="expiring later than AGE from now"
    )
    sub.add_argument(
        "--pool",
        action="append",
        metavar="POOL",
        help="a pool endpoint, or a pool name resolved through ARM (repeatable; default: "
        "the configured endpoint)",
    )
    sub.add_argument("--resource-group", metavar="GROUP", help="where to look up pool names")
    sub.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    sub.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    sub.add_argument(
        "--concurrency",
        type=_positive_int,
        default=8,
        metavar="N",
        help="pools listed and sessions deleted at once (default 8)",
    )


def _add_exec(cli: _Commands) -> None:
    """`dstui exec ID CODE`."""
    sub = cli.command(
        cli.top,
        "exec",
        LazyHandler("execute", "run_code"),
        "run code in a session",
        "Prints the code's stdout to stdout and its stderr to stderr, then the result value; "
        "exits 0 when the code succeeded and 1 when it failed. In a Shell pool, --shell or "
        "--argv runs a command instead, and dstui exits with the command's own exit code "
        "once it ran (a failure of dstui itself still exits 2: tell them apart with --json). "
        + _LIFETIME_NOTE,
    )
    _identifier(sub)
    sub.add_argument("code", metavar="CODE", nargs="?", help="code to run, or - to read stdin")
    sub.add_argument("-f", "--file", metavar="FILE", help="read the code from FILE (- is stdin)")
    shell = sub.add_argument_group("Shell pools")
    command = shell.add_mutually_exclusive_group()
    command.add_argument("--shell", metavar="CMD", help="a bash command line to run (shellCommand)")
    command.add_argument(
        "--argv",
        metavar="WORDS",
        help="a program and its arguments, split like a shell would but run without one "
        "(execCommandAndArgs), e.g. --argv 'ls -a \"my dir\"'",
    )
    shell.add_argument(
        "--stdin",
        dest="stdin_file",
        metavar="FILE",
        help="send FILE (- is dstui's own stdin) to the command's standard input",
    )
    sub.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_EXECUTION_TIMEOUT_S,
        metavar="SECONDS",
        help=f"execution time limit, {MIN_EXECUTION_TIMEOUT_S}-{MAX_EXECUTION_TIMEOUT_S} "
        f"(default {DEFAULT_EXECUTION_TIMEOUT_S})",
    )
    sub.add_argument(
        "--async",
        dest="asynchronous",
        action="store_true",
        help="start the execution and poll until it finishes",
    )
    sub.add_argument(
        "--output-max-length",
        type=_positive_int,
        metavar="N",
        help="cap each of stdout/stderr at N characters",
    )
    sub.add_argument("--operation-id", metavar="ID", help="client-chosen execution id")
    sub.add_argument(
        "--image-out",
        type=Path,
        metavar="PATH",
        help="where to save an image result (default: a new file in the current folder; "
        "with --json the image stays base64 in the output)",
    )


def _add_files(cli: _Commands) -> None:
    """`dstui files ls|put|get|rm|export` under /mnt/data."""
    group = cli.group(
        "files", "list, upload, download and delete files under /mnt/data", _LIFETIME_NOTE
    )

    sub = cli.command(
        group,
        "ls",
        LazyHandler("files", "list_files"),
        "list files",
        "Resets the session's cooldown.",
    )
    _identifier(sub)
    _remote_path(sub)
    sub.add_argument("-r", "--recursive", action="store_true", help="include subdirectories")
    sub = cli.command(
        group,
        "put",
        LazyHandler("files", "put_file"),
        "upload a file",
        f"Streams from disk ({format_bytes(MAX_UPLOAD_BYTES)} limit). Resets the session's "
        "cooldown; an unknown identifier starts a new session.",
    )
    _identifier(sub)
    sub.add_argument("local", metavar="LOCAL", help="local file to upload")
    _remote_path(sub)
    sub.add_argument("--name", metavar="NAME", help="remote file name (default: LOCAL's name)")
    sub = cli.command(
        group,
        "get",
        LazyHandler("files", "get_file"),
        "download a file",
        "Writes to a temporary file and renames it, so no partial file is left behind. "
        "Resets the session's cooldown.",
    )
    _identifier(sub)
    sub.add_argument("name", metavar="NAME", help="remote file name")
    sub.add_argument(
        "-o",
        "--output",
        metavar="DEST",
        help="local file or existing folder (default: NAME in the current folder)",
    )
    _remote_path(sub)
    sub.add_argument("--force", action="store_true", help="overwrite an existing local file")
    sub = cli.command(
        group,
        "rm",
        LazyHandler("files", "remove_file"),
        "delete a file",
        "Resets the session's cooldown.",
    )
    _identifier(sub)
    sub.add_argument("name", metavar="NAME", help="remote file name")
    _remote_path(sub)
    _add_files_export(cli, group)


def _add_files_export(cli: _Commands, group: Subcommands[argparse.ArgumentParser]) -> None:
    """`dstui files export ID [-o FILE]`: the whole of /mnt/data as one archive."""
    sub = cli.command(
        group,
        "export",
        LazyHandler("export", "export_files"),
        "download all of /mnt/data as one .tar.gz or .zip",
        "Walks every directory, streams each file into the archive and writes it atomically "
        "(a temporary file beside it, renamed at the end). Resets the session's cooldown.",
    )
    _identifier(sub)
    sub.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the archive: .tar.gz, .tgz or .zip, or an existing folder "
        "(default: ID.tar.gz in the current folder)",
    )
    sub.add_argument("--force", action="store_true", help="overwrite an existing archive")


def _add_pool_and_config(cli: _Commands) -> None:
    """`dstui pool metadata`, `dstui new-id` and `dstui config path|show|validate`."""
    cli.command(
        cli.group("pool", "pool-wide information"),
        "metadata",
        LazyHandler("pool", "show_metadata"),
        "show runtimes, packages and kernel of the pool",
        "Does not touch any session.",
    )
    cli.command(
        cli.top,
        "new-id",
        LazyHandler("pool", "print_new_identifier"),
        "print a fresh random session identifier",
        "Nothing is sent; the session starts with the first call that uses the identifier.",
    )
    group = cli.group("config", "where settings live and what they say")
    cli.command(group, "path", LazyHandler("settings", "show_path"), "print the config file path")
    cli.command(
        group,
        "show",
        LazyHandler("settings", "show_settings"),
        "print the resolved settings",
        "Secrets are never shown, only whether DSTUI_TOKEN is set.",
    )
    cli.command(
        group,
        "validate",
        LazyHandler("settings", "validate_config"),
        "check the config file",
        "Names the file, the key and what it must hold for each problem; exits 2 on any. "
        "Binding ids in [tui.keymap] are checked when the explorer starts.",
    )


def _add_traffic(cli: _Commands) -> None:
    """`dstui log`, `dstui trace` and `dstui proxy`: the traffic dstui sent or relayed."""
    sub = cli.command(
        cli.top,
        "log",
        LazyHandler("traffic", "show_log"),
        "show the requests dstui sent, from any earlier run",
        "Kept under the data dir (readable by you only), bounded by size and age; the "
        "Authorization header is never recorded. DSTUI_REQUEST_LOG=off stops recording. "
        "--json prints one JSON object a line.",
    )
    _listing(sub, 20)
    sub = cli.command(
        cli.top,
        "trace",
        LazyHandler("traffic", "show_trace"),
        "print the traffic a `dstui proxy` or an emulator recorded",
        "--json prints one JSON object a line; --follow keeps printing new exchanges until "
        "Ctrl-C. Statuses filter as 404, 4xx or failed (no answer, or 400 and above).",
    )
    sub.add_argument(
        "--record", type=Path, metavar="PATH", help="the recording (default: the data dir's)"
    )
    sub.add_argument("--identifier", metavar="ID", help="only this session")
    sub.add_argument("--operation", metavar="NAME", help="only this operation, e.g. execute")
    sub.add_argument("--status", metavar="STATUS", help="only this status: 200, 4xx, failed")
    sub.add_argument("--follow", action="store_true", help="print new exchanges as they come")
    _listing(sub, 50)
    sub = cli.command(
        cli.top,
        "proxy",
        LazyHandler("proxy", "run_proxy"),
        "run a recording proxy in front of a pool endpoint",
        "Point an agent's POOL_MANAGEMENT_ENDPOINT at it; requests and answers pass unchanged "
        "and each exchange is recorded (see `dstui trace`). Binds loopback. With --auth the "
        "proxy attaches its own credential upstream and requires the token it prints.",
    )
    sub.add_argument(
        "--upstream", metavar="URL", help="pool management endpoint (default: --endpoint)"
    )
    sub.add_argument("--port", type=int, default=0, help="local port (default: a free one)")
    sub.add_argument("--tls", action="store_true", help="serve https with a generated CA")
    sub.add_argument(
        "--record", type=Path, metavar="PATH", help="the recording (default: the data dir's)"
    )
    sub.add_argument("--no-record", action="store_true", help="forward only")


def _add_doctor(cli: _Commands) -> None:
    """`dstui doctor`: the auth doctor's checks."""
    cli.command(
        cli.top,
        "doctor",
        LazyHandler("doctor", "run_checks"),
        "check the endpoint, credential, token, access and the pool's ARM resource",
        "Each check prints ok, warn, fail or skip, what it found and how to fix it. Never prints "
        "a token, only its claims. Exits 0 when no check failed (warnings and skips pass), 1 "
        "when one did.",
    )


def _add_emulator(cli: _Commands) -> None:
    """`dstui emulator ...`: everything after the word goes to dstui.emulator.main."""
    cli.top.add_parser(
        "emulator", help="run a local pool emulator (see `dstui emulator --help`)", add_help=False
    )


def _add_pools(cli: _Commands) -> None:
    """`dstui pools list|show`: session pools from Azure Resource Manager."""
    group = cli.group(
        "pools",
        "find session pools in your subscriptions (Azure Resource Manager)",
        "Reads ARM with the same credential (scope https://management.azure.com/.default); "
        "touches no session. `dstui pool metadata` asks one pool's own data plane instead.",
    )
    sub = cli.command(
        group,
        "list",
        LazyHandler("pools_arm", "list_pools"),
        "list the session pools you can see",
        "Without --subscription, every enabled subscription is listed; one that fails is "
        "named on stderr and the exit code is 1.",
    )
    sub.add_argument("--subscription", metavar="ID", help="only this subscription")
    sub.add_argument("--resource-group", metavar="GROUP", help="only this resource group")
    sub = cli.command(
        group,
        "show",
        LazyHandler("pools_arm", "show_pool"),
        "show one pool's properties",
        "Type, scale, lifecycle, egress, identities, container template and endpoint.",
    )
    sub.add_argument("name", metavar="NAME", help="the pool's name")
    sub.add_argument("--subscription", metavar="ID", help="the pool's subscription")
    sub.add_argument("--resource-group", metavar="GROUP", help="the pool's resource group")


def _add_container(cli: _Commands) -> None:
    """`dstui container request ID PATH`."""
    group = cli.group(
        "container",
        "talk to a custom container's own app",
        "Custom-container pools have no session list or file API; their sessions are read "
        "and stopped with `dstui sessions show --management ID` and `dstui sessions stop ID`.",
    )
    sub = cli.command(
        group,
        "request",
        LazyHandler("container", "request_path"),
        "send one request to the session's app through the pool endpoint",
        "PATH is below the pool endpoint; ?identifier=ID is added, and the session (and its "
        "app) starts on first use. The app's body goes to stdout; exits 0 when the app "
        "answered below 400, 1 otherwise, 2 when dstui failed.",
    )
    _identifier(sub)
    sub.add_argument("path", metavar="PATH", help="e.g. /api/items?page=2")
    sub.add_argument("-X", "--method", default="GET", help="HTTP method (default GET)")
    sub.add_argument(
        "-H", "--header", action="append", metavar="'NAME: VALUE'", help="add a request header"
    )
    sub.add_argument("--data", metavar="TEXT", help="request body")
    sub.add_argument("--data-file", metavar="FILE", help="request body from FILE (- is stdin)")
    sub.add_argument(
        "-i", "--include", action="store_true", help="print the status and headers to stderr"
    )
    sub.add_argument(
        "--max-bytes",
        type=_positive_int,
        default=1024 * 1024,
        metavar="N",
        help="keep at most N bytes of the body (default 1 MiB)",
    )


COMMAND_GROUPS = (
    _add_sessions,
    _add_exec,
    _add_container,
    _add_files,
    _add_pool_and_config,
    _add_traffic,
    _add_doctor,
    _add_pools,
    _add_emulator,
)


def main(argv: list[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    """Entry point of the `dstui` command; returns the process exit code."""
    parser = build_parser()
    arguments = sys.argv[1:] if argv is None else argv
    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage):
            args, extras = parser.parse_known_args(arguments)
            _take_late_code(args, extras)
            if extras and args.command != "emulator":
                parser.error(f"unrecognized arguments: {' '.join(extras)}")
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors
        code = exc.code if isinstance(exc.code, int) else EXIT_ERROR
        _usage_error(usage.getvalue(), as_json=code != 0 and _wants_json(arguments))
        return code

    env = CommandEnv(args, client_factory=client_factory)
    verbose = bool(getattr(args, "verbose", False))
    handler: Handler | None = args.handler
    # The TUI owns the terminal and the emulator sets up its own logging: neither gets the
    # stderr log handler that client commands use.
    if args.command == "emulator":
        return _guarded(env, partial(_run_emulator, extras), verbose=verbose)
    if handler is None:
        return _guarded(env, partial(_run_tui, env), verbose=verbose)
    tokens = (env.environ.get(TOKEN_ENV_VAR), env.environ.get(ARM_TOKEN_ENV_VAR))
    secrets = tuple(value for value in tokens if value)
    with diagnostics(env.stderr, verbose=verbose, secrets=secrets), warnings.catch_warnings():
        # The client logs its warnings too; Python's own warning lines would repeat them.
        warnings.simplefilter("ignore")
        if args.command in _POOL_COMMANDS:
            handler = partial(_with_pool_resolved, handler)
        # The handler is resolved (a lazy import) inside the guard: a failure is a message.
        command = partial(_ended_cleanly_by_sigterm, env, handler)
        return _guarded(env, lambda: asyncio.run(command()), verbose=verbose)


# Commands that talk to the configured pool: a profile naming it by ARM id is resolved first.
_POOL_COMMANDS = frozenset({"sessions", "exec", "files", "pool", "proxy"})


async def _with_pool_resolved(handler: Handler, env: CommandEnv) -> int:
    from dstui.commands.pools_arm import resolve_pool_id

    await resolve_pool_id(env)
    return await handler(env)


async def _ended_cleanly_by_sigterm(env: CommandEnv, handler: Handler) -> int:
    """SIGTERM (from `timeout`, a supervisor, `kill`) ends a command as Ctrl-C does: it is
    cancelled, so its clean-up runs and no partial download is left behind."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        if task is not None:
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, terminate)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        return await handler(env)
    try:
        return await handler(env)
    except asyncio.CancelledError:
        if not terminated:
            raise
        env.note("terminated")
        return EXIT_TERMINATED
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def local_file_problem(exc: OSError, limit: int = 120) -> str:
    """`<file>: <reason>`, the file name shortened: it may be as long as the system refused."""
    name = os.fsdecode(exc.filename) if exc.filename is not None else ""
    if len(name) > limit:
        name = name[: limit - 1] + "…"
    reason = exc.strerror or type(exc).__name__
    return f"{name}: {reason}" if name else reason


def _wants_json(arguments: list[str]) -> bool:
    """--json was asked for, as far as arguments that did not parse tell (not after `--`, and
    not as the code of `exec`)."""
    head = arguments[: arguments.index("--")] if "--" in arguments else arguments
    return "--json" in head and "emulator" not in head


def _usage_error(text: str, *, as_json: bool) -> None:
    """argparse's usage message, or with --json only its last line, as a JSON error."""
    if not as_json:
        sys.stderr.write(text)
        return
    last = (text.strip().splitlines() or ["invalid arguments"])[-1]
    message = last.split(": error: ", 1)[-1]
    _report_json(sys.stderr, message, "see --help for the accepted arguments")


def _take_late_code(args: argparse.Namespace, extras: list[str]) -> None:
    """`dstui exec ID --timeout 5 CODE`: argparse gives an optional positional (CODE) its empty
    match before the options, leaving the code over as an unknown argument; take it back."""
    if args.command != "exec" or args.code is not None or len(extras) != 1:
        return
    if extras[0] == "-" or not extras[0].startswith("-"):
        args.code = extras.pop()


def _guarded(env: CommandEnv, run: Callable[[], int], *, verbose: bool) -> int:
    """Run a command; every failure becomes a short message on stderr (a JSON object with
    --json) and exit code 2."""
    report = partial(_report_json if env.json else _report, env.stderr)
    try:
        return run()
    except KeyboardInterrupt:
        env.note("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (`| head`): stop quietly, as other tools do.
        _discard_further_output(env.stdout)
        return EXIT_BROKEN_PIPE
    except DynamicSessionsError as exc:
        report(exc.message, exc.hint, error=exc)
    except (CommandError, ConfigError) as exc:
        report(exc.message, exc.hint)
    except OSError as exc:  # a local file the system refuses (name too long, no permission)
        report(local_file_problem(exc), "Check the local path.")
    except Exception as exc:
        if verbose:
            env.stderr.write(safe_text("".join(traceback.format_exception(exc))))
        first_line = (str(exc).splitlines() or [""])[0]
        report(f"unexpected {type(exc).__name__}: {first_line}".rstrip(": "))
        if not verbose and not env.json:
            env.note("run with --verbose for details")
    return EXIT_ERROR


def _discard_further_output(stream: TextIO) -> None:
    """Point the stream's descriptor at /dev/null, so the flush at exit cannot fail again."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, descriptor)
    finally:
        os.close(devnull)


def _report(
    stream: TextIO, message: str, hint: str = "", *, error: DynamicSessionsError | None = None
) -> None:
    # Tokens are redacted and control characters escaped once more at the last moment: a
    # message may have been built before a token was known.
    stream.write(f"error: {safe_text(message)}\n")
    ids = _error_ids(error) if error is not None else ""
    if ids:
        stream.write(f"{ids}\n")
    if hint:
        stream.write(f"hint: {safe_text(hint)}\n")
    stream.flush()


def _report_json(
    stream: TextIO, message: str, hint: str = "", *, error: DynamicSessionsError | None = None
) -> None:
    """`{"error": {...}}` on one line; the keys are always present, null when unknown."""
    fields = {
        "status": error.status if error is not None else None,
        "code": error.code if error is not None else None,
        "message": safe_text(message),
        "hint": safe_text(hint) if hint else None,
        "request_id": error.request_id if error is not None else None,
        "operation_id": error.operation_id if error is not None else None,
        "type": type(error).__name__ if error is not None else None,
    }
    stream.write(json.dumps({"error": fields}, ensure_ascii=False) + "\n")
    stream.flush()


def _error_ids(exc: DynamicSessionsError) -> str:
    pairs = (
        ("request id", exc.request_id),
        ("operation id", exc.operation_id),
        ("trace id", getattr(exc, "trace_id", None)),
    )
    return ", ".join(f"{label}: {value}" for label, value in pairs if value)


def _run_emulator(argv: list[str]) -> int:
    from dstui.emulator import main as emulator_main

    return emulator_main(argv)


def _run_tui(env: CommandEnv) -> int:
    _import_the_tui()
    from dstui.tui import run
    from dstui.tui.launch import LaunchOptions

    args = env.args
    named = env.connection.pool_id is not None and env.connection.endpoint is None
    if named and not args.emulator and not args.demo:
        from dstui.commands.pools_arm import resolve_pool_id

        asyncio.run(resolve_pool_id(env))  # a profile naming its pool by ARM id
    connection = env.connection
    options = LaunchOptions(
        connection=connection if connection.endpoint is not None else None,
        use_emulator=args.emulator,
        read_only=args.read_only,
        theme=args.theme,
        demo=args.demo,
        arm=_tui_arm(env),
        arm_connection=connection,
        container_type=args.container_type or connection.container_type,
    )
    return run(options)


def _tui_arm(env: CommandEnv) -> Callable[[], Any] | None:
    """The pool picker's ARM client (built when the app starts): with an ARM endpoint given,
    or an Azure credential on a real endpoint (Azure's ARM); None for the demo and the
    embedded emulator without one."""
    from functools import partial

    from dstui.commands.pool_names import open_arm

    connection = env.connection
    if env.args.demo:
        return None
    azure = connection.endpoint is not None and connection.auth not in ("none", "token")
    if connection.arm_endpoint is None and not azure:
        return None
    return partial(open_arm, env)


def _import_the_tui() -> None:
    """Import the app with the cyclic collector off: start-up makes only long-lived objects
    (modules, classes, styles), and collecting while importing them costs about a tenth of the
    imports' CPU time. What start-up made is then frozen, so later collections skip it."""
    gc.disable()
    try:
        import dstui.tui.app
        import dstui.tui.startup  # noqa: F401
    finally:
        gc.freeze()
        gc.enable()


if __name__ == "__main__":
    sys.exit(main())
