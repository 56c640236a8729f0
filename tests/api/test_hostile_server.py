"""The client against servers that misbehave: endless pages, redirects, huge and endless bodies,
slow drips, echoed tokens, names with control characters (issue 10, the client).

Every server here is a real HTTP server on loopback (tests/api/hostile_server.py), so each
behaviour goes through httpx exactly as it would against a broken proxy.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import psutil
import pytest

from dstui.api import (
    ClientLimits,
    EndlessPagingError,
    RequestTimeoutError,
    RequestValidationError,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
    SessionsClient,
    StalledTransferError,
    StaticTokenProvider,
    TransportError,
    UnexpectedStatusError,
)
from dstui.api.errors import ApiError, redact
from dstui.api.observer import SentExchange
from dstui.api.run_options import RunOptions
from tests.api.hostile_server import (
    HostileServer,
    Request,
    chunk,
    head,
    hostile,
    json_response,
    response,
)

IDENT = "hostile-1"
SESSION = {
    "identifier": "s-0001",
    "createdAt": "2026-01-01T00:00:00Z",
    "lastAccessedAt": "2026-01-01T00:00:00Z",
    "expiresAt": "2026-01-01T01:00:00Z",
}
FILE = {"name": "f.txt", "type": "File", "sizeInBytes": 3, "lastModifiedAt": "2026-01-01T00:00:00Z"}
NO_RETRY = RetryPolicy(max_attempts=1)


def client_for(server: HostileServer, **kwargs: object) -> SessionsClient:
    kwargs.setdefault("retry", NO_RETRY)
    kwargs.setdefault("timeout", 5.0)
    return SessionsClient(server.endpoint, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


def leftovers(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# -- 1. endless paging ------------------------------------------------------------------------


async def endless_session_pages(request: Request, writer: asyncio.StreamWriter) -> None:
    skip = int(request.query.get("skip", "0"))
    page = {"sessions": [SESSION], "nextLink": f"/pool/listSessions?skip={skip + 1}"}
    writer.write(json_response(page))


async def endless_file_pages(request: Request, writer: asyncio.StreamWriter) -> None:
    skip = int(request.query.get("skip", "0"))
    page = {"value": [FILE], "nextLink": f"/pool/files?identifier={IDENT}&skip={skip + 1}"}
    writer.write(json_response(page))


async def test_never_repeating_session_links_stop_at_the_page_bound() -> None:
    limits = ClientLimits(list_max_pages=40)
    async with (
        hostile(endless_session_pages) as server,
        client_for(server, limits=limits) as client,
    ):
        with pytest.raises(EndlessPagingError, match="keeps sending new pages") as caught:
            await client.list_sessions()
    assert len(server.requests) == 40
    assert "40 pages" in caught.value.message
    assert "nothing partial" in caught.value.hint


async def test_never_repeating_links_stop_at_the_time_bound() -> None:
    limits = ClientLimits(list_deadline_s=0.5)
    async with (
        hostile(endless_session_pages) as server,
        client_for(server, limits=limits) as client,
    ):
        began = time.monotonic()
        with pytest.raises(EndlessPagingError, match="keeps sending new pages"):
            await client.list_sessions()
    assert time.monotonic() - began < 5
    assert len(server.requests) > 1


async def test_file_listing_stops_at_the_item_bound() -> None:
    limits = ClientLimits(list_max_items=25)
    async with hostile(endless_file_pages) as server, client_for(server, limits=limits) as client:
        with pytest.raises(EndlessPagingError, match="25 entries"):
            await client.list_files(IDENT)
    assert len(server.requests) == 25


async def test_empty_pages_in_a_row_stop_the_listing() -> None:
    async def empty_pages(request: Request, writer: asyncio.StreamWriter) -> None:
        skip = int(request.query.get("skip", "0"))
        writer.write(json_response({"sessions": [], "nextLink": f"/pool/x?skip={skip + 1}"}))

    async with hostile(empty_pages) as server, client_for(server) as client:
        with pytest.raises(EndlessPagingError, match="5 empty pages in a row"):
            await client.list_sessions()
    assert len(server.requests) == 5


# -- 2. redirects and undocumented statuses ---------------------------------------------------

LOGIN = "https://login.example.com/sso?next=/pool"


async def redirect_everything(request: Request, writer: asyncio.StreamWriter) -> None:
    if request.path.endswith("/content"):
        page = b"<html><body>Please sign in</body></html>"
        writer.write(response(302, page, {"Location": LOGIN, "Content-Type": "text/html"}))
    elif request.path.endswith("/listSessions"):
        body = {"sessions": [SESSION], "nextLink": None}
        writer.write(json_response(body, 307, {"Location": LOGIN}))
    else:
        writer.write(response(204))


async def test_a_302_on_download_is_an_error_and_writes_nothing(downloads: Path) -> None:
    async with hostile(redirect_everything) as server, client_for(server) as client:
        with pytest.raises(UnexpectedStatusError) as caught:
            await client.download_file(IDENT, "report.csv", downloads)
    assert "HTTP 302" in caught.value.message
    assert LOGIN in caught.value.message
    assert "login page or a proxy" in caught.value.hint
    assert leftovers(downloads) == []
    assert len(server.requests) == 1  # not followed


async def test_a_307_with_a_json_body_is_not_a_session_list() -> None:
    async with hostile(redirect_everything) as server, client_for(server) as client:
        with pytest.raises(UnexpectedStatusError, match="HTTP 307") as caught:
            await client.list_sessions()
    assert LOGIN in caught.value.message
    assert len(server.requests) == 1


async def test_a_204_on_download_is_an_error_not_an_empty_file(downloads: Path) -> None:
    async def no_content(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(204))

    async with hostile(no_content) as server, client_for(server) as client:
        with pytest.raises(UnexpectedStatusError, match="HTTP 204") as caught:
            await client.download_file(IDENT, "data.bin", downloads)
    assert "Nothing was kept" in caught.value.hint
    assert leftovers(downloads) == []


async def test_a_status_the_operation_does_not_document_is_an_error() -> None:
    async def accepted(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(json_response({"name": "x", "type": "File"}, 202))

    async with hostile(accepted) as server, client_for(server) as client:
        with pytest.raises(UnexpectedStatusError, match="HTTP 202"):
            await client.get_file(IDENT, "x")


# -- 3. unbounded bodies, deadlines, slow drips ----------------------------------------------


async def test_a_huge_json_answer_is_cut_at_the_size_limit() -> None:
    block = b" " * (1024 * 1024)

    async def huge(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, {"Content-Type": "application/json", "Content-Length": "4" * 9}))
        for _ in range(400):
            writer.write(block)
            await writer.drain()

    rss_before = psutil.Process().memory_info().rss
    async with hostile(huge) as server, client_for(server) as client:
        with pytest.raises(ResponseTooLargeError, match=r"larger than 32\.0 MiB"):
            await client.list_sessions()
    assert psutil.Process().memory_info().rss - rss_before < 200 * 1024 * 1024


async def test_an_endless_chunked_answer_is_cut_at_the_size_limit() -> None:
    limits = ClientLimits(json_max_bytes=2 * 1024 * 1024)

    async def endless(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(
            head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        )
        while True:
            writer.write(chunk(b"[" * 65536))
            await writer.drain()

    async with hostile(endless) as server, client_for(server, limits=limits) as client:
        with pytest.raises(ResponseTooLargeError, match=r"2\.0 MiB"):
            await client.get_pool_metadata()


async def drip(request: Request, writer: asyncio.StreamWriter) -> None:
    writer.write(head(200, {"Content-Type": "application/json", "Content-Length": "1000"}))
    for _ in range(1000):
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(0.1)


async def test_a_dripping_json_answer_ends_at_the_call_deadline() -> None:
    async with hostile(drip) as server:
        limits = ClientLimits(call_deadline_s=1.0)
        async with client_for(server, limits=limits, timeout=0.5) as client:
            began = time.monotonic()
            with pytest.raises(RequestTimeoutError, match="overall deadline"):
                await client.get_pool_metadata()
    assert time.monotonic() - began < 4


async def test_a_dripping_download_ends_below_the_transfer_floor(downloads: Path) -> None:
    limits = ClientLimits(transfer_window_s=1.0, transfer_min_bytes=1024)
    async with hostile(drip) as server, client_for(server, limits=limits) as client:
        began = time.monotonic()
        with pytest.raises(StalledTransferError, match="slowed to") as caught:
            await client.download_file(IDENT, "slow.bin", downloads)
    assert time.monotonic() - began < 4
    assert "nothing was kept" in caught.value.hint
    assert leftovers(downloads) == []


async def test_a_large_download_streams_to_disk_without_memory_growth(downloads: Path) -> None:
    size = 96 * 1024 * 1024
    block = os.urandom(1024 * 1024)

    async def big(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, {"Content-Length": str(size)}))
        for _ in range(size // len(block)):
            writer.write(block)
            await writer.drain()

    process = psutil.Process()
    rss_before = process.memory_info().rss
    peak = rss_before

    def sample(done: int, total: int | None) -> None:
        nonlocal peak
        peak = max(peak, process.memory_info().rss)

    async with hostile(big) as server, client_for(server) as client:
        saved = await client.download_file(IDENT, "big.bin", downloads, progress=sample)
    assert saved.stat().st_size == size
    assert peak - rss_before < 48 * 1024 * 1024


# -- 5. echoed tokens -------------------------------------------------------------------------

OPAQUE_TOKEN = "opaque-Secret-Token-0123456789abcdef"


async def test_a_token_echoed_in_an_error_body_is_redacted() -> None:
    async def echo(request: Request, writer: asyncio.StreamWriter) -> None:
        token = request.headers["authorization"].removeprefix("Bearer ")
        body = {"error": {"code": "Nope", "message": f"token {token} is not for this pool"}}
        writer.write(json_response(body, 400))

    async with hostile(echo) as server:
        auth = StaticTokenProvider(OPAQUE_TOKEN)
        async with client_for(server, auth=auth) as client:
            with pytest.raises(ApiError) as caught:
                await client.list_sessions()
    assert OPAQUE_TOKEN not in str(caught.value)
    assert "token [redacted] is not for this pool" in caught.value.message
    assert redact(f"x {OPAQUE_TOKEN} y") == "x [redacted] y"


async def test_a_token_echoed_by_the_server_is_redacted_from_what_is_recorded() -> None:
    """The request log (`dstui log`) keeps answers and errors: an echoed token must not be
    among them, whether in the body or in a header."""

    async def echo(request: Request, writer: asyncio.StreamWriter) -> None:
        token = request.headers["authorization"].removeprefix("Bearer ")
        body = {"error": {"code": "Nope", "message": f"token {token} is not for this pool"}}
        writer.write(json_response(body, 400, {"WWW-Authenticate": f'Bearer token="{token}"'}))

    recorded: list[SentExchange] = []
    async with hostile(echo) as server:
        auth = StaticTokenProvider(OPAQUE_TOKEN)
        async with client_for(server, auth=auth, observer=recorded.append) as client:
            with pytest.raises(ApiError):
                await client.list_sessions()
    assert recorded, "nothing was recorded"
    for exchange in recorded:
        assert OPAQUE_TOKEN not in repr(exchange)
    assert b"token [redacted] is not for this pool" in (recorded[0].response_body or b"")


async def test_a_failing_observer_is_one_warning_line_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def sessions(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(json_response({"value": [SESSION]}))

    def broken(exchange: SentExchange) -> None:
        raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")

    async with hostile(sessions) as server, client_for(server, observer=broken) as client:
        listed = await client.list_sessions()
    assert [s.identifier for s in listed] == ["s-0001"]  # the call itself is unharmed
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    assert "surrogates not allowed" in warnings[0].getMessage()


# -- 6. very long names -----------------------------------------------------------------------


async def test_very_long_names_are_refused_before_anything_is_sent(downloads: Path) -> None:
    async def unreachable(request: Request, writer: asyncio.StreamWriter) -> None:
        raise AssertionError("nothing should be sent")

    long_name = "n" * 100_000
    async with hostile(unreachable) as server, client_for(server) as client:
        with pytest.raises(RequestValidationError, match="255"):
            await client.download_file(IDENT, long_name, downloads)
        with pytest.raises(RequestValidationError, match="255"):
            await client.delete_file(IDENT, long_name)
        with pytest.raises(RequestValidationError, match="4096"):
            await client.list_files(IDENT, path="d/" * 50_000)
        with pytest.raises(RequestValidationError):
            await client.get_execution(IDENT, "e" * 100_000)
        with pytest.raises(RequestValidationError, match="operation id"):
            await client.execute(IDENT, "1", RunOptions(operation_id="o" * 100_000))
    assert server.requests == []


# -- 7. control characters in listed names ---------------------------------------------------

HOSTILE_NAMES = ("\x1b]0;owned\x07title.txt", "two\nlines.txt", "report\u202etxt.exe")


async def test_listed_control_characters_never_become_local_names(downloads: Path) -> None:
    async def content(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(200, b"abc"))

    async with hostile(content) as server, client_for(server) as client:
        saved = [await client.download_file(IDENT, name, downloads) for name in HOSTILE_NAMES]
    assert [path.name for path in saved] == [
        "_]0;owned_title.txt",
        "two_lines.txt",
        "report_txt.exe",
    ]
    assert all(path.read_bytes() == b"abc" for path in saved)


# -- 8. hints ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_failed_run_says_the_code_may_already_have_run(status: int) -> None:
    async def failing(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(json_response({"error": {"code": "Gateway", "message": "oops"}}, status))

    async with hostile(failing) as server, client_for(server, retry=RetryPolicy()) as client:
        with pytest.raises(ServerError) as caught:
            await client.execute(IDENT, "print(1)")
    assert len(server.requests) == 1  # never sent twice
    assert "may already have run" in caught.value.hint
    assert "retry in a moment" not in caught.value.hint


async def test_a_failed_upload_says_the_file_may_have_arrived(downloads: Path) -> None:
    async def failing(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(json_response({"error": {"code": "Gateway", "message": "oops"}}, 502))

    local = downloads / "up.txt"
    local.write_text("hello")
    async with hostile(failing) as server, client_for(server, retry=RetryPolicy()) as client:
        with pytest.raises(ServerError) as caught:
            await client.upload_file(IDENT, local)
    assert len(server.requests) == 1
    assert "may have arrived" in caught.value.hint
    assert "files ls" in caught.value.hint


async def test_a_download_cut_off_mid_body_says_the_transfer_was_interrupted(
    downloads: Path,
) -> None:
    async def cut(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, {"Content-Length": "100000"}) + b"x" * 1000)
        await writer.drain()
        writer.transport.abort()

    async with hostile(cut) as server, client_for(server) as client:
        with pytest.raises(TransportError, match="broke off") as caught:
            await client.download_file(IDENT, "cut.bin", downloads)
    assert "interrupted" in caught.value.hint
    assert "nothing was kept" in caught.value.hint
    assert "DNS" not in caught.value.hint
    assert leftovers(downloads) == []
