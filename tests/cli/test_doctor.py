"""`dstui doctor` end to end: crafted tokens against the real emulator over HTTP(S), and 403 /
DynamicApisNotAllowed answers from a small real server. No output may hold a token."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.hostile_server import Request, json_response, threaded
from tests.cli.conftest import MainRunner
from tests.cli.harness import Outcome
from tests.doctor.tokens import JWT_SHAPED, OTHER_TENANT, TENANT, craft_token


def checks(outcome: Outcome) -> dict[str, dict[str, str]]:
    report = json.loads(outcome.out)
    assert set(report) == {"checks", "ok"}
    assert [c["id"] for c in report["checks"]] == [
        "endpoint",
        "credential",
        "token",
        "access",
        "arm",
    ]
    for check in report["checks"]:
        assert set(check) == {"id", "title", "status", "finding", "fix"}
    return {c["id"]: c for c in report["checks"]}


def assert_no_token(outcome: Outcome, token: str) -> None:
    text = outcome.out + outcome.err
    assert token not in text
    assert not JWT_SHAPED.search(text)
    assert token.split(".")[1] not in text  # not even the claims part, raw


@pytest.fixture
def doctor(
    run_main: MainRunner, make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Outcome]:
    """Run `dstui doctor` against a fresh emulator that accepts `accepted` (default: the token
    handed in) as its bearer."""

    def run(token: str, *args: str, accepted: str | None = None, **emulator: Any) -> Outcome:
        server = make_emulator(token=accepted or token, **emulator)
        monkeypatch.setenv("DSTUI_ENDPOINT", server.endpoint)
        monkeypatch.setenv("DSTUI_TOKEN", token)
        return run_main("doctor", "--auth", "token", *args)

    return run


def test_a_healthy_connection_passes_and_prints_only_claims(
    doctor: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    token = craft_token()
    result = doctor(token, "--json")
    assert result.code == 0, result.out
    found = checks(result)
    assert found["endpoint"]["status"] == "ok"
    assert "plain http on loopback" in found["endpoint"]["finding"]
    assert found["credential"]["status"] == "ok" and "DSTUI_TOKEN" in found["credential"]["finding"]
    assert found["token"]["status"] == "ok" and TENANT in found["token"]["finding"]
    assert found["access"]["status"] == "ok"
    assert found["arm"]["status"] == "skip"
    assert_no_token(result, token)
    text = doctor(token)
    assert text.code == 0 and "all checks passed" in text.out
    assert_no_token(text, token)
    verbose = doctor(token, "--verbose")
    assert "HTTP Request: GET" in verbose.err
    assert_no_token(verbose, token)


# The tokens are made in the test, not at collection: their times would differ between
# xdist workers, which must collect the same test ids.
@pytest.mark.parametrize(
    ("claims", "words"),
    [
        pytest.param({"audience": "https://acasessions.io"}, "obsolete audience", id="obsolete"),
        pytest.param({"audience": "api://something-else"}, "wrong audience", id="audience"),
        pytest.param({"expires_in_s": -600}, "expired", id="expired"),
        pytest.param({"tenant": OTHER_TENANT}, "is not the configured", id="tenant"),
    ],
)
def test_bad_tokens_fail_the_token_check(
    doctor: Callable[..., Outcome],
    monkeypatch: pytest.MonkeyPatch,
    claims: dict[str, Any],
    words: str,
) -> None:
    token = craft_token(**claims)
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    result = doctor(token, "--json")
    assert result.code == 1
    found = checks(result)
    assert found["token"]["status"] == "fail"
    assert words in found["token"]["finding"]
    assert found["token"]["fix"]
    assert_no_token(result, token)


def test_a_rejected_token_is_a_401_explained(doctor: Callable[..., Outcome]) -> None:
    token = craft_token()
    result = doctor(token, "--json", accepted="another-token")
    assert result.code == 1
    access = checks(result)["access"]
    assert access["status"] == "fail" and access["finding"].startswith("401")
    assert "https://dynamicsessions.io/.default" in access["fix"]
    assert_no_token(result, token)


def test_tls_with_and_without_the_ca(
    run_main: MainRunner, make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = craft_token()
    server = make_emulator(token=token, tls=True)
    monkeypatch.setenv("DSTUI_ENDPOINT", server.endpoint)
    monkeypatch.setenv("DSTUI_TOKEN", token)
    trusted = run_main("doctor", "--auth", "token", "--ca-file", str(server.ca_file), "--json")
    assert trusted.code == 0, trusted.out
    assert "TLS certificate trusted" in checks(trusted)["endpoint"]["finding"]
    untrusted = run_main("doctor", "--auth", "token", "--json")
    assert untrusted.code == 1
    endpoint = checks(untrusted)["endpoint"]
    assert endpoint["status"] == "fail" and "certificate" in endpoint["finding"]
    assert "--ca-file" in endpoint["fix"]
    assert checks(untrusted)["access"]["status"] == "skip"


def _refusing(status: int, code: str) -> Callable[[Request, Any], Any]:
    async def scenario(request: Request, writer: Any) -> None:
        body = {"error": {"code": code, "message": f"refused with {code}"}}
        writer.write(json_response(body, status, {"x-ms-error-code": code}))

    return scenario


@pytest.mark.parametrize(
    ("status", "code", "verdict", "words"),
    [
        (403, "Forbidden", "fail", "403"),
        (404, "NotFound", "fail", "404"),
        (400, "DynamicApisNotAllowed", "warn", "custom-container pool"),
    ],
)
def test_refusals_are_told_apart(
    run_main: MainRunner,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    code: str,
    verdict: str,
    words: str,
) -> None:
    token = craft_token()
    monkeypatch.setenv("DSTUI_TOKEN", token)
    with threaded(_refusing(status, code)) as server:
        result = run_main("doctor", "--endpoint", server.endpoint, "--auth", "token", "--json")
    access = checks(result)["access"]
    assert access["status"] == verdict and words in access["finding"]
    assert result.code == (0 if verdict == "warn" else 1)
    if status == 403:
        assert "Azure ContainerApps Session Executor" in access["fix"]
        assert "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" in access["fix"]  # the oid, to assign
    assert_no_token(result, token)
    assert server.requests[0].headers["authorization"] == f"Bearer {token}"


def test_a_bad_endpoint_is_a_failed_check_not_a_traceback(run_main: MainRunner) -> None:
    result = run_main("doctor", "--endpoint", "http://pool.example.com/x", "--auth", "none")
    assert result.code == 1
    assert "refusing plain http" in result.out
    assert "Traceback" not in result.out + result.err


def test_the_text_summary_counts_failed_checks_in_words(
    doctor: Callable[..., Outcome],
) -> None:
    result = doctor(craft_token(), accepted="another-token")
    assert result.code == 1
    summary = result.out.rstrip().splitlines()[-1]
    failed = sum(line.startswith("FAIL") for line in result.out.splitlines())
    assert summary == ("1 check failed" if failed == 1 else f"{failed} checks failed")
    assert "(s)" not in result.out
