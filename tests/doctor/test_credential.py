"""Which credential answered, or why each one of the chain failed (fake credentials: the real
chain would reach for the network and the Azure CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from dstui.doctor.credential import TokenSource, check_credential
from dstui.doctor.model import CheckStatus
from tests.doctor.tokens import craft_token

CHAIN_ERROR = (
    "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
    "Attempted credentials:\n"
    "\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment "
    "variables are not fully configured.\n"
    "\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, no "
    "response from the IMDS endpoint.\n"
    "\tAzureCliCredential: Please run 'az login' to set up an account\n"
)


@dataclass
class AccessToken:
    token: str
    expires_on: int


class AzureCliCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        assert scopes == ("https://dynamicsessions.io/.default",)
        return AccessToken(craft_token(), 2**31)


class DefaultAzureCredential:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self._successful_credential: object | None = None

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if self.fail:
            raise RuntimeError(CHAIN_ERROR)
        self._successful_credential = AzureCliCredential()
        return self._successful_credential.get_token(*scopes)


async def test_the_chain_member_that_answered_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "dstui.doctor.credential.build_azure_credential",
        lambda kind: DefaultAzureCredential(fail=False),
    )
    result, token = await check_credential(TokenSource("default"))
    assert result.status is CheckStatus.OK
    assert "DefaultAzureCredential got a token from AzureCliCredential" in result.finding
    assert token is not None and token not in result.finding


async def test_each_failed_member_is_listed_with_its_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "dstui.doctor.credential.build_azure_credential",
        lambda kind: DefaultAzureCredential(fail=True),
    )
    result, token = await check_credential(TokenSource("default"))
    assert token is None and result.status is CheckStatus.FAIL
    assert "EnvironmentCredential: authentication unavailable" in result.finding
    assert "ManagedIdentityCredential:" in result.finding
    assert "AzureCliCredential: Please run 'az login'" in result.finding
    assert "AzureCliCredential" in result.fix  # set up but failed: the one to fix


async def test_a_missing_token_file_fails_with_its_path(tmp_path: Any) -> None:
    missing = tmp_path / "nope.token"
    result, token = await check_credential(TokenSource("token", token_file=missing))
    assert token is None and result.status is CheckStatus.FAIL
    assert str(missing) in result.finding


async def test_auth_none_skips() -> None:
    result, token = await check_credential(TokenSource("none"))
    assert result.status is CheckStatus.SKIP and token is None
