"""Exporting a session's /mnt/data as one archive: end to end against the real emulator, and
against a lying server for names and failures the emulator cannot produce."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest

from dstui.api import (
    DestinationExistsError,
    RequestValidationError,
    ServerError,
    SessionsClient,
    StaticTokenProvider,
    new_identifier,
)
from dstui.api.retry import RetryPolicy
from dstui.api.session_export import (
    ExportLimits,
    ExportProgress,
    archive_format,
    export_session,
    resolve_archive_path,
)
from dstui.cli import main
from dstui.emulator import EmulatorServer
from tests.api.hostile_server import Request, hostile, json_response, response


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder for archives (tmp_path itself holds the test's home)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


TREE = r"""
import os, random
root = "/mnt/data"
os.makedirs(f"{root}/a/b", exist_ok=True)
os.makedirs(f"{root}/empty", exist_ok=True)
open(f"{root}/top.txt", "w").write("top\n")
open(f"{root}/a/b/deep.csv", "w").write("x,y\n" * 1000)
open(f"{root}/a/evil\x1b[31m.txt", "w").write("red")
open(f"{root}/a/naïve name.txt", "w").write("ü")
random.seed(7)
open(f"{root}/blob.bin", "wb").write(random.randbytes(3 * 1024 * 1024 + 5))
"""

EXPECTED = {
    "top.txt": b"top\n",
    "a/b/deep.csv": b"x,y\n" * 1000,
    "a/evil_[31m.txt": b"red",
    "a/naïve name.txt": "ü".encode(),
}


def blob() -> bytes:
    import random

    random.seed(7)
    return random.randbytes(3 * 1024 * 1024 + 5)


async def session_with_tree(client: SessionsClient) -> str:
    identifier = new_identifier("export")
    execution = await client.execute(identifier, TREE)
    assert execution.succeeded, execution.stderr
    return identifier


def tar_contents(path: Path) -> tuple[dict[str, bytes], set[str]]:
    files: dict[str, bytes] = {}
    directories: set[str] = set()
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            assert not member.name.startswith("/") and ".." not in member.name.split("/")
            if member.isdir():
                directories.add(member.name)
            else:
                extracted = archive.extractfile(member)
                assert extracted is not None
                files[member.name] = extracted.read()
    return files, directories


async def test_tar_gz_holds_the_whole_tree_with_safe_names(
    emulator_client: SessionsClient, folder: Path
) -> None:
    identifier = await session_with_tree(emulator_client)
    seen: list[ExportProgress] = []
    target = folder / "out.tar.gz"
    result = await export_session(emulator_client, identifier, target, progress=seen.append)

    files, directories = tar_contents(target)
    assert {name: data for name, data in files.items() if name != "blob.bin"} == EXPECTED
    assert hashlib.sha256(files["blob.bin"]).digest() == hashlib.sha256(blob()).digest()
    assert directories == {"a", "a/b", "empty"}
    assert (result.files, result.directories, result.skipped) == (5, 3, ())
    assert result.bytes == sum(map(len, files.values()))
    assert os.listdir(folder) == ["out.tar.gz"]  # no temporary or staging file left
    # Progress: known totals, bytes that only grow, and a last call with everything done.
    assert seen[0].files_total == 5 and seen[0].bytes_total == result.bytes
    assert [s.bytes_done for s in seen] == sorted(s.bytes_done for s in seen)
    assert (seen[-1].files_done, seen[-1].bytes_done, seen[-1].current) == (5, result.bytes, "")
    assert any(0 < s.bytes_done < result.bytes for s in seen)


async def test_zip_holds_the_same_tree(emulator_client: SessionsClient, folder: Path) -> None:
    identifier = await session_with_tree(emulator_client)
    target = folder / "out.zip"
    await export_session(emulator_client, identifier, target)
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert {"a/", "a/b/", "empty/"} <= set(names)
        for name, data in EXPECTED.items():
            assert archive.read(name) == data
        assert archive.read("blob.bin") == blob()


async def test_an_existing_archive_is_kept_unless_overwrite(
    emulator_client: SessionsClient, folder: Path
) -> None:
    identifier = await session_with_tree(emulator_client)
    target = folder / "keep.tgz"
    target.write_bytes(b"precious")
    with pytest.raises(DestinationExistsError):
        await export_session(emulator_client, identifier, target)
    assert target.read_bytes() == b"precious"
    await export_session(emulator_client, identifier, target, overwrite=True)
    assert "top.txt" in tar_contents(target)[0]
    assert sorted(os.listdir(folder)) == ["keep.tgz"]


async def test_legacy_api_exports_the_root_and_says_what_it_left_out(
    emulator: EmulatorServer, emulator_client: SessionsClient, folder: Path
) -> None:
    identifier = await session_with_tree(emulator_client)
    assert emulator.token is not None
    async with SessionsClient(
        emulator.endpoint,
        auth=StaticTokenProvider(emulator.token),
        api_version="2024-02-02-preview",
        retry=RetryPolicy(max_attempts=1),
    ) as legacy:
        result = await export_session(legacy, identifier, folder / "old.zip")
    with zipfile.ZipFile(folder / "old.zip") as archive:
        assert archive.read("top.txt") == b"top\n"
        assert archive.read("blob.bin") == blob()
    assert (result.files, result.directories, result.skipped) == (2, 0, ())  # root only


def test_the_format_comes_from_the_suffix(tmp_path: Path) -> None:
    assert archive_format(Path("x.TAR.GZ")) == "tar.gz"
    assert archive_format(Path("x.tgz")) == "tar.gz"
    assert archive_format(Path("x.zip")) == "zip"
    for bad in ("x.tar", "x.gz", ".zip", "x"):
        with pytest.raises(RequestValidationError, match="archive format"):
            archive_format(Path(bad))
    assert resolve_archive_path(tmp_path, "s-001", overwrite=False) == tmp_path / "s-001.tar.gz"
    # An identifier may hold "/" (and comes from a listing): the archive stays in the folder.
    for odd, expected in (("../../etc/x", "_.._.._etc_x"), ("a/b\x1b", "a_b_")):
        assert resolve_archive_path(tmp_path, odd, overwrite=False) == tmp_path / (
            expected + ".tar.gz"
        )
    with pytest.raises(RequestValidationError, match="does not exist"):
        resolve_archive_path(tmp_path / "no" / "x.zip", "s-001", overwrite=False)


# A lying server: names no file system has, endless depth, a download that fails.

ODD_ROOT = [
    {"name": "..", "type": "Directory"},
    {"name": ".", "type": "Directory"},
    {"name": "/etc/passwd", "type": "File", "sizeInBytes": 3},
    {"name": "..\\..\\win.ini", "type": "File", "sizeInBytes": 3},
    {"name": "bell\x07", "type": "File", "sizeInBytes": 3},
    {"name": "bell\x1b", "type": "File", "sizeInBytes": 3},
    {"name": "deep", "type": "Directory"},
    {"name": "ok.txt", "type": "File", "sizeInBytes": 3},
]


def lying_pool(*, broken: str | None = None):  # type: ignore[no-untyped-def]
    async def scenario(request: Request, writer: asyncio.StreamWriter) -> None:
        path = unquote(request.path)
        if path == "/pool/files":
            directory = request.query.get("path", "")
            entries = ODD_ROOT if directory == "" else [{"name": "deep", "type": "Directory"}]
            writer.write(json_response({"value": entries}))
        elif path.endswith("/content") or path.startswith("/pool/files/content/"):
            name = path.removeprefix("/pool/files/").removesuffix("/content")
            name = name.removeprefix("content/")
            if name == broken:
                writer.write(json_response({"error": {"code": "Boom"}}, status=500))
            else:
                writer.write(response(200, b"abc", {"Content-Type": "text/plain"}))
        else:
            writer.write(json_response({"error": {"code": "NotFound"}}, status=404))

    return scenario


async def test_odd_names_never_leave_the_archive_root(folder: Path) -> None:
    async with hostile(lying_pool()) as server, lying_client(server.endpoint) as client:
        target = folder / "odd.tar.gz"
        result = await export_session(client, "s-001", target, limits=ExportLimits(max_depth=4))
    files, directories = tar_contents(target)
    assert files == {"bell_": b"abc", "bell_ (2)": b"abc", "ok.txt": b"abc"}
    assert directories == {"deep", "deep/deep", "deep/deep/deep", "deep/deep/deep/deep"}
    reasons = {s.remote: s.reason for s in result.skipped}
    assert set(reasons) == {
        "/mnt/data/..", "/mnt/data/.", "/mnt/data//etc/passwd", "/mnt/data/..\\..\\win.ini",
        "/mnt/data/deep/deep/deep/deep/deep",
    }  # fmt: skip
    assert reasons["/mnt/data/deep/deep/deep/deep/deep"] == "too deep or too many directories"


def dated_pool(*dates: str):  # type: ignore[no-untyped-def]
    """A root of files dated as given (a server may send any date)."""

    async def scenario(request: Request, writer: asyncio.StreamWriter) -> None:
        if unquote(request.path) == "/pool/files":
            entries = [
                {"name": f"f{n}", "type": "File", "sizeInBytes": 3, "lastModifiedAt": date}
                for n, date in enumerate(dates)
            ]
            writer.write(json_response({"value": entries}))
        else:
            writer.write(response(200, b"abc", {"Content-Type": "text/plain"}))

    return scenario


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
async def test_dates_no_archive_can_hold_are_clamped(folder: Path, suffix: str) -> None:
    dates = ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00+14:00")
    async with hostile(dated_pool(*dates)) as server, lying_client(server.endpoint) as client:
        result = await export_session(client, "s-001", folder / f"dates{suffix}")
    assert result.files == 3
    if suffix == ".zip":
        with zipfile.ZipFile(result.path) as archive:
            years = sorted(info.date_time[0] for info in archive.infolist())
            assert all(archive.read(name) == b"abc" for name in archive.namelist())
        assert years[0] >= 1980 and years[-1] <= 2107
    else:
        assert tar_contents(result.path)[0] == {"f0": b"abc", "f1": b"abc", "f2": b"abc"}


async def test_a_directory_the_old_api_cannot_open_is_skipped(folder: Path) -> None:
    async with (
        hostile(lying_pool()) as server,
        SessionsClient(
            server.endpoint, api_version="2024-02-02-preview", retry=RetryPolicy(max_attempts=1)
        ) as client,
    ):
        result = await export_session(client, "s-001", folder / "old.tar.gz")
    assert "ok.txt" in tar_contents(folder / "old.tar.gz")[0]
    reasons = {s.remote: s.reason for s in result.skipped}
    assert "has no directories" in reasons["/mnt/data/deep"]


async def test_a_failed_download_leaves_nothing_behind(folder: Path) -> None:
    async with (
        hostile(lying_pool(broken="ok.txt")) as server,
        lying_client(server.endpoint) as client,
    ):
        with pytest.raises(ServerError):
            await export_session(
                client, "s-001", folder / "x.zip", limits=ExportLimits(max_depth=1)
            )
    assert os.listdir(folder) == []


async def test_a_cancelled_export_leaves_nothing_behind(folder: Path) -> None:
    started = asyncio.Event()

    async def slow(request: Request, writer: asyncio.StreamWriter) -> None:
        if request.path == "/pool/files":
            writer.write(json_response({"value": [{"name": "f", "sizeInBytes": 10**6}]}))
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000)
        await writer.drain()
        started.set()
        await asyncio.sleep(30)

    async with hostile(slow) as server, lying_client(server.endpoint) as client:
        task = asyncio.create_task(export_session(client, "s-001", folder / "x.tar.gz"))
        await asyncio.wait_for(started.wait(), 5)
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert os.listdir(folder) == []


def lying_client(endpoint: str) -> SessionsClient:
    return SessionsClient(endpoint, retry=RetryPolicy(max_attempts=1), timeout=5.0)


# The CLI twin


def test_cli_export_writes_the_archive_and_refuses_to_overwrite(
    emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert emulator.token is not None
    monkeypatch.setenv("DSTUI_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("DSTUI_TOKEN", emulator.token)
    monkeypatch.chdir(tmp_path)
    identifier = new_identifier("cli-export")
    assert main(["exec", identifier, "open('/mnt/data/hi.txt', 'w').write('hi')"]) == 0
    capsys.readouterr()

    assert main(["files", "export", identifier]) == 0
    err = capsys.readouterr().err
    assert f"to {tmp_path / (identifier + '.tar.gz')}" in err
    assert "exported 1 file in 0 directories" in err
    assert (tmp_path / f"{identifier}.tar.gz").stat().st_mode & 0o777 == 0o600
    assert tar_contents(tmp_path / f"{identifier}.tar.gz")[0] == {"hi.txt": b"hi"}

    assert main(["files", "export", identifier]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and "Traceback" not in err

    assert main(["files", "export", identifier, "-o", "out.zip", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["format"], data["files"], data["skipped"]) == ("zip", 1, [])
    assert (tmp_path / "out.zip").stat().st_mode & 0o777 == 0o600

    assert main(["files", "export", identifier, "-o", "out.rar"]) == 2
    err = capsys.readouterr().err
    assert "archive format" in err and ".tar.gz" in err and "Traceback" not in err
