"""Hostile input to the emulator: special files, over-long names, deep JSON, odd multipart.

Each gets the service's error envelope with a 4xx and a precise message, nothing is logged as
unexpected, and no request can hold up the others.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterator

import httpx
import pytest

from dstui.emulator import EmulatorServer
from dstui.emulator.files import FileEntry, SessionFiles
from dstui.emulator.uploads import _PartWriter
from tests.emulator.conftest import NEW, OLD, auth_headers, execute_raw

LONG_NAME = "n" * 300


def params(identifier: str, version: str = NEW, **extra: str) -> dict[str, str]:
    return {"api-version": version, "identifier": identifier, **extra}


@pytest.fixture
def unexpected(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """The emulator's error records during the test (it runs in this process)."""
    caplog.set_level(logging.WARNING, logger="dstui.emulator")
    records: list[logging.LogRecord] = []
    yield records
    records.extend(r for r in caplog.records if r.levelno >= logging.ERROR)
    assert records == [], [r.getMessage() for r in records]


def assert_envelope(response: httpx.Response, status: int, *fragments: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == response.headers["x-ms-error-code"]
    for fragment in fragments:
        assert fragment in error["message"], error["message"]


async def test_special_files_are_never_opened_nor_listed(
    raw: httpx.AsyncClient, ident: str, unexpected: list[logging.LogRecord]
) -> None:
    made = await execute_raw(
        raw,
        ident,
        "import os, socket\nos.mkfifo('/mnt/data/fifo')\n"
        "s = socket.socket(socket.AF_UNIX)\ns.bind('/mnt/data/sock')\n"
        "os.mkdir('/mnt/data/d')\nos.mkfifo('/mnt/data/d/pipe')\n"
        "os.symlink('fifo', '/mnt/data/alias')\nopen('/mnt/data/plain.txt', 'w').write('ok')",
    )
    assert made.json()["status"] == "Succeeded", made.text
    # Each of these would block on the FIFO (until a writer came) if it were opened.
    short = httpx.Timeout(5.0)
    for url, version in (
        ("/files/fifo/content", NEW),
        ("/files/fifo", NEW),
        ("/files/content/fifo", OLD),
        ("/files/fifo", OLD),
    ):
        response = await raw.get(url, params=params(ident, version), timeout=short)
        assert_envelope(response, 400, "is a FIFO (named pipe)", "only regular files")
    socket_content = await raw.get("/files/sock/content", params=params(ident), timeout=short)
    assert_envelope(socket_content, 400, "'sock' is a socket")
    nested = await raw.get("/files/pipe/content", params=params(ident, path="d"), timeout=short)
    assert_envelope(nested, 400, "FIFO")
    listing = await raw.get("/files", params=params(ident, recursive="true"), timeout=short)
    alias = await raw.get("/files/alias/content", params=params(ident), timeout=short)
    assert_envelope(alias, 400, "'alias' is a symbolic link", "only regular files")
    # Special files and links are left out.
    assert [(e["directory"], e["name"]) for e in listing.json()["value"]] == [
        ("", "d"),
        ("", "plain.txt"),
    ]
    legacy = await raw.get("/files", params=params(ident, OLD), timeout=short)
    names = [item["properties"]["filename"] for item in legacy.json()["value"]]
    assert names == ["plain.txt"]
    # They can be removed, which never opens them either.
    assert (await raw.delete("/files/fifo", params=params(ident), timeout=short)).status_code == 204
    assert (await raw.delete("/files/sock", params=params(ident), timeout=short)).status_code == 204
    assert (
        await raw.delete("/files/alias", params=params(ident), timeout=short)
    ).status_code == 204


# Where a hung disk would stop each file operation, and the request that reaches it.
STUCK_POINTS = {
    "stat": (SessionFiles, "stat", "GET", "/files/stuck.txt"),
    "content": (SessionFiles, "open_read", "GET", "/files/stuck.txt/content"),
    "listing": (SessionFiles, "entries", "GET", "/files"),
    "upload": (_PartWriter, "on_part_data", "POST", "/files"),
}


@pytest.mark.parametrize("point", sorted(STUCK_POINTS))
async def test_stuck_file_io_does_not_hold_up_other_requests(
    emulator: EmulatorServer, ident: str, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    """A file operation that never returns (a hung disk) leaves every other request served."""
    owner, attribute, method, url = STUCK_POINTS[point]
    entered, release = threading.Event(), threading.Event()
    real = getattr(owner, attribute)

    def stuck(self: object, *args: object, **kwargs: object) -> object:
        if "stuck" in repr(args) or getattr(self, "target", None) == "stuck.txt":
            entered.set()
            release.wait(30)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(owner, attribute, stuck)
    async with httpx.AsyncClient(
        base_url=emulator.endpoint, headers=auth_headers(emulator), timeout=5
    ) as client:
        await client.post("/files", params=params(ident), files={"file": ("ok.txt", b"ok")})
        files = {"file": ("stuck.txt", b"data")} if method == "POST" else None
        where = {"path": "stuck"} if point == "listing" else {}
        request = client.request(method, url, params=params(ident, **where), files=files)
        blocked = asyncio.create_task(request)
        try:
            assert await asyncio.to_thread(entered.wait, 5)
            listed = await client.get("/listSessions", params={"api-version": NEW}, timeout=2)
            content = await client.get("/files/ok.txt/content", params=params(ident), timeout=2)
            assert (listed.status_code, content.content) == (200, b"ok")
            assert not blocked.done()
        finally:
            release.set()
        assert (await blocked).status_code < 500


@pytest.mark.parametrize(
    ("method", "url", "version"),
    [
        ("GET", f"/files/{LONG_NAME}", NEW),
        ("GET", f"/files/{LONG_NAME}/content", NEW),
        ("DELETE", f"/files/{LONG_NAME}", NEW),
        ("GET", f"/files/{LONG_NAME}", OLD),
        ("GET", f"/files/content/{LONG_NAME}", OLD),
        ("DELETE", f"/files/{LONG_NAME}", OLD),
    ],
)
async def test_names_over_255_bytes_are_refused(
    raw: httpx.AsyncClient,
    ident: str,
    method: str,
    url: str,
    version: str,
    unexpected: list[logging.LogRecord],
) -> None:
    response = await raw.request(method, url, params=params(ident, version))
    assert_envelope(response, 400, "The file name is 300 bytes long; the limit is 255 bytes.")


@pytest.mark.parametrize(("route", "version"), [("/files", NEW), ("/files/upload", OLD)])
async def test_uploads_with_names_or_paths_over_the_limits_are_refused(
    raw: httpx.AsyncClient,
    ident: str,
    route: str,
    version: str,
    unexpected: list[logging.LogRecord],
) -> None:
    by_name = await raw.post(
        route, params=params(ident, version), files={"file": (LONG_NAME, b"x")}
    )
    assert_envelope(by_name, 400, "The file name is 300 bytes long")
    multibyte = await raw.post(
        route, params=params(ident, version), files={"file": ("é" * 128, b"x")}
    )
    assert_envelope(multibyte, 400, "256 bytes long; the limit is 255")
    if version == NEW:
        by_path = await raw.post(
            route, params=params(ident, path=f"ok/{LONG_NAME}"), files={"file": ("a", b"x")}
        )
        assert_envelope(by_path, 400, "is 300 bytes long")
        deep = await raw.get("/files", params=params(ident, path="d/" * 600))
        assert_envelope(deep, 400, "The path is 1200 bytes long; the limit is 1024 bytes.")
    listing = await raw.get("/files", params=params(ident))
    assert listing.status_code == 200 and ".upload-" not in listing.text


@pytest.mark.parametrize("depth", [65, 5_000, 200_000])
@pytest.mark.parametrize(("route", "version"), [("/executions", NEW), ("/code/execute", OLD)])
async def test_deeply_nested_json_is_refused(
    raw: httpx.AsyncClient,
    ident: str,
    depth: int,
    route: str,
    version: str,
    unexpected: list[logging.LogRecord],
) -> None:
    body = b'{"code": "1", "x": ' + b"[" * depth + b"]" * depth + b"}"
    response = await raw.post(
        route,
        params=params(ident, version),
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert_envelope(response, 400, "The JSON body nests deeper than 64 levels.")


async def test_json_errors_say_where(raw: httpx.AsyncClient, ident: str) -> None:
    response = await raw.post("/executions", params=params(ident), content=b'{"code": }')
    assert_envelope(response, 400, "The body is not valid JSON (Expecting value at position 9).")


@pytest.mark.parametrize("length", [71, 100, 300])
async def test_multipart_boundaries_over_70_characters_are_refused(
    raw: httpx.AsyncClient, ident: str, length: int, unexpected: list[logging.LogRecord]
) -> None:
    boundary = "b" * length
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        f"x\r\n--{boundary}--\r\n"
    ).encode()
    response = await raw.post(
        "/files",
        params=params(ident),
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_envelope(
        response, 400, f"The multipart boundary is {length} characters long; RFC 2046 allows"
    )


@pytest.mark.parametrize("route", ["/listSessions", "/.management/listSessions"])
@pytest.mark.parametrize("skip", ["9" * 100, "9" * 5_000, "1000000001", "-1", "1e3"])
async def test_skip_out_of_range_is_refused(
    raw: httpx.AsyncClient, route: str, skip: str, unexpected: list[logging.LogRecord]
) -> None:
    method = "GET" if route == "/listSessions" else "POST"
    response = await raw.request(method, route, params={"api-version": NEW, "skip": skip})
    assert_envelope(response, 400, "'skip' must be a whole number from 0 to 1000000000")
    assert len(response.json()["error"]["message"]) < 200


async def test_echoed_values_are_shortened(raw: httpx.AsyncClient) -> None:
    response = await raw.get("/listSessions", params={"api-version": "v" * 10_000})
    assert_envelope(response, 400, "(10000 characters)")
    assert len(response.content) < 1_000


async def test_a_file_that_shrinks_during_download_cuts_the_response_off(
    emulator: EmulatorServer,
    raw: httpx.AsyncClient,
    ident: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Code can truncate a file while it is sent: the client sees a cut-off body (never a
    short one that passes for complete), and nothing logs a traceback."""
    caplog.set_level(logging.WARNING)
    await raw.post("/files", params=params(ident), files={"file": ("big.bin", b"x" * 100_000)})
    real_open_read = SessionFiles.open_read

    def open_then_truncate(
        self: SessionFiles, parts: list[str], name: str
    ) -> tuple[int, os.stat_result]:
        fd, info = real_open_read(self, parts, name)
        os.truncate(fd_path(fd), 10)
        return fd, info

    monkeypatch.setattr(SessionFiles, "open_read", open_then_truncate)
    with pytest.raises(httpx.RemoteProtocolError):
        await raw.get("/files/big.bin/content", params=params(ident))
    await asyncio.sleep(0.2)  # the server thread logs after the connection closed
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("cut off: the file shrank" in r.getMessage() for r in caplog.records)


def fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


@pytest.mark.parametrize("mtime", [1e18, -1e18, float("nan")])
def test_any_mtime_code_can_set_is_rendered(mtime: float) -> None:
    info = os.stat_result((0o100644, 0, 0, 1, 0, 0, 5, 0, mtime, 0))
    rendered = FileEntry.from_stat("f.txt", "", info).render()
    assert rendered["lastModifiedAt"] in (
        "9999-12-31T23:59:59.000000Z",
        "0001-01-01T00:00:00.000000Z",
    )


async def test_access_log_escapes_what_a_terminal_would_act_on(
    raw: httpx.AsyncClient, ident: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dstui.emulator.access")
    await raw.get("/files/%E2%80%AEtxt.exe%C2%9B31m%1B%5D0;x%07", params=params(ident))
    await raw.get("/listSessions", params={"api-version": NEW})  # its line follows the first
    deadline = asyncio.get_running_loop().time() + 5
    while len(caplog.records) < 2 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    line = next(r.getMessage() for r in caplog.records if "txt.exe" in r.getMessage())
    assert not any(char in line for char in "\u202e\x9b\x1b\x07")
    assert "\\u202etxt.exe\\u009b31m\\u001b]0;x\\u0007" in line
