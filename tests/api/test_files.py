"""Files: streamed upload, atomic download, previews, both API shapes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from dstui.api import (
    DestinationExistsError,
    LocalFileError,
    RequestValidationError,
    RetryPolicy,
    SessionsClient,
    StaticTokenProvider,
    TransportError,
)
from dstui.api.uploads import UPLOAD_CHUNK_SIZE
from tests.api.conftest import (
    ENDPOINT,
    POOL_PATH,
    TOKEN,
    FakeTime,
    Recorder,
    make_client,
    ok_json,
    queue,
)

FILE_JSON = {
    "name": "data.bin",
    "type": "File",
    "contentType": "application/octet-stream",
    "sizeInBytes": 3,
    "lastModifiedAt": "2024-05-29T02:17:25.902Z",
}


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory of its own (the shared conftest keeps a home/ in tmp_path)."""
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


async def test_upload_streams_in_bounded_chunks(workdir: Path) -> None:
    local = workdir / "big.bin"
    size = 5 * UPLOAD_CHUNK_SIZE + 123
    local.write_bytes(os.urandom(size))
    chunk_sizes: list[int] = []
    received = bytearray()

    class ChunkCountingTransport(httpx.AsyncBaseTransport):
        """Unlike MockTransport, consumes the request body chunk by chunk as a socket would."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            assert isinstance(request.stream, httpx.AsyncByteStream)
            async for chunk in request.stream:
                chunk_sizes.append(len(chunk))
                received.extend(chunk)
            return ok_json(FILE_JSON)

    progress: list[tuple[int, int | None]] = []
    client = SessionsClient(
        ENDPOINT, auth=StaticTokenProvider(TOKEN), transport=ChunkCountingTransport()
    )
    async with client:
        await client.upload_file(
            "abcd-1", local, progress=lambda done, total: progress.append((done, total))
        )
    assert max(chunk_sizes) <= UPLOAD_CHUNK_SIZE
    assert len(chunk_sizes) >= 6
    assert local.read_bytes() in bytes(received)
    assert progress[0] == (0, size)
    assert progress[-1] == (size, size)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


async def test_oversized_upload_is_refused_before_any_request(workdir: Path) -> None:
    local = workdir / "big.bin"
    with local.open("wb") as handle:
        handle.truncate(1025)
    recorder = queue()
    async with make_client(recorder, max_upload_bytes=1024) as client:
        with pytest.raises(RequestValidationError, match="over the upload limit"):
            await client.upload_file("abcd-1", local)
    assert recorder.sent == []


async def test_upload_remote_name_and_path(workdir: Path) -> None:
    local = workdir / "local name.txt"
    local.write_text("abc")
    recorder = queue(ok_json(FILE_JSON))
    async with make_client(recorder) as client:
        await client.upload_file(
            "abcd-1", local, path="/mnt/data/results", remote_name='we"ird.txt'
        )
    sent = recorder.sent[0]
    assert sent.query["path"] == "results"
    assert b'filename="we%22ird.txt"' in sent.body


@pytest.mark.parametrize("name", ["", "a/b", "..", "a\\b", "nul\x00"])
async def test_bad_remote_names_are_refused(workdir: Path, name: str) -> None:
    local = workdir / "f.txt"
    local.write_text("x")
    recorder = queue()
    async with make_client(recorder) as client:
        with pytest.raises(RequestValidationError):
            await client.upload_file("abcd-1", local, remote_name=name)
        with pytest.raises(RequestValidationError):
            await client.delete_file("abcd-1", name)
    assert recorder.sent == []


async def test_missing_local_file_is_refused(workdir: Path) -> None:
    async with make_client(queue()) as client:
        with pytest.raises(RequestValidationError, match="cannot read"):
            await client.upload_file("abcd-1", workdir / "nope")


async def test_download_writes_atomically(workdir: Path) -> None:
    payload = os.urandom(300_000)
    recorder = queue(httpx.Response(200, content=payload))
    progress: list[tuple[int, int | None]] = []
    async with make_client(recorder) as client:
        target = await client.download_file(
            "abcd-1",
            "data.bin",
            workdir / "out.bin",
            path="sub",
            progress=lambda d, t: progress.append((d, t)),
        )
    assert target == workdir / "out.bin"
    assert target.read_bytes() == payload
    assert _leftovers(workdir) == ["out.bin"]
    assert progress[-1] == (len(payload), len(payload))
    sent = recorder.sent[0]
    assert sent.path == f"{POOL_PATH}/files/data.bin/content"
    assert sent.query["path"] == "sub"
    assert sent.headers["accept-encoding"] == "identity"


async def test_download_into_a_directory_uses_the_remote_name(workdir: Path) -> None:
    recorder = queue(httpx.Response(200, content=b"abc"))
    async with make_client(recorder) as client:
        target = await client.download_file("abcd-1", "report.csv", workdir)
    assert target == workdir.resolve() / "report.csv"
    assert target.read_bytes() == b"abc"


async def test_existing_destination_is_not_overwritten(workdir: Path) -> None:
    existing = workdir / "out.bin"
    existing.write_bytes(b"keep me")
    recorder = queue(httpx.Response(200, content=b"new"))
    async with make_client(recorder) as client:
        with pytest.raises(DestinationExistsError):
            await client.download_file("abcd-1", "data.bin", existing)
        assert recorder.sent == []
        await client.download_file("abcd-1", "data.bin", existing, overwrite=True)
    assert existing.read_bytes() == b"new"
    assert _leftovers(workdir) == ["out.bin"]


async def test_error_mid_stream_leaves_no_file(workdir: Path) -> None:
    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            yield b"x" * 1000
            raise httpx.ReadError("connection reset")

    recorder = queue(httpx.Response(200, stream=Broken(), headers={"content-length": "5000"}))
    async with make_client(recorder) as client:
        with pytest.raises(TransportError, match="broke off"):
            await client.download_file("abcd-1", "data.bin", workdir / "out.bin")
    assert _leftovers(workdir) == []


class _CutOff(httpx.AsyncByteStream):
    """A body that ends after its first 1000 of the 5000 bytes its Content-Length promises."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"x" * 1000
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def _cut_off() -> httpx.Response:
    return httpx.Response(200, stream=_CutOff(), headers={"content-length": "5000"})


