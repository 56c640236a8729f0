"""Check 5: the pool's ARM resource exists, its poolManagementEndpoint is the endpoint in use,
and the caller holds Azure ContainerApps Session Executor on it (inherited included)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from dstui.api.arm import ArmClient
from dstui.api.arm_models import PoolId, RoleAssignment, SessionPoolResource
from dstui.api.constants import SESSION_EXECUTOR_ROLE_NAME
from dstui.api.errors import (
    AuthenticationError,
    DynamicSessionsError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    TransportError,
    safe_text,
)
from dstui.doctor.model import CheckResult, CheckStatus
from dstui.doctor.runner import ARM_TITLE, ArmCheck, ArmContext

# Role assignments younger than this may not have reached the data plane yet.
PROPAGATION_WINDOW = timedelta(minutes=30)
_ENDPOINT_PATH_RE = re.compile(
    r"\A/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<group>[^/]+)/sessionPools/(?P<name>[^/]+)\Z",
    re.IGNORECASE,
)
_SHOW_POOL = "az containerapp sessionpool show -n <pool> -g <group>"


def _result(status: CheckStatus, finding: str, fix: str = "") -> CheckResult:
    return CheckResult("arm", ARM_TITLE, status, finding, fix)


def make_arm_check(
    open_arm: Callable[[], ArmClient], *, now: Callable[[], datetime] | None = None
) -> ArmCheck:
    """Check 5 with a way to open an ArmClient (the command's credential, the ARM scope)."""
    clock = now or (lambda: datetime.now(UTC))

    async def check(context: ArmContext) -> CheckResult:
        try:
            async with open_arm() as arm:
                return await _check(arm, context, clock())
        except AuthenticationError as exc:
            return _result(
                CheckStatus.SKIP,
                f"skipped: ARM refused the credential ({safe_text(exc.message)})",
                "Sign in with a credential ARM accepts (a static sessions token does not), or "
                "point --arm-endpoint at the right cloud.",
            )
        except TransportError as exc:
            return _result(CheckStatus.SKIP, f"skipped: ARM unreachable ({safe_text(exc.message)})")
        except DynamicSessionsError as exc:
            return _result(CheckStatus.WARN, f"ARM: {safe_text(exc.message)}", exc.hint or "")

    return check


def same_endpoint(a: str, b: str) -> bool:
    """Scheme, host and path compared as ARM and the client write them (case, trailing /)."""
    left, right = urlsplit(a.strip()), urlsplit(b.strip())
    return (
        left.scheme.lower() == right.scheme.lower()
        and left.netloc.lower() == right.netloc.lower()
        and left.path.rstrip("/").lower() == right.path.rstrip("/").lower()
    )


async def _find(arm: ArmClient, endpoint: str) -> SessionPoolResource | None:
    match = _ENDPOINT_PATH_RE.fullmatch(urlsplit(endpoint).path.rstrip("/"))
    if match is not None:
        try:
            return await arm.get_pool(PoolId(match["sub"], match["group"], match["name"]))
        except NotFoundError:
            return None
    # Custom-container endpoints (and proxies) do not name the pool: look among all pools.
    listing = await arm.list_pools_everywhere()
    for pool in listing.pools:
        if pool.pool_management_endpoint and same_endpoint(pool.pool_management_endpoint, endpoint):
            return pool
    return None


async def _check(arm: ArmClient, context: ArmContext, now: datetime) -> CheckResult:
    pool = await _find(arm, context.endpoint)
    if pool is None:
        return _result(
            CheckStatus.FAIL,
            "no session pool you can see in ARM has this endpoint",
            f"Check the subscription, group and pool name in the endpoint (`{_SHOW_POOL}`), and "
            "that you may read the pool (Reader).",
        )
    where = f"pool {pool.name} in {pool.resource_group or '?'}"
    listed = pool.pool_management_endpoint
    if not listed or not same_endpoint(listed, context.endpoint):
        return _result(
            CheckStatus.FAIL,
            f"{where}: its poolManagementEndpoint is {listed or '(none)'}, not the endpoint in use",
            f"Use the pool's poolManagementEndpoint (`{_SHOW_POOL} --query "
            "properties.poolManagementEndpoint`).",
        )
    wrong_tenant = await _tenant_mismatch(arm, pool, context)
    if wrong_tenant is not None:
        return wrong_tenant
    return await _role(arm, pool, where, context, now)


async def _tenant_mismatch(
    arm: ArmClient, pool: SessionPoolResource, context: ArmContext
) -> CheckResult | None:
    """A failure when the token was issued by another tenant than the pool's subscription's
    (which AZURE_TENANT_ID may not say); None when they agree or either is unknown."""
    tenant = context.claims.tenant if context.claims is not None else None
    if tenant is None or pool.subscription_id is None:
        return None
    try:
        subscription = await arm.get_subscription(pool.subscription_id)
    except (NotFoundError, PermissionDeniedError, MalformedResponseError):
        return None  # not readable: the role check below still says what it can
    expected = subscription.tenant_id
    if expected is None or expected.lower() == tenant.lower():
        return None
    return _result(
        CheckStatus.FAIL,
        f"the token's tenant {tenant} is not the tenant {expected} of the pool's subscription "
        f"{pool.subscription_id}",
        f"Sign in to the pool's tenant (`az login --tenant {expected}`), or set "
        f"AZURE_TENANT_ID={expected}.",
    )


async def _role(
    arm: ArmClient, pool: SessionPoolResource, where: str, context: ArmContext, now: datetime
) -> CheckResult:
    principal = context.claims.object_id if context.claims is not None else None
    try:
        # assignedTo(oid) includes the groups the principal is in.
        assignments = await arm.role_assignments(pool.id, principal_id=principal)
    except PermissionDeniedError:
        return _result(
            CheckStatus.WARN,
            f"{where} exists and its endpoint matches; its role assignments cannot be read",
            "Reading them needs Microsoft.Authorization/roleAssignments/read (Reader has it).",
        )
    executor = [a for a in assignments if a.is_session_executor]
    assign = (
        f"az role assignment create --role '{SESSION_EXECUTOR_ROLE_NAME}' --assignee "
        f"{principal or '<your object id>'} --scope {pool.id}"
    )
    if not executor:
        who = f"oid {principal} does not hold" if principal else "nobody holds"
        return _result(
            CheckStatus.FAIL,
            f"{where}: {who} '{SESSION_EXECUTOR_ROLE_NAME}' on it or above",
            f"Assign it: `{assign}`.",
        )
    held = ", ".join(sorted({_level(a, pool.id) for a in executor}))
    if principal is None:
        return _result(
            CheckStatus.WARN,
            f"{where}: '{SESSION_EXECUTOR_ROLE_NAME}' is assigned ({held}), but the token names "
            "no object id to tell whether it is yours",
            "Use an Entra ID token (a JWT with an oid claim) to check your own assignment.",
        )
    newest = max(filter(None, (_created(a) for a in executor)), default=None)
    if (
        newest is not None
        and now - newest < PROPAGATION_WINDOW
        and context.data_plane_status == 403
    ):
        minutes = max(0, int((now - newest).total_seconds() // 60))
        return _result(
            CheckStatus.WARN,
            f"{where}: '{SESSION_EXECUTOR_ROLE_NAME}' was assigned {minutes} min ago ({held}) and "
            "the data plane still answers 403: it is probably still propagating",
            "Wait a few minutes, then get a new token (`az account get-access-token` again).",
        )
    return _result(
        CheckStatus.OK,
        f"{where} exists, its endpoint matches, '{SESSION_EXECUTOR_ROLE_NAME}' held ({held})",
    )


def _level(assignment: RoleAssignment, pool_id: str) -> str:
    scope = (assignment.scope or "").rstrip("/").lower()
    if scope == pool_id.lower():
        return "on the pool"
    if "/resourcegroups/" in scope:
        return "inherited from the resource group"
    if scope.startswith("/subscriptions/"):
        return "inherited from the subscription"
    return "inherited from a management group"


def _created(assignment: RoleAssignment) -> datetime | None:
    if not assignment.created_on:
        return None
    try:
        moment = datetime.fromisoformat(assignment.created_on.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
