"""`dstui exec ID CODE`: run code in a session, print what it printed, exit 0 only on success."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import TextIO

from dstui.api import Execution, ImageResult, RequestValidationError, RunOptions, ShellCommand
from dstui.api.constants import DEFAULT_OUTPUT_MAX_LENGTH
from dstui.api.validation import expand_local_path
from dstui.commands.context import CommandEnv, CommandError
from dstui.commands.output import write_json

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def read_code(env: CommandEnv) -> str:
    """CODE, `-` (stdin) or `-f FILE` (`-f -` is stdin too), as UTF-8 text."""
    code: str | None = env.args.code
    source: str | None = env.args.file
    if (code is None) == (source is None):
        raise CommandError(
            "give the code either as an argument or with -f FILE",
            "use `dstui exec ID 'print(1)'`, `dstui exec ID -f script.py` or `... -` for stdin",
        )
    if code is not None and code != "-":
        return _utf8(code, "the code from the command line")
    return read_text("-" if code == "-" else str(source), env, "the code")


def read_text(source: str, env: CommandEnv, what: str) -> str:
    """The UTF-8 text of FILE, or of stdin for `-`; `what` names it in errors."""
    if source == "-":
        return _utf8(env.stdin.read(), f"{what} from stdin")
    path = expand_local_path(Path(source))
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(
            f"cannot read {path}: {exc.strerror or exc}", "check the file name"
        ) from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not UTF-8 text", "save it as UTF-8") from exc


def _utf8(text: str, origin: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # Bytes that are not UTF-8 arrive from argv and stdin as lone surrogates.
        raise CommandError(
            f"{origin} is not UTF-8 text (at character {exc.start + 1})",
            "save it as UTF-8, or remove the stray bytes",
        ) from exc
    return text


async def run_code(env: CommandEnv) -> int:
    code: str | ShellCommand = read_shell_command(env) or read_code(env)
    async with env.client() as client:
        options = RunOptions(
            timeout=env.args.timeout,
            output_max_length=env.args.output_max_length,
            operation_id=env.args.operation_id,
            asynchronous=env.args.asynchronous,
        )
        execution = await client.execute(env.args.identifier, code, options)
    if env.json:
        write_json(env.stdout, execution)
    else:
        print_execution(env, execution, shell=isinstance(code, ShellCommand))
    if isinstance(code, ShellCommand) and execution.exit_code is not None:
        return execution.exit_code & 0xFF  # as a shell reports it
    return 0 if execution.succeeded else 1


def read_shell_command(env: CommandEnv) -> ShellCommand | None:
    """--shell CMD or --argv WORDS (with --stdin FILE), or None when neither was given."""
    args = env.args
    if args.shell is None and args.argv is None:
        if args.stdin_file is not None:
            raise CommandError("--stdin is for shell commands", "add --shell CMD or --argv WORDS")
        return None
    if args.code is not None or args.file is not None:
        raise CommandError(
            "give either code or a shell command, not both",
            "drop CODE / -f, or drop --shell / --argv",
        )
    argv = None
    if args.argv is not None:
        try:
            argv = tuple(shlex.split(args.argv))
        except ValueError as exc:
            raise CommandError(f"--argv: {exc}", "check the quotes in WORDS") from exc
    stdin = read_text(args.stdin_file, env, "--stdin") if args.stdin_file is not None else None
    try:
        return ShellCommand(command=args.shell, argv=argv, stdin=stdin)
    except RequestValidationError as exc:
        raise CommandError(exc.message, "give a command to run") from exc


def print_execution(env: CommandEnv, execution: Execution, *, shell: bool = False) -> None:
    """Streams where they belong, then the result value, the image path and any notes (a
    shell command's exit code is dstui's own, so it gets no note)."""
    _write_block(env.stdout, execution.stdout)
    _write_block(env.stderr, execution.stderr)
    result = execution.result
    if result is not None and result != "":
        text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
        _write_block(env.stdout, text)
    if execution.image is not None:
        path = save_image(execution.image, execution.id, env.args.image_out)
        env.out(f"image saved to {path}")
    cap = env.args.output_max_length or DEFAULT_OUTPUT_MAX_LENGTH
    for stream, cut in (
        ("stdout", execution.stdout_truncated),
        ("stderr", execution.stderr_truncated),
    ):
        if cut:
            env.note(
                f"note: {stream} reached the {cap}-character cap and was cut; "
                "raise --output-max-length to see more"
            )
    if not execution.succeeded and not shell:
        env.note(f"execution {execution.status.value}")


def save_image(image: ImageResult, execution_id: str, target: Path | None) -> Path:
    """Write an image result to `target`, or to a new file in the current folder."""
    data = image.data()
    extension = _UNSAFE_FILENAME_CHARS.sub("", image.format.lower()) or "png"
    if target is None:
        stem = _UNSAFE_FILENAME_CHARS.sub("_", execution_id or "execution")[:80]
        target = _free_name(Path.cwd(), f"dstui-{stem}", extension)
    target = expand_local_path(target)
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise CommandError(
            f"cannot save the image to {target}: {exc.strerror or exc}",
            "choose another place with --image-out",
        ) from exc
    return target


def _free_name(folder: Path, stem: str, extension: str) -> Path:
    candidate = folder / f"{stem}.{extension}"
    counter = 1
    while candidate.exists():
        candidate = folder / f"{stem}-{counter}.{extension}"
        counter += 1
    return candidate


def _write_block(stream: TextIO, text: str) -> None:
    """Write text as-is, ending it with a newline so the next block starts on its own line."""
    if text:
        stream.write(text if text.endswith("\n") else f"{text}\n")
