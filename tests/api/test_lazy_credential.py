"""azure.identity stays off the start-up path: the credential is built on the first token."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from dstui.api import AuthenticationError, AzureCredentialTokenProvider


def test_making_an_entra_provider_does_not_import_azure_identity() -> None:
    code = (
        "import sys; from dstui.api.auth import make_token_provider; "
        "provider = make_token_provider('cli'); "
        "print('azure.identity' in sys.modules, type(provider).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.split() == ["False", "AzureCredentialTokenProvider"]


async def test_credential_is_built_once_off_the_event_loop() -> None:
    built: list[int] = []

    class Credential:
        def get_token(self, *scopes: str, **options: object) -> AccessToken:
            return AccessToken("lazy-token", 2**40)

    def build() -> Credential:
        built.append(threading.get_ident())
        return Credential()

    provider = AzureCredentialTokenProvider(None, build_credential=build, clock=lambda: 0.0)
    assert built == []
    assert await provider.get_token() == "lazy-token"
    provider.invalidate()
    assert await provider.get_token() == "lazy-token"
    assert len(built) == 1
    assert built[0] != threading.get_ident()


async def test_a_credential_that_cannot_be_built_is_an_authentication_error() -> None:
    def build() -> Any:
        raise ImportError("No module named 'azure.identity'")

    provider = AzureCredentialTokenProvider(None, build_credential=build, auth_kind="cli")
    with pytest.raises(AuthenticationError, match="could not get a token"):
        await provider.get_token()
