"""`dstui container request ID PATH`: one request to a custom container's own app."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

from dstui.api.errors import safe_text
from dstui.api.validation import expand_local_path
from dstui.commands.context import CommandEnv, CommandError
from dstui.commands.output import write_json
from dstui.common.files import UnreadableFile, read_at_most

# A request body is held in memory whole: a file or stdin larger than this is refused.
MAX_DATA_BYTES = 32 * 1024 * 1024


def _headers(pairs: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in pairs:
        name, colon, value = pair.partition(":")
        if not colon or not name.strip() or any(ch in pair for ch in "\r\n\x00"):
            raise CommandError(f"-H {pair[:60]!r}: not a header", "write it as 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def _body(env: CommandEnv) -> bytes | None:
    data: str | None = env.args.data
    source: str | None = env.args.data_file
    if data is not None and source is not None:
        raise CommandError("give --data or --data-file, not both", "keep one of them")
    if data is not None:
        return data.encode("utf-8", "surrogateescape")
    if source is None:
        return None
    too_large = f"larger than {MAX_DATA_BYTES // (1024 * 1024)} MiB"
    if source == "-":
        raw = _read_stdin(env)
        if len(raw) > MAX_DATA_BYTES:
            raise CommandError(f"--data-file -: stdin is {too_large}", "send a smaller body")
        return raw
    path = expand_local_path(Path(source))
    try:
        return read_at_most(path, MAX_DATA_BYTES, too_large)
    except UnreadableFile as exc:
        raise CommandError(f"--data-file {path}: {exc}", "check the file") from None


def _read_stdin(env: CommandEnv) -> bytes:
    """Up to one byte past the limit, as bytes (the body is sent as read, not re-encoded)."""
    binary = getattr(env.stdin, "buffer", None)
    if binary is not None:
        data: bytes = binary.read(MAX_DATA_BYTES + 1)
        return data
    return env.stdin.read(MAX_DATA_BYTES + 1).encode("utf-8", "surrogateescape")


async def request_path(env: CommandEnv) -> int:
    """Prints the app's body on stdout and, with --include, its status and headers on stderr;
    exits 0 when the app answered below 400, else 1."""
    args = env.args
    headers = _headers(args.header or [])
    body = _body(env)
    path, _, query = str(args.path).partition("?")
    async with env.client() as client:
        answer = await client.request_path(
            args.method,
            path,
            args.identifier,
            body,
            query=parse_qsl(query, keep_blank_values=True),
            headers=headers,
            max_bytes=args.max_bytes,
        )
    if env.json:
        text = answer.body.decode("utf-8", "strict") if _is_utf8(answer.body) else None
        write_json(
            env.stdout,
            {
                "status": answer.status,
                "headers": answer.headers,
                "body": text,
                "bodyBase64": None if text is not None else answer.body,
                "truncated": answer.truncated,
            },
        )
    else:
        if args.include:
            env.note(f"HTTP {answer.status}")
            for name, value in answer.headers.items():
                env.note(safe_text(f"{name}: {value}"))
        env.stdout.write(answer.text)
        if answer.truncated:
            env.note(f"note: the body was cut at {args.max_bytes} bytes; raise --max-bytes")
    return 0 if answer.status < 400 else 1


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8", "strict")
    except UnicodeDecodeError:
        return False
    return True
