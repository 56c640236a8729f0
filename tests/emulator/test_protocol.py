"""Wire-level behaviour: routing by api-version, error envelopes, auth, Host checks, no CORS."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dstui.emulator import EmulatorServer
from tests.emulator.conftest import NEW, OLD


def assert_envelope(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-ms-error-code"] == code
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


INVALID = "SessionRequestValidationFailed"
UNSUPPORTED = "SessionRequestNotSupported"


@pytest.mark.parametrize(
    ("method", "path", "query", "code"),
    [
        ("GET", "/no/such/route", {"api-version": NEW}, INVALID),
        ("GET", "/listSessions", {}, INVALID),
        ("GET", "/listSessions", {"api-version": "2031-01-01"}, INVALID),
        ("PUT", "/session", {"api-version": NEW}, INVALID),
        ("POST", "/executions", {"api-version": OLD}, UNSUPPORTED),
        ("POST", "/code/execute", {"api-version": NEW}, UNSUPPORTED),
        ("GET", "/session", {"api-version": "2024-10-02-preview"}, UNSUPPORTED),
        ("GET", "/metadata", {"api-version": OLD}, UNSUPPORTED),
        ("GET", "/files", {"api-version": NEW}, INVALID),
        ("GET", "/files", {"api-version": NEW, "identifier": "abc"}, INVALID),
        ("GET", "/files", {"api-version": NEW, "identifier": "bad identifier"}, INVALID),
        ("GET", "/files", {"api-version": NEW, "identifier": "x" * 129}, INVALID),
        (
            "POST",
            "/.management/getSession",
            {"api-version": NEW, "identifier": "never-seen"},
            "SessionWithIdentifierNotFound",
        ),
        ("GET", "/listSessions", {"api-version": NEW, "skip": "-1"}, INVALID),
    ],
)
async def test_errors_use_the_service_envelope(
    raw: httpx.AsyncClient, method: str, path: str, query: dict[str, str], code: str
) -> None:
    assert_envelope(await raw.request(method, path, params=query), 400, code)


async def test_management_routes_exist_in_every_version(raw: httpx.AsyncClient) -> None:
    for version in (OLD, "2024-10-02-preview", NEW):
        response = await raw.post("/.management/listSessions", params={"api-version": version})
        assert response.status_code == 200
        assert set(response.json()) == {"value", "count", "nextLink"}


async def test_trailing_slash_is_accepted(raw: httpx.AsyncClient, ident: str) -> None:
    response = await raw.post(
        "/code/execute/",
        params={"api-version": OLD, "identifier": ident},
        json={
            "properties": {"codeInputType": "inline", "executionType": "synchronous", "code": "1"}
        },
    )
    assert response.status_code == 200


async def test_old_shape_execution_envelope(raw: httpx.AsyncClient, ident: str) -> None:
    params = {"api-version": "2024-08-02-preview", "identifier": ident}
    ok = await raw.post(
        "/code/execute",
        params=params,
        json={
            "properties": {
                "codeInputType": "inline",
                "executionType": "synchronous",
                "code": "print('hi')\n6*7",
            }
        },
    )
    assert ok.json() == {
        "$id": "1",
        "properties": {
            "$id": "2",
            "status": "Success",
            "stdout": "hi\n",
            "stderr": "",
            "result": 42,
            "executionTimeInMilliseconds": ok.json()["properties"]["executionTimeInMilliseconds"],
        },
    }
    assert "x-ms-session-guid" in ok.headers
    failed = await raw.post("/code/execute", params=params, json={"properties": {"code": "1/0"}})
    assert failed.json()["properties"]["status"] == "Failure"
    assert "ZeroDivisionError" in failed.json()["properties"]["stderr"]


async def test_metadata_reports_the_kernel_interpreter(raw: httpx.AsyncClient) -> None:
    import platform
    from importlib.metadata import version

    body = (await raw.get("/metadata", params={"api-version": NEW})).json()
    assert body["runtimes"] == [{"name": "python", "version": platform.python_version()}]
    packages = {p["name"].lower(): p["version"] for p in body["preInstalledPackages"]}
    assert packages["ipykernel"] == version("ipykernel")
    assert body["jupyterKernel"]["version"] == version("ipykernel")
    assert body["jupyterKernel"]["projectUrl"].startswith("https://")
    assert body["createdAt"].endswith("Z")


async def test_token_is_required(emulator: EmulatorServer) -> None:
    async with httpx.AsyncClient(base_url=emulator.endpoint) as client:
        params = {"api-version": NEW}
        missing = await client.get("/listSessions", params=params)
        wrong = await client.get(
            "/listSessions", params=params, headers={"Authorization": "Bearer not-the-token"}
        )
        basic = await client.get(
            "/listSessions", params=params, headers={"Authorization": f"Basic {emulator.token}"}
        )
        right = await client.get(
            "/listSessions", params=params, headers={"Authorization": f"Bearer {emulator.token}"}
        )
    for response in (missing, wrong, basic):
        assert_envelope(response, 401, "Unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert right.status_code == 200


async def test_no_auth_mode(make_emulator: Callable[..., EmulatorServer]) -> None:
    server = make_emulator(auth=False)
    assert server.token is None
    async with httpx.AsyncClient(base_url=server.endpoint) as client:
        assert (await client.get("/listSessions", params={"api-version": NEW})).status_code == 200


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:1", True),
        ("localhost", True),
        ("LOCALHOST:8080", True),
        ("[::1]:9", True),
        ("127.8.9.10", True),
        ("evil.example.com", False),
        ("evil.example.com:80", False),
        ("10.0.0.1", False),
        ("localhost.evil.com", False),
    ],
)
async def test_host_header_must_be_loopback(
    raw: httpx.AsyncClient, host: str, allowed: bool
) -> None:
    response = await raw.get("/listSessions", params={"api-version": NEW}, headers={"Host": host})
    if allowed:
        assert response.status_code == 200
    else:
        assert_envelope(response, 421, "InvalidHostHeader")


async def test_no_cors_headers(raw: httpx.AsyncClient) -> None:
    origin = {"Origin": "https://attacker.example"}
    response = await raw.get("/listSessions", params={"api-version": NEW}, headers=origin)
    preflight = await raw.options(
        "/executions",
        params={"api-version": NEW},
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    for answer in (response, preflight):
        assert not any(name.lower().startswith("access-control-") for name in answer.headers)
    assert preflight.status_code == 400


async def test_json_body_limit(raw: httpx.AsyncClient, ident: str) -> None:
    big = json.dumps({"code": "#" * (17 * 1024 * 1024)})
    response = await raw.post(
        "/executions",
        params={"api-version": NEW, "identifier": ident},
        content=big,
        headers={"Content-Type": "application/json"},
    )
    assert_envelope(response, 413, "PayloadTooLarge")
    broken = await raw.post(
        "/executions", params={"api-version": NEW, "identifier": ident}, content=b"{not json"
    )
    assert_envelope(broken, 400, "SessionRequestValidationFailed")


async def test_access_log_lines_carry_no_secrets(
    raw: httpx.AsyncClient, emulator: EmulatorServer, ident: str, caplog: pytest.LogCaptureFixture
) -> None:
    def access_lines() -> list[dict[str, Any]]:
        return [
            json.loads(r.getMessage()) for r in caplog.records if r.name == "dstui.emulator.access"
        ]

    with caplog.at_level(logging.INFO, logger="dstui.emulator.access"):
        await raw.get("/files", params={"api-version": NEW, "identifier": ident})
        await raw.get(
            "/listSessions", params={"api-version": NEW}, headers={"Authorization": "Bearer wrong"}
        )
        # The server thread writes a line once the response is out, so it can trail the client.
        deadline = time.monotonic() + 5.0
        while len(access_lines()) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    lines = access_lines()
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/files", 200),
        ("GET", "/listSessions", 401),
    ]
    assert lines[0]["identifier"] == f"{ident[:4]}…{ident[-4:]}"
    assert all(isinstance(line["duration_ms"], float) for line in lines)
    assert all(line["ts"].endswith("Z") for line in lines)
    text = caplog.text
    assert emulator.token is not None and emulator.token not in text
    assert ident not in text and "wrong" not in text
