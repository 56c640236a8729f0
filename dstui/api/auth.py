"""Bearer tokens for the sessions audience: static, or from a (sync) azure-identity credential."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from dstui.api.constants import TOKEN_SCOPE
from dstui.api.credential_hints import describe_credential_failure
from dstui.api.errors import AuthenticationError, RequestValidationError, remember_secret
from dstui.api.validation import expand_local_path
from dstui.common.auth_kinds import AUTH_KINDS

logger = logging.getLogger("dstui.api")

REFRESH_MARGIN_S = 300.0
# Claims that name a user in Entra ID access tokens, most specific first.
USER_CLAIMS = ("upn", "preferred_username", "unique_name", "email")
APP_CLAIMS = ("app_displayname", "appid", "azp")
IDENTITY_MAX_CHARS = 80
_QUIET = logging.NullHandler()


@runtime_checkable
class TokenProvider(Protocol):
    async def get_token(self) -> str: ...

    def invalidate(self) -> None: ...


class StaticTokenProvider:
    """A token obtained elsewhere (DSTUI_TOKEN, a token file); it cannot be refreshed."""

    def __init__(self, token: str) -> None:
        token = token.strip() if isinstance(token, str) else ""
        if not token:
            raise RequestValidationError(
                "the bearer token is empty",
                hint="Set DSTUI_TOKEN, e.g. from `az account get-access-token "
                "--resource https://dynamicsessions.io --query accessToken -o tsv`.",
            )
        self._token = token
        remember_secret(token)

    async def get_token(self) -> str:
        return self._token

    def invalidate(self) -> None:
        """Nothing to refresh; the retry after a 401 reuses the same token."""

    def __repr__(self) -> str:
        return "StaticTokenProvider(token=[redacted])"


class SyncCredential(Protocol):
    """The part of azure.core.credentials.TokenCredential used here."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class AzureCredentialTokenProvider:
    """Wraps a sync azure-identity credential: runs it in a thread, caches its token and
    refreshes it `refresh_margin_s` before expiry; concurrent callers share one refresh."""

    def __init__(
        self,
        credential: SyncCredential | None,
        *,
        build_credential: Callable[[], SyncCredential] | None = None,
        scope: str = TOKEN_SCOPE,
        refresh_margin_s: float = REFRESH_MARGIN_S,
        clock: Callable[[], float] = time.time,
        auth_kind: str = "default",
    ) -> None:
        """Without a `credential`, `build_credential` makes one, in a thread, when the first
        token is needed (azure.identity takes long to import)."""
        if credential is None and build_credential is None:
            raise ValueError("give a credential or a way to build one")
        self._credential = credential
        self._build_credential = build_credential
        self._auth_kind = auth_kind
        self._scope = scope
        self._margin = refresh_margin_s
        self._clock = clock
        self._token: str | None = None
        self._expires_on = 0.0
        self._lock: asyncio.Lock | None = None

    def _fresh(self) -> str | None:
        if self._token is not None and self._clock() < self._expires_on - self._margin:
            return self._token
        return None

    async def get_token(self) -> str:
        token = self._fresh()
        if token is not None:
            return token
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            token = self._fresh()
            if token is not None:
                return token
            try:
                if self._credential is None and self._build_credential is not None:
                    self._credential = await asyncio.to_thread(self._build_credential)
                assert self._credential is not None
                access = await asyncio.to_thread(self._credential.get_token, self._scope)
            except Exception as exc:  # azure-identity raises many types; all mean "no token"
                reason, hint = describe_credential_failure(self._auth_kind, exc)
                raise AuthenticationError(
                    f"could not get a token for {self._scope}: {reason}", hint=hint
                ) from None
            self._token = str(access.token)
            remember_secret(self._token)
            self._expires_on = float(access.expires_on)
            logger.debug("acquired a token valid for %.0f s", self._expires_on - self._clock())
            return self._token

    def invalidate(self) -> None:
        self._token = None
        self._expires_on = 0.0

    def __repr__(self) -> str:
        shown = type(self._credential).__name__ if self._credential else f"{self._auth_kind}, later"
        return f"AzureCredentialTokenProvider({shown})"


def decode_jwt_claims(token: str) -> dict[str, Any] | None:
    """A JWT's payload, read without verifying it (the service verifies; this only explains
    or labels); None for a token that is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return claims if isinstance(claims, dict) else None


def token_identity(token: str) -> str | None:
    """Who a bearer token was issued to, for display: a user's sign-in name, else "app <id>".

    The claims are read, not verified (the service verifies the token; this only labels the
    header). None for a token that is not a JWT or names nobody. Never returns the token.
    """
    claims = decode_jwt_claims(token)
    if claims is None:
        return None
    for names, prefix in ((USER_CLAIMS, ""), (APP_CLAIMS, "app ")):
        for name in names:
            value = claims.get(name)
            if isinstance(value, str) and (shown := _printable(value)):
                return prefix + shown
    return None


def _printable(value: str) -> str:
    return "".join(ch for ch in value if ch.isprintable()).strip()[:IDENTITY_MAX_CHARS]


def read_token_file(path: Path) -> str:
    try:
        return expand_local_path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise RequestValidationError(
            f"cannot read the token file {path}: {exc.strerror or exc}",
            hint="Check the path and its permissions.",
        ) from None


def make_token_provider(
    kind: str, *, token: str | None = None, token_file: Path | None = None
) -> TokenProvider | None:
    """A provider for an --auth kind; None for "none" (allowed for loopback endpoints only,
    which SessionsClient enforces)."""
    if kind == "none":
        return None
    if kind == "token":
        if token is None and token_file is not None:
            token = read_token_file(token_file)
        if not token:
            raise RequestValidationError(
                "auth 'token' needs a bearer token",
                hint="Set DSTUI_TOKEN or give a token file.",
            )
        return StaticTokenProvider(token)
    if kind not in AUTH_KINDS:
        raise RequestValidationError(
            f"unknown auth kind {kind!r}", hint=f"Choose one of: {', '.join(AUTH_KINDS)}."
        )
    # azure.identity is slow to import: only the Entra kinds pay for it, and only once the
    # first token is needed, in a thread, while the app draws its first frame.
    return AzureCredentialTokenProvider(
        None, build_credential=partial(_azure_credential, kind), auth_kind=kind
    )


def build_azure_credential(kind: str) -> SyncCredential:
    """The azure-identity credential an --auth kind uses (the doctor asks it directly, to see
    which credential of the chain answered or why each one failed)."""
    return _azure_credential(kind)


def _azure_credential(kind: str) -> SyncCredential:
    import azure.identity as identity

    # Its warnings dump the whole credential chain; dstui's own error names the credential to
    # fix. Without a configured handler Python would print them raw (over the TUI, too).
    logging.getLogger("azure.identity").addHandler(_QUIET)
    if kind == "cli":
        return identity.AzureCliCredential()
    if kind == "device-code":
        return identity.DeviceCodeCredential()
    if kind == "managed-identity":
        return identity.ManagedIdentityCredential()
    return identity.DefaultAzureCredential(exclude_interactive_browser_credential=True)
