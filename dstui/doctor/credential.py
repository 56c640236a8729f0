"""Check 2: which credential produced a token for the sessions audience, or why none did."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from dstui.api.auth import build_azure_credential, read_token_file
from dstui.api.constants import TOKEN_SCOPE
from dstui.api.credential_hints import chain_attempts, describe_credential_failure
from dstui.api.errors import DynamicSessionsError, redact, remember_secret
from dstui.doctor.model import CheckResult, CheckStatus

TITLE = "Credential"
_ATTEMPTS_CHARS = 400
_REASON_CHARS = 90


@dataclass(frozen=True, slots=True)
class TokenSource:
    """How the command would authenticate: an --auth kind and, for "token", where from."""

    auth_kind: str
    token: str | None = None  # DSTUI_TOKEN's value (auth "token" only)
    token_file: Path | None = None
    token_env_var: str = "DSTUI_TOKEN"


def _result(status: CheckStatus, finding: str, fix: str = "") -> CheckResult:
    return CheckResult("credential", TITLE, status, finding, fix)


async def check_credential(source: TokenSource) -> tuple[CheckResult, str | None]:
    """The result and the token (kept in memory for the next checks, never shown)."""
    kind = source.auth_kind
    if kind == "none":
        return _result(
            CheckStatus.SKIP, "auth 'none': no credential is used (allowed on loopback only)"
        ), None
    if kind == "token":
        return _static_token(source)
    try:
        credential = await asyncio.to_thread(build_azure_credential, kind)
        access = await asyncio.to_thread(credential.get_token, TOKEN_SCOPE)
    except Exception as exc:  # azure-identity raises many types; all mean "no token"
        return _failure(kind, exc), None
    token = str(access.token)
    remember_secret(token)
    return _result(CheckStatus.OK, f"{_who_answered(kind, credential)} for {TOKEN_SCOPE}"), token


def _static_token(source: TokenSource) -> tuple[CheckResult, str | None]:
    where = f"the token file {source.token_file}" if source.token_file else source.token_env_var
    try:
        token = read_token_file(source.token_file) if source.token_file else source.token
    except DynamicSessionsError as exc:
        return _result(CheckStatus.FAIL, exc.message, exc.hint or ""), None
    token = (token or "").strip()
    if not token:
        return _result(
            CheckStatus.FAIL,
            f"auth 'token' but {where} holds no token",
            f"Set {source.token_env_var} or --token-file, e.g. from `az account get-access-token "
            "--resource https://dynamicsessions.io --query accessToken -o tsv`.",
        ), None
    remember_secret(token)
    return _result(
        CheckStatus.OK, f"a static token from {where} (it cannot be refreshed when it expires)"
    ), token


def _who_answered(kind: str, credential: object) -> str:
    name = type(credential).__name__
    # DefaultAzureCredential remembers the member of its chain that answered (azure-identity
    # 1.x keeps it as _successful_credential; without it the chain is named as a whole).
    answered = getattr(credential, "_successful_credential", None)
    if answered is not None:
        return f"{name} got a token from {type(answered).__name__}"
    return f"{name} (--auth {kind}) got a token"


def _failure(kind: str, exc: BaseException) -> CheckResult:
    reason, fix = describe_credential_failure(kind, exc)
    attempts = chain_attempts(str(exc))
    if attempts:
        listed = "; ".join(
            f"{name}: {_first_sentence(name, why)}" for name, why in attempts.items()
        )
        if len(listed) > _ATTEMPTS_CHARS:
            listed = listed[: _ATTEMPTS_CHARS - 1] + "…"
        finding = f"no token from the chain: {listed}"
    else:
        finding = f"no token: {reason}"
    return _result(CheckStatus.FAIL, redact(finding), fix)


def _first_sentence(name: str, reason: str) -> str:
    """`EnvironmentCredential authentication unavailable. Environment variables ...` →
    `authentication unavailable`: the chain names each credential already."""
    text = reason.removeprefix(name).strip()
    first = text.split(". ", 1)[0].rstrip(".")
    return first if len(first) <= _REASON_CHARS else first[: _REASON_CHARS - 1] + "…"
