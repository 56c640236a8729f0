"""The `dstui` command: argument parsing, dispatch to dstui.commands, and error reporting.

Without a subcommand it opens the TUI; dstui.tui and dstui.emulator are imported only when
needed, so scripted subcommands never load Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from dstui import __version__
from dstui.api.constants import (
    DEFAULT_API_VERSION,
    DEFAULT_EXECUTION_TIMEOUT_S,
    MAX_EXECUTION_TIMEOUT_S,
    MIN_EXECUTION_TIMEOUT_S,
)
from dstui.api.errors import DynamicSessionsError, redact
from dstui.commands import execute, files, pool, sessions, settings
from dstui.commands.context import ClientFactory, CommandEnv, CommandError
from dstui.commands.logs import diagnostics
from dstui.config import AUTH_KINDS, CA_FILE_ENV_VAR, TOKEN_ENV_VAR, ConfigError

Handler = Callable[[CommandEnv], Coroutine[Any, Any, int]]

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
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
    if not MIN_EXECUTION_TIMEOUT_S <= value <= MAX_EXECUTION_TIMEOUT_S:
        raise argparse.ArgumentTypeError(
            f"must be {MIN_EXECUTION_TIMEOUT_S}-{MAX_EXECUTION_TIMEOUT_S} seconds"
        )
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
    group.add_argument("--json", action="store_true", help="print stable JSON instead of text")
    group.add_argument(
        "-v", "--verbose", action="store_true", help="log requests and details to stderr"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
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

    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")

    def command_group(
        name: str, summary: str, description: str | None = None
    ) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        """A command that takes an ACTION (`dstui sessions list`)."""
        holder = commands.add_parser(name, help=summary, description=description)
        return holder.add_subparsers(dest="action", metavar="ACTION", required=True)

    def command(
        group: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        handler: Handler,
        summary: str,
        details: str = "",
    ) -> argparse.ArgumentParser:
        sub = group.add_parser(
            name,
            help=summary,
            description=f"{summary[0].upper()}{summary[1:]}. {details}".strip(),
            parents=[common],
            allow_abbrev=False,
        )
        sub.set_defaults(handler=handler)
        return sub

    def identifier(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("identifier", metavar="ID", help="session identifier")

    # sessions
    group = command_group("sessions", "list, inspect, stop and delete sessions", _LIFETIME_NOTE)
    sub = command(
        group,
        "list",
        sessions.list_sessions,
        "list the pool's sessions",
        "Does not extend any session's life.",
    )
    sub.add_argument("--all", action="store_true", help="follow every page (default: first page)")
    sub.add_argument("--management", action="store_true", help="use POST /.management/listSessions")
    sub = command(
        group,
        "show",
        sessions.show_session,
        "show one session",
        "Does not start a session; whether reading one counts as activity is up to the service "
        "(the local emulator does not count it).",
    )
    identifier(sub)
    sub.add_argument("--management", action="store_true", help="use POST /.management/getSession")
    sub = command(
        group,
        "delete",
        sessions.delete_session,
        "delete a session and its files",
        "Asks first on a terminal; without a terminal, --yes is required.",
    )
    identifier(sub)
    sub.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    sub = command(
        group,
        "stop",
        sessions.stop_session,
        "stop a session (custom-container pools)",
        "Uses POST /.management/stopSession; the session and its files are gone afterwards.",
    )
    identifier(sub)

    # exec
    sub = command(
        commands,
        "exec",
        execute.run_code,
        "run code in a session",
        "Prints the code's stdout to stdout and its stderr to stderr, then the result value; "
        "exits 0 when the code succeeded and 1 when it failed. " + _LIFETIME_NOTE,
    )
    identifier(sub)
    sub.add_argument("code", metavar="CODE", nargs="?", help="code to run, or - to read stdin")
    sub.add_argument("-f", "--file", metavar="FILE", help="read the code from FILE (- is stdin)")
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

    # files
    group = command_group(
        "files", "list, upload, download and delete files under /mnt/data", _LIFETIME_NOTE
    )

    def remote_path(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--path", default="", metavar="DIR", help="directory below /mnt/data (default: top)"
        )

    sub = command(group, "ls", files.list_files, "list files", "Resets the session's cooldown.")
    identifier(sub)
    remote_path(sub)
    sub.add_argument("-r", "--recursive", action="store_true", help="include subdirectories")
    sub = command(
        group,
        "put",
        files.put_file,
        "upload a file",
        "Streams from disk (128 MB limit). Resets the session's cooldown; an unknown "
        "identifier starts a new session.",
    )
    identifier(sub)
    sub.add_argument("local", metavar="LOCAL", help="local file to upload")
    remote_path(sub)
    sub.add_argument("--name", metavar="NAME", help="remote file name (default: LOCAL's name)")
    sub = command(
        group,
        "get",
        files.get_file,
        "download a file",
        "Writes to a temporary file and renames it, so no partial file is left behind. "
        "Resets the session's cooldown.",
    )
    identifier(sub)
    sub.add_argument("name", metavar="NAME", help="remote file name")
    sub.add_argument(
        "-o",
        "--output",
        metavar="DEST",
        help="local file or existing folder (default: NAME in the current folder)",
    )
    remote_path(sub)
    sub.add_argument("--force", action="store_true", help="overwrite an existing local file")
    sub = command(group, "rm", files.remove_file, "delete a file", "Resets the session's cooldown.")
    identifier(sub)
    sub.add_argument("name", metavar="NAME", help="remote file name")
    remote_path(sub)

    # pool, new-id, config
    command(
        command_group("pool", "pool-wide information"),
        "metadata",
        pool.show_metadata,
        "show runtimes, packages and kernel of the pool",
        "Does not touch any session.",
    )
    command(
        commands,
        "new-id",
        pool.print_new_identifier,
        "print a fresh random session identifier",
        "Nothing is sent; the session starts with the first call that uses the identifier.",
    )
    group = command_group("config", "where settings live and what they say")
    command(group, "path", settings.show_path, "print the config file path")
    command(
        group,
        "show",
        settings.show_settings,
        "print the resolved settings",
        "Secrets are never shown, only whether DSTUI_TOKEN is set.",
    )

    # Everything after `emulator` goes to dstui.emulator.main, including --help.
    commands.add_parser(
        "emulator", help="run a local pool emulator (see `dstui emulator --help`)", add_help=False
    )
    return parser


def main(argv: list[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    """Entry point of the `dstui` command; returns the process exit code."""
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        _take_late_code(args, extras)
        if extras and args.command != "emulator":
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR

    env = CommandEnv(args, client_factory=client_factory)
    verbose = bool(getattr(args, "verbose", False))
    handler: Handler | None = args.handler
    # The TUI owns the terminal and the emulator sets up its own logging: neither gets the
    # stderr log handler that client commands use.
    if args.command == "emulator":
        return _guarded(env, partial(_run_emulator, extras), verbose=verbose)
    if handler is None:
        return _guarded(env, partial(_run_tui, env), verbose=verbose)
    secrets = tuple(value for value in (env.environ.get(TOKEN_ENV_VAR),) if value)
    with diagnostics(env.stderr, verbose=verbose, secrets=secrets), warnings.catch_warnings():
        # The client logs its warnings too; Python's own warning lines would repeat them.
        warnings.simplefilter("ignore")
        return _guarded(env, partial(asyncio.run, handler(env)), verbose=verbose)


def _take_late_code(args: argparse.Namespace, extras: list[str]) -> None:
    """`dstui exec ID --timeout 5 CODE`: argparse gives an optional positional (CODE) its empty
    match before the options, leaving the code over as an unknown argument; take it back."""
    if args.command != "exec" or args.code is not None or len(extras) != 1:
        return
    if extras[0] == "-" or not extras[0].startswith("-"):
        args.code = extras.pop()


def _guarded(env: CommandEnv, run: Callable[[], int], *, verbose: bool) -> int:
    """Run a command; every failure becomes a short message on stderr and exit code 2."""
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
        _report(env.stderr, exc.message, exc.hint, _error_ids(exc))
    except (CommandError, ConfigError) as exc:
        _report(env.stderr, exc.message, exc.hint)
    except Exception as exc:
        if verbose:
            env.stderr.write(redact("".join(traceback.format_exception(exc))))
        first_line = (str(exc).splitlines() or [""])[0]
        _report(env.stderr, f"unexpected {type(exc).__name__}: {first_line}".rstrip(": "))
        if not verbose:
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


def _report(stream: TextIO, message: str, hint: str = "", ids: str = "") -> None:
    stream.write(f"error: {message}\n")
    if ids:
        stream.write(f"{ids}\n")
    if hint:
        stream.write(f"hint: {hint}\n")
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
    from dstui.tui import run
    from dstui.tui.options import TuiOptions

    args = env.args
    connection = env.connection
    options = TuiOptions(
        connection=connection if connection.endpoint is not None else None,
        use_emulator=args.emulator,
        read_only=args.read_only,
        theme=args.theme,
        demo=args.demo,
    )
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
