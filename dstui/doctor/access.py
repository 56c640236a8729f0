"""Check 4: one authenticated read-only call (the first page of GET /listSessions), its
failure explained: 401 (the token), 403 (the role), 404 (the endpoint), or a custom-container
pool that has no session APIs (DynamicApisNotAllowed)."""

from __future__ import annotations

from dataclasses import dataclass

from dstui.api import RetryPolicy, SessionsClient, StaticTokenProvider
from dstui.api.constants import DYNAMIC_APIS_NOT_ALLOWED, SESSION_EXECUTOR_ROLE_NAME
from dstui.api.errors import (
    ApiError,
    AuthenticationError,
    DynamicSessionsError,
    NotFoundError,
    PermissionDeniedError,
    TransportError,
    safe_text,
)
from dstui.common.units import counted
from dstui.doctor.claims import TokenClaims
from dstui.doctor.model import CheckResult, CheckStatus

TITLE = "Authenticated read-only call"
CALL_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class AccessOutcome:
    result: CheckResult
    status: int | None  # the HTTP status of a refusal, None on success or no answer


def _outcome(
    status: CheckStatus, finding: str, fix: str = "", http: int | None = None
) -> AccessOutcome:
    return AccessOutcome(CheckResult("access", TITLE, status, finding, fix), http)


async def check_access(
    endpoint: str,
    token: str | None,
    *,
    api_version: str,
    verify: bool | str = True,
    claims: TokenClaims | None = None,
) -> AccessOutcome:
    auth = StaticTokenProvider(token) if token is not None else None
    # One attempt, bounded: the doctor reports what happens, it does not insist.
    retry = RetryPolicy(max_attempts=1, total_budget_s=CALL_TIMEOUT_S)
    try:
        async with SessionsClient(
            endpoint,
            api_version=api_version,
            auth=auth,
            verify=verify,
            retry=retry,
            timeout=CALL_TIMEOUT_S,
        ) as client:
            page = await client.list_sessions_page()
    except DynamicSessionsError as exc:
        return _explain(exc, claims)
    more = " (more pages follow)" if page.next_link else ""
    return _outcome(
        CheckStatus.OK,
        f"GET /listSessions answered 200 with {counted(len(page.sessions), 'session')}{more}",
    )


def _explain(exc: DynamicSessionsError, claims: TokenClaims | None) -> AccessOutcome:
    message = safe_text(exc.message)
    status = exc.status if isinstance(exc, ApiError) else None
    if exc.code == DYNAMIC_APIS_NOT_ALLOWED:
        # Past authentication: the pool simply has no data-plane session APIs.
        return _outcome(
            CheckStatus.WARN,
            f"{DYNAMIC_APIS_NOT_ALLOWED}: a custom-container pool, which has no session list or "
            "file APIs; the token was accepted",
            "Use the pool's .management/getSession and stopSession, or requests to the "
            "container's own app, instead of listing sessions.",
            status,
        )
    if isinstance(exc, AuthenticationError):
        return _outcome(
            CheckStatus.FAIL,
            f"401: the service rejected the token ({message})",
            _token_fix(claims),
            status,
        )
    if isinstance(exc, PermissionDeniedError):
        who = claims.identity if claims is not None else "the caller"
        assignee = claims.assignee if claims is not None else None
        command = (
            f" (`az role assignment create --role '{SESSION_EXECUTOR_ROLE_NAME}' --assignee "
            f"{assignee} --scope <pool resource id>`)"
            if assignee
            else ""
        )
        return _outcome(
            CheckStatus.FAIL,
            f"403: the token is valid but {who} may not use this pool",
            f"Assign '{SESSION_EXECUTOR_ROLE_NAME}' on the pool{command}; a new assignment can "
            "take minutes to apply, then sign in again.",
            status,
        )
    if isinstance(exc, NotFoundError):
        return _outcome(
            CheckStatus.FAIL,
            f"404: no session pool answers at this endpoint ({message})",
            "Copy the endpoint from `az containerapp sessionpool show -n <pool> -g <group> "
            "--query properties.poolManagementEndpoint`; the api-version must be "
            "2025-02-02-preview or later for /listSessions.",
            status,
        )
    if isinstance(exc, TransportError):
        return _outcome(
            CheckStatus.FAIL,
            f"no answer: {message}",
            "Check the endpoint check above and this network's access to the pool.",
        )
    return _outcome(CheckStatus.FAIL, message, safe_text(exc.hint or ""), status)


def _token_fix(claims: TokenClaims | None) -> str:
    if claims is None:
        return (
            "Sign in again and get a token for https://dynamicsessions.io/.default; "
            "see the token check above."
        )
    return (
        "Get a token for https://dynamicsessions.io/.default in the pool's tenant "
        f"(this one: audience {claims.audience or 'none'}, tenant {claims.tenant or 'none'})."
    )
