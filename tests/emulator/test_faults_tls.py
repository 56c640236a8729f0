"""Injected faults (reproducible with a seed) and the https mode."""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Callable

import httpx
import pytest

from dstui.emulator import EmulatorServer
from dstui.emulator.faults import FaultSpecError, parse_faults
from tests.emulator.conftest import NEW

MakeEmulator = Callable[..., EmulatorServer]
SPEC = "429=0.25,500=0.15,503=0.15,drop=0.15"


def outcomes(server: EmulatorServer, count: int) -> list[str]:
    seen = []
    # A fresh connection per request: a dropped one cannot be reused.
    with httpx.Client(
        base_url=server.endpoint, timeout=10, headers={"Connection": "close"}
    ) as client:
        for _ in range(count):
            try:
                response = client.get("/listSessions", params={"api-version": NEW})
            except httpx.RemoteProtocolError:
                seen.append("drop")
                continue
            seen.append(str(response.status_code))
            if response.status_code != 200:
                assert response.json()["error"]["code"] == response.headers["x-ms-error-code"]
            if response.status_code in (429, 503):
                assert response.headers["retry-after"] == "1"
    return seen


def test_faults_are_reproducible_with_a_seed(make_emulator: MakeEmulator) -> None:
    first = outcomes(make_emulator(auth=False, faults=SPEC, seed=7), 40)
    second = outcomes(make_emulator(auth=False, faults=SPEC, seed=7), 40)
    other = outcomes(make_emulator(auth=False, faults=SPEC, seed=8), 40)
    assert first == second
    assert first != other
    assert {"200", "429", "500", "503", "drop"} <= set(first)


def test_slow_responses(make_emulator: MakeEmulator) -> None:
    server = make_emulator(auth=False, faults="slow=1.0:0.3", seed=1)
    started = time.monotonic()
    with httpx.Client(base_url=server.endpoint) as client:
        assert client.get("/listSessions", params={"api-version": NEW}).status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    "spec", ["429", "404=0.1", "500=2", "500=x", "slow=0.5:abc", "429=0.6,500=0.6"]
)
def test_bad_fault_specs(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_faults(spec)


def test_fault_spec_syntax() -> None:
    plan = parse_faults("429=0.1, 500=0.05,503=0.05,drop=0.02,slow=0.1:2.5")
    assert plan.rates == {"429": 0.1, "500": 0.05, "503": 0.05, "drop": 0.02}
    assert (plan.slow_rate, plan.slow_s) == (0.1, 2.5)


def test_tls_serves_https_with_its_own_ca(make_emulator: MakeEmulator) -> None:
    server = make_emulator(tls=True)
    assert server.endpoint.startswith("https://127.0.0.1:")
    assert server.ca_file is not None and server.ca_file.exists()
    headers = {"Authorization": f"Bearer {server.token}"}
    context = ssl.create_default_context(cafile=str(server.ca_file))
    for host in ("127.0.0.1", "localhost"):
        url = server.endpoint.replace("127.0.0.1", host)
        with httpx.Client(base_url=url, verify=context, headers=headers) as client:
            assert client.get("/listSessions", params={"api-version": NEW}).status_code == 200
    with httpx.Client(base_url=server.endpoint) as untrusting, pytest.raises(httpx.ConnectError):
        untrusting.get("/listSessions", params={"api-version": NEW})
    ca_file = server.ca_file
    server.stop()
    assert not ca_file.exists()


def access_lines(caplog: pytest.LogCaptureFixture, count: int = 1) -> list[dict[str, object]]:
    """The access-log lines, once `count` are there: the server thread writes each one after
    its response is out, so a line can trail the client."""
    deadline = time.monotonic() + 5.0
    while True:
        lines = [
            json.loads(r.getMessage()) for r in caplog.records if r.name == "dstui.emulator.access"
        ]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)


def test_access_log_records_a_dropped_response_as_dropped(
    make_emulator: MakeEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dstui.emulator.access")
    server = make_emulator(auth=False, faults="drop=1.0", seed=3)
    client = httpx.Client(base_url=server.endpoint, timeout=10)
    with client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/listSessions", params={"api-version": NEW})
    (line,) = access_lines(caplog)
    assert line["status"] is None
    assert line["fault"] == "drop"
    assert str(line["outcome"]).startswith(
        "connection dropped (injected fault) after the 200 headers and "
    )


def test_access_log_names_injected_errors_and_slowness(
    make_emulator: MakeEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dstui.emulator.access")
    server = make_emulator(auth=False, faults="503=1.0,slow=1.0:0.01", seed=3)
    with httpx.Client(base_url=server.endpoint, timeout=10) as client:
        assert client.get("/listSessions", params={"api-version": NEW}).status_code == 503
    (line,) = access_lines(caplog)
    assert (line["status"], line["fault"]) == (503, "slow 0.01 s, 503")
    assert "outcome" not in line
