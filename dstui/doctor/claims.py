"""Check 3: the token's claims, decoded without verifying the signature (the service verifies;
this only explains). Only claim values are shown, never the token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from dstui.api.auth import decode_jwt_claims
from dstui.api.constants import TOKEN_AUDIENCE, TOKEN_SCOPE
from dstui.api.display import escape_controls
from dstui.common.units import format_duration
from dstui.doctor.model import CheckResult, CheckStatus

TITLE = "Token claims"
OBSOLETE_AUDIENCE = "https://acasessions.io"
EXPIRING_SOON_S = 600.0
_VALUE_CHARS = 80
_GET_TOKEN = (
    "Get a token for the sessions audience: scope "
    f"{TOKEN_SCOPE} (`az account get-access-token --resource {TOKEN_AUDIENCE}`)."
)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The claims the doctor reads; every text is escaped and shortened for display."""

    audience: str | None
    tenant: str | None
    object_id: str | None
    app_id: str | None
    user: str | None
    expires_at: datetime | None
    not_before: datetime | None

    @property
    def identity(self) -> str:
        parts = [f"user {self.user}" if self.user else None]
        parts.append(f"app {self.app_id}" if self.app_id else None)
        parts.append(f"oid {self.object_id}" if self.object_id else None)
        return ", ".join(part for part in parts if part) or "no identity claim"

    @property
    def assignee(self) -> str | None:
        """What `az role assignment create --assignee` takes for this identity."""
        return self.object_id or self.app_id or self.user


def _text(claims: Mapping[str, object], *names: str) -> str | None:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            shown = escape_controls(value.strip())
            return shown if len(shown) <= _VALUE_CHARS else shown[: _VALUE_CHARS - 1] + "…"
    return None


def _moment(claims: Mapping[str, object], name: str) -> datetime | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def read_claims(token: str) -> TokenClaims | None:
    claims = decode_jwt_claims(token)
    if claims is None:
        return None
    audience = claims.get("aud")
    if isinstance(audience, list):  # a JWT may carry several audiences
        audience = " ".join(str(item) for item in audience)
    return TokenClaims(
        audience=_text({"aud": audience}, "aud"),
        tenant=_text(claims, "tid"),
        object_id=_text(claims, "oid"),
        app_id=_text(claims, "appid", "azp"),
        user=_text(claims, "upn", "preferred_username", "unique_name", "email"),
        expires_at=_moment(claims, "exp"),
        not_before=_moment(claims, "nbf"),
    )


def _result(status: CheckStatus, finding: str, fix: str = "") -> CheckResult:
    return CheckResult("token", TITLE, status, finding, fix)


def check_claims(
    token: str | None,
    *,
    expected_tenant: str | None = None,
    loopback: bool = False,
    now: datetime | None = None,
) -> tuple[CheckResult, TokenClaims | None]:
    if token is None:
        return _result(CheckStatus.SKIP, "no token to read"), None
    claims = read_claims(token)
    if claims is None:
        if loopback:
            return _result(
                CheckStatus.OK, "an opaque token (not a JWT), as the emulator uses"
            ), None
        return _result(
            CheckStatus.WARN,
            "the token is not a JWT, so its audience and expiry cannot be read",
            "Entra ID access tokens are JWTs. " + _GET_TOKEN,
        ), None
    return _judge(claims, expected_tenant, now or datetime.now(UTC)), claims


def _judge(claims: TokenClaims, expected_tenant: str | None, now: datetime) -> CheckResult:
    summary = (
        f"audience {claims.audience or '(none)'}, tenant {claims.tenant or '(none)'}, "
        f"{claims.identity}, {_expiry_text(claims, now)}"
    )
    audience = (claims.audience or "").rstrip("/")
    if audience == OBSOLETE_AUDIENCE:
        return _result(
            CheckStatus.FAIL,
            f"obsolete audience {OBSOLETE_AUDIENCE} (the 2023 preview's): {summary}",
            _GET_TOKEN,
        )
    if audience != TOKEN_AUDIENCE:
        return _result(CheckStatus.FAIL, f"wrong audience: {summary}", _GET_TOKEN)
    if expected_tenant and claims.tenant and claims.tenant.lower() != expected_tenant.lower():
        return _result(
            CheckStatus.FAIL,
            f"tenant {claims.tenant} is not the configured {expected_tenant}: {summary}",
            "Sign in to the pool's tenant (`az login --tenant <tenant>`), or fix AZURE_TENANT_ID.",
        )
    if claims.expires_at is not None and claims.expires_at <= now:
        return _result(
            CheckStatus.FAIL,
            f"expired: {summary}",
            "Get a new token (a static one cannot refresh).",
        )
    if claims.not_before is not None and claims.not_before > now:
        return _result(
            CheckStatus.WARN,
            f"not valid yet: {summary}",
            "Check this machine's clock; the token's nbf claim lies in the future.",
        )
    if claims.expires_at is None:
        return _result(CheckStatus.WARN, f"no expiry claim: {summary}", _GET_TOKEN)
    if (claims.expires_at - now).total_seconds() < EXPIRING_SOON_S:
        return _result(
            CheckStatus.WARN,
            f"expiring soon: {summary}",
            "Get a fresh token before a long task; Entra credentials refresh on their own.",
        )
    return _result(CheckStatus.OK, summary)


def _expiry_text(claims: TokenClaims, now: datetime) -> str:
    if claims.expires_at is None:
        return "no expiry"
    left = (claims.expires_at - now).total_seconds()
    if left <= 0:
        return f"expired {format_duration(-left)} ago"
    return f"expires in {format_duration(left)}"
