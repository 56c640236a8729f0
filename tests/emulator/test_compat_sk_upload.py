"""Semantic Kernel's SessionsPythonTool uploads after an execution: a multipart body under the
`Content-Type: application/json` its shared httpx client kept from `execute_code`.

The requests below are built the way SK's python `SessionsPythonTool` builds them (one
`httpx.AsyncClient` whose default headers it updates, the 2024-02-02-preview shape, a query
string joined by hand, `files={"file": (remote_file_path, data, "application/octet-stream")}`),
without installing SK itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dstui.emulator import EmulatorServer
from tests.emulator.conftest import OLD, auth_headers

SK_USER_AGENT = "semantic-kernel-python/1.0 (Language=Python)"


def sk_url(server: EmulatorServer, endpoint: str, identifier: str) -> str:
    return f"{server.endpoint}/{endpoint}?identifier={identifier}&api-version={OLD}"


@pytest.mark.parametrize("sandbox", ["auto", "none"])
async def test_sk_shaped_upload_after_an_execution_is_accepted(
    make_emulator: Callable[..., EmulatorServer],
    sandbox: str,
    ident: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator = make_emulator(ready_sessions=1, sandbox=sandbox)
    caplog.set_level(logging.INFO, logger="dstui.emulator.access")
    local = tmp_path / "sales.csv"
    local.write_bytes(b"region,total\nwest,42\n")
    async with httpx.AsyncClient(timeout=60) as http_client:
        http_client.headers.update(
            {
                **auth_headers(emulator),
                "Content-Type": "application/json",
                "User-Agent": SK_USER_AGENT,
            }
        )
        executed = await http_client.post(
            sk_url(emulator, "code/execute", ident),
            json={
                "properties": {
                    "codeInputType": "inline",
                    "executionType": "synchronous",
                    "code": "1 + 1",
                }
            },
        )
        assert executed.json()["properties"]["result"] == 2
        # upload_file only refreshes Authorization and User-Agent: the JSON type stays.
        http_client.headers.update({**auth_headers(emulator), "User-Agent": SK_USER_AGENT})
        with local.open("rb") as data:
            files = {"file": ("/mnt/data/sales.csv", data, "application/octet-stream")}
            uploaded = await http_client.post(
                url=sk_url(emulator, "files/upload", ident), files=files
            )
        assert uploaded.request.headers["content-type"] == "application/json"
        assert uploaded.status_code == 200, uploaded.text
        properties = uploaded.json()["value"][0]["properties"]
        assert (properties["filename"], properties["size"]) == ("sales.csv", 21)
        listed = await http_client.get(sk_url(emulator, "files", ident))
        assert [e["properties"]["filename"] for e in listed.json()["value"]] == ["sales.csv"]
        read_back = await http_client.post(
            sk_url(emulator, "code/execute", ident),
            json={
                "properties": {
                    "codeInputType": "inline",
                    "executionType": "synchronous",
                    "code": "open('/mnt/data/sales.csv').read()",
                }
            },
        )
        assert read_back.json()["properties"]["result"] == "region,total\nwest,42\n"
    lines = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "dstui.emulator.access"
    ]
    (upload_line,) = [line for line in lines if line["path"] == "/files/upload"]
    assert upload_line["status"] == 200
    assert "application/json" in upload_line["warning"]
    assert "the live service may refuse it" in upload_line["warning"]
    assert not any("warning" in line for line in lines if line["path"] != "/files/upload")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"file": "not multipart"}'),
        ("application/json", b"--ends-with-space \r\n"),  # a boundary cannot end in a space
        ("", b"plain bytes"),
        ("multipart/form-data", b"no delimiter line here"),
    ],
)
async def test_a_body_that_is_not_multipart_is_still_refused(
    raw: httpx.AsyncClient, ident: str, content_type: str, body: bytes
) -> None:
    response = await raw.post(
        "/files/upload",
        params={"api-version": OLD, "identifier": ident},
        content=body,
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 400
    assert (
        "Uploads must be multipart/form-data with a boundary" in response.json()["error"]["message"]
    )


async def test_a_lying_header_with_a_broken_body_gets_a_precise_400(
    raw: httpx.AsyncClient, ident: str
) -> None:
    body = b'--abc\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nx'
    response = await raw.post(
        "/files/upload",
        params={"api-version": OLD, "identifier": ident},
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The form has no complete 'file' part."
