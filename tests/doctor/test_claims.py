"""The token check's verdicts on crafted claims, without any server."""

from __future__ import annotations

from typing import Any

import pytest

from dstui.doctor.claims import check_claims, read_claims
from dstui.doctor.model import CheckStatus
from tests.doctor.tokens import OTHER_TENANT, TENANT, craft_token


def test_a_good_token_names_audience_tenant_identity_and_expiry() -> None:
    result, claims = check_claims(craft_token(), expected_tenant=TENANT)
    assert result.status is CheckStatus.OK
    assert claims is not None and claims.assignee == claims.object_id
    for part in ("https://dynamicsessions.io", TENANT, "alice@contoso.example", "expires in"):
        assert part in result.finding


# Tokens are made in the test: made at collection, their ids would differ between xdist
# workers and their ages would grow with the time the suite took to get here.
@pytest.mark.parametrize(
    ("claims", "status", "words"),
    [
        pytest.param(
            {"audience": "https://acasessions.io"},
            CheckStatus.FAIL,
            "obsolete audience",
            id="obsolete",
        ),
        pytest.param(
            {"audience": "https://management.azure.com"},
            CheckStatus.FAIL,
            "wrong audience",
            id="audience",
        ),
        pytest.param({"expires_in_s": -120}, CheckStatus.FAIL, "expired 2m", id="expired"),
        pytest.param({"expires_in_s": 120}, CheckStatus.WARN, "expiring soon", id="soon"),
        pytest.param(
            {"tenant": OTHER_TENANT}, CheckStatus.FAIL, f"tenant {OTHER_TENANT} is not", id="tenant"
        ),
        pytest.param({"nbf": 4102444800}, CheckStatus.WARN, "not valid yet", id="nbf"),
    ],
)
def test_bad_claims_are_called_out(claims: dict[str, Any], status: CheckStatus, words: str) -> None:
    token = craft_token(**claims)
    result, _ = check_claims(token, expected_tenant=TENANT)
    assert result.status is status
    assert words in result.finding
    assert result.fix


def test_an_opaque_token_is_fine_on_loopback_only() -> None:
    assert check_claims("opaque-secret", loopback=True)[0].status is CheckStatus.OK
    away = check_claims("opaque-secret", loopback=False)[0]
    assert away.status is CheckStatus.WARN and "not a JWT" in away.finding


def test_claim_values_are_escaped_and_shortened() -> None:
    claims = read_claims(craft_token(upn="\x1b]0;pwned\x07" + "x" * 200))
    assert claims is not None and claims.user is not None
    assert "\x1b" not in claims.user and len(claims.user) <= 80


def test_no_token_skips() -> None:
    assert check_claims(None)[0].status is CheckStatus.SKIP
