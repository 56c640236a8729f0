"""Files in the session's /mnt/data: both shapes, sub-directories, limits and escapes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from dstui.api import NotFoundError, SessionsClient
from dstui.api.constants import MAX_UPLOAD_BYTES
from dstui.emulator import EmulatorServer
from tests.emulator.conftest import NEW, OLD, execute_raw


def params(identifier: str, version: str = NEW, **extra: str) -> dict[str, str]:
    return {"api-version": version, "identifier": identifier, **extra}


async def test_client_round_trip_in_a_subdirectory(
    emulator_client: SessionsClient, ident: str, tmp_path: Path
) -> None:
    local = tmp_path / "data.csv"
    local.write_text("a,b\n1,2\n")
    uploaded = await emulator_client.upload_file(ident, local, path="in/deep")
    assert (uploaded.name, uploaded.size) == ("data.csv", 8)
    assert uploaded.content_type == "text/csv; charset=utf-8"
    listing = await emulator_client.list_files(ident, recursive=True)
    assert [(f.directory, f.name, f.is_dir) for f in listing] == [
        ("", "in", True),
        ("in", "deep", True),
        ("in/deep", "data.csv", False),
    ]
    assert await emulator_client.read_file(ident, "data.csv", path="in/deep") == b"a,b\n1,2\n"
    target = await emulator_client.download_file(
        ident, "data.csv", tmp_path / "out.csv", path="in/deep"
    )
    assert target.read_bytes() == b"a,b\n1,2\n"
    seen_by_code = await emulator_client.execute(ident, "open('in/deep/data.csv').read()")
    assert seen_by_code.result == "a,b\n1,2\n"
    await emulator_client.delete_file(ident, "data.csv", path="in/deep")
    with pytest.raises(NotFoundError):
        await emulator_client.get_file(ident, "data.csv", path="in/deep")


async def test_files_written_by_code_are_listed(
    emulator_client: SessionsClient, ident: str
) -> None:
    await emulator_client.execute(ident, "open('/mnt/data/made.txt', 'w').write('from code')")
    (entry,) = await emulator_client.list_files(ident)
    assert (entry.name, entry.size, entry.is_dir) == ("made.txt", 9, False)


@pytest.mark.parametrize("path", ["sub", "/mnt/data/sub", "sub/", "./sub"])
async def test_path_forms_name_the_same_directory(
    raw: httpx.AsyncClient, ident: str, path: str
) -> None:
    await raw.post("/files", params=params(ident, path="sub"), files={"file": ("x.txt", b"x")})
    listing = await raw.get("/files", params=params(ident, path=path))
    assert [entry["name"] for entry in listing.json()["value"]] == ["x.txt"]


@pytest.mark.parametrize("root", ["", "/", "/mnt/data", "/mnt/data/"])
async def test_root_forms(raw: httpx.AsyncClient, ident: str, root: str) -> None:
    await raw.post("/files", params=params(ident), files={"file": ("r.txt", b"r")})
    listing = await raw.get("/files", params=params(ident, path=root))
    assert [entry["name"] for entry in listing.json()["value"]] == ["r.txt"]


async def test_new_shape_envelopes(raw: httpx.AsyncClient, ident: str) -> None:
    uploaded = await raw.post(
        "/files", params=params(ident), files={"file": ("conf.yaml", b"k: v")}
    )
    assert uploaded.status_code == 200
    body = uploaded.json()
    assert body["name"] == "conf.yaml" and body["type"] == "File" and body["sizeInBytes"] == 4
    assert body["lastModifiedAt"].endswith("Z")
    empty = await raw.get("/files", params=params(f"{ident}-other"))
    assert empty.json() == {"value": [], "nextLink": None}
    meta = await raw.get("/files/conf.yaml", params=params(ident))
    assert meta.json()["name"] == "conf.yaml"
    content = await raw.get("/files/conf.yaml/content", params=params(ident))
    assert content.content == b"k: v"
    assert content.headers["content-length"] == "4"
    deleted = await raw.delete("/files/conf.yaml", params=params(ident))
    assert deleted.status_code == 204
    gone = await raw.get("/files/conf.yaml/content", params=params(ident))
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "FileNotFound"


async def test_old_shape_envelopes(raw: httpx.AsyncClient, ident: str) -> None:
    uploaded = await raw.post(
        "/files/upload", params=params(ident, OLD), files={"file": ("/mnt/data/one.txt", b"one")}
    )
    body = uploaded.json()
    assert body["$id"] == "1"
    assert body["value"][0]["$id"] == "2"
    props = body["value"][0]["properties"]
    assert props["$id"] == "3" and props["filename"] == "one.txt" and props["size"] == 3
    assert "lastModifiedTime" in props
    await raw.post("/files/upload", params=params(ident, OLD), files={"file": ("two.txt", b"two!")})
    listing = (await raw.get("/files", params=params(ident, OLD))).json()
    assert [item["$id"] for item in listing["value"]] == ["2", "4"]
    assert [item["properties"]["$id"] for item in listing["value"]] == ["3", "5"]
    assert [item["properties"]["filename"] for item in listing["value"]] == ["one.txt", "two.txt"]
    content = await raw.get("/files/content/two.txt", params=params(ident, OLD))
    assert content.content == b"two!"
    meta = (await raw.get("/files/two.txt", params=params(ident, OLD))).json()
    assert meta["value"][0]["properties"]["size"] == 4
    deleted = await raw.delete("/files/two.txt", params=params(ident, OLD))
    assert deleted.json() == {"message": "file deleted successfully"}
    missing = await raw.get("/files/content/two.txt", params=params(ident, OLD))
    assert missing.status_code == 404


async def test_another_identifier_cannot_reach_the_file(raw: httpx.AsyncClient, ident: str) -> None:
    await raw.post("/files", params=params(ident), files={"file": ("mine.txt", b"mine")})
    other = f"{ident}-other"
    assert (await raw.get("/files/mine.txt/content", params=params(other))).status_code == 404
    assert (await raw.get("/files/mine.txt", params=params(other))).status_code == 404
    assert (await raw.get("/files", params=params(other))).json()["value"] == []


async def test_same_name_upload_overwrites(raw: httpx.AsyncClient, ident: str) -> None:
    for content in (b"first version", b"second"):
        await raw.post("/files", params=params(ident), files={"file": ("same.txt", content)})
    assert (await raw.get("/files/same.txt/content", params=params(ident))).content == b"second"


async def test_upload_over_the_limit_is_refused_and_removed(
    raw: httpx.AsyncClient, ident: str
) -> None:
    boundary = "dstui-test-boundary"
    chunk = b"\0" * (1024 * 1024)

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        for _ in range(MAX_UPLOAD_BYTES // len(chunk) + 2):
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await raw.post(
        "/files",
        params=params(ident),
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PayloadTooLarge"
    listing = await execute_raw(raw, ident, "import os; sorted(os.listdir('/mnt/data'))")
    assert listing.json()["result"]["executionResult"] == "[]"


async def test_declared_oversize_upload_is_refused_up_front(
    emulator: EmulatorServer, ident: str
) -> None:
    """A Content-Length over the limit gets 413 before any of the body is read."""
    url = httpx.URL(emulator.endpoint)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    request = (
        f"POST /files?api-version={NEW}&identifier={ident} HTTP/1.1\r\n"
        f"Host: {url.host}:{url.port}\r\nAuthorization: Bearer {emulator.token}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {MAX_UPLOAD_BYTES + 10 * 1024 * 1024}\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status_line.split()[1] == b"413"


@pytest.mark.parametrize("path", ["..", "../other", "a/../../x", "/etc", "/mnt/database", "/tmp"])
async def test_paths_outside_mnt_data_are_refused(
    raw: httpx.AsyncClient, ident: str, path: str
) -> None:
    for response in (
        await raw.get("/files", params=params(ident, path=path)),
        await raw.post("/files", params=params(ident, path=path), files={"file": ("x", b"x")}),
        await raw.get("/files/passwd/content", params=params(ident, path=path)),
    ):
        assert response.status_code == 400, path
        assert response.json()["error"]["code"] == "SessionRequestValidationFailed"


async def test_symlinks_made_in_the_session_cannot_reach_host_files(
    raw: httpx.AsyncClient, ident: str
) -> None:
    made = await execute_raw(
        raw,
        ident,
        "import os\nos.symlink('/etc/passwd', 'passwd')\nos.symlink('/', 'root')\n"
        "os.symlink('/etc', 'etc')\nopen('inside.txt', 'w').write('ok')\n"
        "os.symlink('inside.txt', 'alias.txt')",
    )
    assert made.json()["status"] == "Succeeded"
    for response in (
        await raw.get("/files/passwd/content", params=params(ident)),
        await raw.get("/files/passwd", params=params(ident)),
        await raw.get("/files/passwd/content", params=params(ident, path="etc")),
        await raw.get("/files", params=params(ident, path="root")),
        await raw.get("/files", params=params(ident, path="root/etc")),
        await raw.post("/files", params=params(ident, path="etc"), files={"file": ("evil", b"x")}),
        await raw.get("/files/content/passwd", params=params(ident, OLD)),
    ):
        assert response.status_code == 400
        assert b"root:" not in response.content
    # Not even a link that stays inside is followed: links are neither served nor listed.
    for response in (
        await raw.get("/files/alias.txt/content", params=params(ident)),
        await raw.get("/files/alias.txt", params=params(ident)),
        await raw.get("/files/passwd", params=params(ident)),
        await raw.get("/files/content/alias.txt", params=params(ident, OLD)),
    ):
        assert response.status_code == 400, response.text
        assert "is a symbolic link" in response.json()["error"]["message"]
    for path, link in (("etc", "etc"), ("root/etc", "root")):
        through = await raw.get("/files", params=params(ident, path=path))
        assert f"'{link}' in the path is a symbolic link" in through.json()["error"]["message"]
    listing = await raw.get("/files", params=params(ident, recursive="true"))
    assert [entry["name"] for entry in listing.json()["value"]] == ["inside.txt"]
    legacy = await raw.get("/files", params=params(ident, OLD))
    assert [item["properties"]["filename"] for item in legacy.json()["value"]] == ["inside.txt"]
    # Deleting the link removes the link, never its target.
    assert (await raw.delete("/files/passwd", params=params(ident))).status_code == 204
    assert Path("/etc/passwd").exists()


async def test_bad_names_are_refused(raw: httpx.AsyncClient, ident: str) -> None:
    for name in ("..", "."):
        response = await raw.post("/files", params=params(ident), files={"file": (name, b"x")})
        assert response.status_code == 400
    nested = await raw.post("/files", params=params(ident), files={"file": ("a/b.txt", b"x")})
    assert nested.status_code == 400
    not_multipart = await raw.post("/files", params=params(ident), content=b"raw")
    assert not_multipart.status_code == 400
    no_file_part = await raw.post("/files", params=params(ident), files={"other": ("x", b"x")})
    assert no_file_part.status_code == 400


async def test_directories_are_listed_and_deleted_when_empty(
    raw: httpx.AsyncClient, ident: str
) -> None:
    await raw.post("/files", params=params(ident, path="d"), files={"file": ("f.txt", b"f")})
    (entry,) = (await raw.get("/files", params=params(ident))).json()["value"]
    assert entry["type"] == "Directory" and entry["contentType"] == "application/octet-stream"
    assert (await raw.delete("/files/d", params=params(ident))).status_code == 400
    await raw.delete("/files/f.txt", params=params(ident, path="d"))
    assert (await raw.delete("/files/d", params=params(ident))).status_code == 204