async def test_download_cut_off_mid_stream_is_fetched_again(
    workdir: Path, policy: RetryPolicy
) -> None:
    payload = b"y" * 5000
    recorder = queue(_cut_off(), httpx.Response(200, content=payload))
    seen: list[int] = []
    async with make_client(recorder, policy=policy) as client:
        target = await client.download_file(
            "abcd-1", "data.bin", workdir, progress=lambda done, total: seen.append(done)
        )
    assert len(recorder.sent) == 2
    assert target.read_bytes() == payload
    assert _leftovers(workdir) == ["data.bin"]
    assert seen[-1] == len(payload)


async def test_cancelled_download_leaves_no_file(workdir: Path) -> None:
    started = asyncio.Event()

    class Slow(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            yield b"x" * 1000
            started.set()
            await asyncio.sleep(30)
            yield b"never"

    recorder = queue(httpx.Response(200, stream=Slow()))
    async with make_client(recorder) as client:
        task = asyncio.create_task(client.download_file("abcd-1", "data.bin", workdir / "out.bin"))
        await asyncio.wait_for(started.wait(), 5)
        assert len(_leftovers(workdir)) == 1  # the temporary part file
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert _leftovers(workdir) == []


async def test_http_error_on_download_leaves_no_file(workdir: Path) -> None:
    recorder = queue(httpx.Response(404, json={"error": {"code": "NotFound", "message": "no"}}))
    async with make_client(recorder) as client:
        with pytest.raises(Exception, match="404"):
            await client.download_file("abcd-1", "data.bin", workdir / "out.bin")
    assert _leftovers(workdir) == []


async def test_download_to_missing_directory_is_refused(workdir: Path) -> None:
    async with make_client(queue()) as client:
        with pytest.raises(RequestValidationError, match="does not exist"):
            await client.download_file("abcd-1", "x.bin", workdir / "missing" / "x.bin")


async def test_read_file_stops_at_max_bytes() -> None:
    recorder = queue(httpx.Response(200, content=b"0123456789" * 1000))
    async with make_client(recorder) as client:
        preview = await client.read_file("abcd-1", "log.txt", max_bytes=15)
    assert preview == b"012345678901234"


async def test_read_file_cut_off_mid_stream_is_fetched_again(
    policy: RetryPolicy, fake_time: FakeTime
) -> None:
    payload = b"y" * 5000
    recorder = queue(_cut_off(), httpx.Response(200, content=payload))
    async with make_client(recorder, policy=policy) as client:
        preview = await client.read_file("abcd-1", "log.txt", max_bytes=4000)
    assert preview == payload[:4000]
    assert len(recorder.sent) == 2
    assert fake_time.sleeps == [0.5]  # the policy's backoff, as for any retried transport failure


async def test_read_file_gives_up_when_every_attempt_is_cut_off(policy: RetryPolicy) -> None:
    recorder = queue(*(_cut_off() for _ in range(policy.max_attempts)))
    async with make_client(recorder, policy=policy) as client:
        with pytest.raises(TransportError, match=r"read file: .*broke off"):
            await client.read_file("abcd-1", "log.txt")
    assert len(recorder.sent) == policy.max_attempts


async def test_list_files_follows_next_link() -> None:
    recorder = queue(
        ok_json({"value": [FILE_JSON], "nextLink": "/files?skip=1&identifier=abcd-1"}),
        ok_json({"value": [{**FILE_JSON, "name": "two", "type": "directory"}], "nextLink": None}),
    )
    async with make_client(recorder) as client:
        files = await client.list_files("abcd-1")
    assert [(f.name, f.is_dir) for f in files] == [("data.bin", False), ("two", True)]
    assert recorder.sent[1].query == {
        "skip": "1",
        "identifier": "abcd-1",
        "api-version": "2025-10-02-preview",
    }


async def test_recursive_listing_needs_new_version() -> None:
    async with make_client(queue(), api_version="2025-02-02-preview") as client:
        with pytest.raises(RequestValidationError, match="recursive"):
            await client.list_files("abcd-1", recursive=True)


@pytest.mark.parametrize("path", ["", "/mnt/data", "/mnt/data/"])
async def test_root_paths_send_no_path(path: str) -> None:
    recorder = queue(ok_json({"value": []}))
    async with make_client(recorder) as client:
        assert await client.list_files("abcd-1", path=path) == []
    assert "path" not in recorder.sent[0].query


async def test_legacy_file_routes_end_to_end(workdir: Path) -> None:
    envelope = {
        "$id": "1",
        "value": [
            {
                "$id": "2",
                "properties": {
                    "$id": "3",
                    "filename": "x.txt",
                    "size": 3,
                    "lastModifiedTime": "2024-05-02T07:21:07.9922617Z",
                },
            }
        ],
    }

    def respond(request: httpx.Request) -> httpx.Response:
        route = request.url.path.removeprefix(POOL_PATH)
        if route == "/files/content/x.txt":
            return httpx.Response(200, content=b"abc")
        if request.method == "DELETE":
            return ok_json({"message": "file deleted successfully"})
        return ok_json(envelope)

    recorder = Recorder(respond)
    local = workdir / "x.txt"
    local.write_text("abc")
    async with make_client(recorder, api_version="2024-02-02-preview") as client:
        uploaded = await client.upload_file("abcd-1", local)
        listed = await client.list_files("abcd-1")
        meta = await client.get_file("abcd-1", "x.txt")
        target = await client.download_file("abcd-1", "x.txt", workdir / "copy.txt")
        await client.delete_file("abcd-1", "x.txt")
        with pytest.raises(RequestValidationError, match="no directories"):
            await client.list_files("abcd-1", path="sub")
    assert uploaded == listed[0] == meta
    assert (uploaded.name, uploaded.size) == ("x.txt", 3)
    assert target.read_text() == "abc"
    assert [(s.method, s.path.removeprefix(POOL_PATH)) for s in recorder.sent] == [
        ("POST", "/files/upload"),
        ("GET", "/files"),
        ("GET", "/files/x.txt"),
        ("GET", "/files/content/x.txt"),
        ("DELETE", "/files/x.txt"),
    ]
    assert all(
        s.query == {"api-version": "2024-02-02-preview", "identifier": "abcd-1"}
        for s in recorder.sent
    )


async def test_remote_name_cannot_escape_a_destination_directory(workdir: Path) -> None:
    recorder = queue()
    async with make_client(recorder) as client:
        for name in ("../escape.txt", "..", "a/../../b"):
            with pytest.raises(RequestValidationError):
                await client.download_file("abcd-1", name, workdir)
    assert recorder.sent == []
    assert _leftovers(workdir) == []


async def test_unwritable_destination_is_a_local_file_error(workdir: Path) -> None:
    (workdir / "data.bin").mkdir()  # a directory where the file should go
    recorder = queue(httpx.Response(200, content=b"abc"))
    async with make_client(recorder) as client:
        with pytest.raises(LocalFileError, match="cannot write"):
            await client.download_file("abcd-1", "data.bin", workdir, overwrite=True)
    assert _leftovers(workdir) == ["data.bin"]
    assert (workdir / "data.bin").is_dir()
