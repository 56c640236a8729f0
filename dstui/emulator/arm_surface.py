"""The slice of Azure Resource Manager that `dstui emulator --arm` serves: subscriptions, the
session pools it hosts, and role assignments and definitions at their scopes (read-only).

Shapes follow the official examples in Azure/azure-rest-api-specs (SessionPools_Get.json,
GetSubscriptions.json, RoleAssignments_ListForScope.json; copies in tests/api/arm_examples).
Nothing else is served: any other path gets ARM's own error envelope.
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from dstui.api.constants import SESSION_EXECUTOR_ROLE_ID, SESSION_EXECUTOR_ROLE_NAME
from dstui.common.arm_pool_json import (
    CustomContainerJson,
    pool_properties,
    pool_resource_json,
    timed_lifecycle,
)
from dstui.emulator.arm_pools import (
    DEMO_SUBSCRIPTION_ID,
    EMULATOR_PRINCIPAL_ID,
    EMULATOR_TENANT_ID,
    ArmPoolSpec,
)
from dstui.emulator.envelopes import json_response, timestamp
from dstui.emulator.security import host_allowed
from dstui.emulator.state import EmulatorState

DEFAULT_PAGE_SIZE = 100
# api-versions ARM knows for Microsoft.App/sessionPools; the first two use the older lifecycle.
POOL_API_VERSIONS = (
    "2024-02-02-preview",
    "2024-08-02-preview",
    "2024-10-02-preview",
    "2025-01-01",
    "2025-02-02-preview",
    "2025-07-01",
    "2025-10-02-preview",
    "2026-01-01",
)
_OLD_LIFECYCLE_VERSIONS = frozenset(POOL_API_VERSIONS[:2])
SUBSCRIPTION_API_VERSIONS = ("2016-06-01", "2020-01-01", "2021-01-01", "2022-12-01")
AUTHORIZATION_API_VERSIONS = (
    "2015-07-01",
    "2018-01-01-preview",
    "2020-04-01-preview",
    "2022-04-01",
)
_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_GROUP = _SUB + r"/resourceGroups/(?P<group>[^/]+)"
_POOLS = r"/providers/Microsoft\.App/sessionPools"
_AUTH = r"/providers/Microsoft\.Authorization"
_SCOPE = rf"(?P<scope>(?:{_SUB}(?:/resourceGroups/[^/]+(?:{_POOLS}/[^/]+)?)?)?)"
_FILTER_ASSIGNED_RE = re.compile(r"\A\s*assignedTo\('(?P<oid>[^']{1,64})'\)\s*\Z", re.I)
_FILTER_PRINCIPAL_RE = re.compile(r"\A\s*principalId\s+eq\s+'(?P<oid>[^']{1,64})'\s*\Z", re.I)
_FILTER_AT_SCOPE_RE = re.compile(r"\A\s*atScope\(\)\s*\Z", re.I)
_MAX_SKIP = 10**6


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


@dataclass(frozen=True)
class HostedPool:
    """A pool the emulator hosts: its ARM description, its data-plane endpoint and the
    running pool (whose limits ARM reports, and whose containers count as nodeCount)."""

    spec: ArmPoolSpec
    endpoint: str
    state: EmulatorState


Handler = Callable[[Request, "re.Match[str]", str], Response]


class ArmSurface:
    """An ASGI app; `token` None accepts any request (--no-auth)."""

    def __init__(
        self,
        pools: Sequence[HostedPool],
        *,
        token: str | None,
        served_host: str,
        started_at: datetime,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.pools = list(pools)
        self._token = token.encode() if token else None
        self._served_host = served_host
        self._created = timestamp(started_at)
        self._page_size = page_size
        self._routes: list[tuple[re.Pattern[str], tuple[str, ...], Handler]] = [
            (_route("/subscriptions"), SUBSCRIPTION_API_VERSIONS, self._subscriptions),
            (_route(_SUB), SUBSCRIPTION_API_VERSIONS, self._subscription),
            (_route(_SUB + _POOLS), POOL_API_VERSIONS, self._pools_in_subscription),
            (_route(_GROUP + _POOLS), POOL_API_VERSIONS, self._pools_in_group),
            (_route(_GROUP + _POOLS + "/(?P<name>[^/]+)"), POOL_API_VERSIONS, self._pool),
            (
                _route(_SCOPE + _AUTH + "/roleAssignments"),
                AUTHORIZATION_API_VERSIONS,
                self._role_assignments,
            ),
            (
                _route(_SCOPE + _AUTH + "/roleDefinitions/(?P<role>[^/]+)"),
                AUTHORIZATION_API_VERSIONS,
                self._role_definition,
            ),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            self._guard(Headers(scope=scope))
            response = self._dispatch(request)
        except ArmError as error:
            body = {"error": {"code": error.code, "message": error.message}}
            response = json_response(body, error.status, error.headers)
        response.headers["x-ms-request-id"] = str(uuid.uuid4())
        await response(scope, receive, send)

    def _guard(self, headers: Headers) -> None:
        if not host_allowed(headers.get("host"), self._served_host):
            raise ArmError(
                421, "InvalidHostHeader", "The Host header names neither loopback nor the host."
            )
        if self._token is None:
            return
        authorization = headers.get("authorization", "")
        challenge = {"WWW-Authenticate": 'Bearer realm="dstui-emulator"'}
        if not authorization:
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                **challenge,
            )
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credential.strip().encode(), self._token
        ):
            raise ArmError(
                401, "InvalidAuthenticationToken", "The access token is invalid.", **challenge
            )

    def _dispatch(self, request: Request) -> Response:
        path = request.url.path.rstrip("/") or "/"
        for pattern, versions, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if request.method != "GET":
                raise ArmError(
                    405,
                    "MethodNotAllowed",
                    f"The emulator's Resource Manager is read-only: {request.method[:10]} is "
                    "not served.",
                )
            version = _api_version(request, versions)
            return handler(request, match, version)
        raise ArmError(
            404,
            "InvalidResourceType" if "/providers/" in path else "NotFound",
            f"No HTTP resource was found that matches the request URI '{path[:300]}'.",
        )

    # -- subscriptions ---------------------------------------------------------------------

    def _subscription_ids(self) -> list[str]:
        return list(dict.fromkeys(pool.spec.subscription_id for pool in self.pools))

    def _subscription_body(self, subscription_id: str) -> dict[str, Any]:
        number = self._subscription_ids().index(subscription_id) + 1
        label = "dstui demo" if subscription_id == DEMO_SUBSCRIPTION_ID else "dstui emulator"
        return {
            "id": f"/subscriptions/{subscription_id}",
            "subscriptionId": subscription_id,
            "tenantId": EMULATOR_TENANT_ID,
            "displayName": label if number == 1 else f"{label} ({number})",
            "state": "Enabled",
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
        }

    def _subscriptions(self, request: Request, match: re.Match[str], version: str) -> Response:
        bodies = [self._subscription_body(s) for s in self._subscription_ids()]
        return self._page(request, version, bodies)

    def _subscription(self, request: Request, match: re.Match[str], version: str) -> Response:
        return json_response(self._subscription_body(self._known_subscription(match["sub"])))

    def _known_subscription(self, subscription_id: str) -> str:
        for known in self._subscription_ids():
            if known.lower() == subscription_id.lower():
                return known
        raise ArmError(
            404,
            "SubscriptionNotFound",
            f"The subscription '{subscription_id[:80]}' could not be found.",
        )

    # -- pools -----------------------------------------------------------------------------

    def _pools_in_subscription(
        self, request: Request, match: re.Match[str], version: str
    ) -> Response:
        subscription = self._known_subscription(match["sub"])
        found = [p for p in self.pools if p.spec.subscription_id == subscription and p.spec.reader]
        return self._page(request, version, [self._pool_body(p, version) for p in found])

    def _in_group(self, match: re.Match[str]) -> list[HostedPool]:
        subscription = self._known_subscription(match["sub"])
        group = match["group"].lower()
        in_subscription = [p for p in self.pools if p.spec.subscription_id == subscription]
        found = [p for p in in_subscription if p.spec.resource_group.lower() == group]
        if not found:
            raise ArmError(
                404,
                "ResourceGroupNotFound",
                f"Resource group '{match['group'][:90]}' could not be found.",
            )
        return found

    def _pools_in_group(self, request: Request, match: re.Match[str], version: str) -> Response:
        found = [pool for pool in self._in_group(match) if pool.spec.reader]
        return self._page(request, version, [self._pool_body(p, version) for p in found])

    def _pool(self, request: Request, match: re.Match[str], version: str) -> Response:
        for pool in self._in_group(match):
            if pool.spec.name == match["name"].lower():
                if not pool.spec.reader:
                    raise _not_authorized("Microsoft.App/sessionPools/read", pool.spec.resource_id)
                return json_response(self._pool_body(pool, version))
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.App/sessionPools/{match['name'][:63]}' under resource "
            f"group '{match['group'][:90]}' was not found. For more details please go to "
            "https://aka.ms/ARMResourceNotFoundFix",
        )

    def _pool_body(self, pool: HostedPool, version: str) -> dict[str, Any]:
        spec, running = pool.spec, pool.state.pool
        cooldown = max(1, round(running.cooldown.total_seconds()))
        properties = pool_properties(
            container_type=spec.container_type,
            provisioning_state="Succeeded",
            max_sessions=running.max_sessions,
            ready_sessions=running.ready_target,
            lifecycle=timed_lifecycle(cooldown, old_shape=version in _OLD_LIFECYCLE_VERSIONS),
            egress=pool.state.config.egress,
            endpoint=pool.endpoint,
        )
        properties["nodeCount"] = len(running.sessions) + running.ready_count
        custom = None
        if spec.container_type == "CustomContainer":
            group = f"/subscriptions/{spec.subscription_id}/resourceGroups/{spec.resource_group}"
            custom = CustomContainerJson(
                environment_id=f"{group}/providers/Microsoft.App/managedEnvironments/dstui-emulator",
                image=spec.image,
                cpu=0.25,
                memory="0.5Gi",
                target_port=spec.target_port or 80,
            )
        return pool_resource_json(
            resource_id=spec.resource_id,
            name=spec.name,
            location=spec.location,
            properties=properties,
            custom=custom,
        )

    # -- authorization ---------------------------------------------------------------------

    def _assignments(self) -> list[dict[str, Any]]:
        scopes: dict[str, str] = {}
        for pool in self.pools:
            spec = pool.spec
            where = {
                "pool": spec.resource_id,
                "resourceGroup": spec.resource_id.split("/providers/", 1)[0],
                "subscription": f"/subscriptions/{spec.subscription_id}",
            }.get(spec.executor_scope)
            if where is not None:
                scopes.setdefault(where.lower(), where)
        return [self._assignment_body(scope) for scope in scopes.values()]

    def _assignment_body(self, scope: str) -> dict[str, Any]:
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"dstui-executor:{scope.lower()}"))
        subscription = scope.split("/")[2]
        return {
            "properties": {
                "roleDefinitionId": f"/subscriptions/{subscription}{_AUTH_PATH}/roleDefinitions/"
                f"{SESSION_EXECUTOR_ROLE_ID}",
                "principalId": EMULATOR_PRINCIPAL_ID,
                "principalType": "User",
                "scope": scope,
                "condition": None,
                "conditionVersion": None,
                "createdOn": self._created,
                "updatedOn": self._created,
            },
            "id": f"{scope}{_AUTH_PATH}/roleAssignments/{name}",
            "type": "Microsoft.Authorization/roleAssignments",
            "name": name,
        }

    def _known_scope(self, scope: str, action: str) -> None:
        """404 for a scope naming a subscription, group or pool the emulator does not host;
        403 for a pool the caller may not read (`action`: roleAssignments, roleDefinitions)."""
        parts = scope.split("/")
        if len(parts) >= 3:
            self._known_subscription(parts[2])
        if len(parts) >= 5:
            group_match = re.fullmatch(_GROUP, "/".join(parts[:5]))
            assert group_match is not None
            in_group = self._in_group(group_match)
            if len(parts) < 9:
                return
            pool = next((p for p in in_group if p.spec.name == parts[8].lower()), None)
            if pool is None:
                raise ArmError(
                    404,
                    "ResourceNotFound",
                    f"The Resource 'Microsoft.App/sessionPools/{parts[8][:63]}' under resource "
                    f"group '{parts[4][:90]}' was not found.",
                )
            if not pool.spec.reader:
                raise _not_authorized(f"Microsoft.Authorization/{action}/read", scope)

    def _role_assignments(self, request: Request, match: re.Match[str], version: str) -> Response:
        scope = match["scope"]
        self._known_scope(scope, "roleAssignments")
        wanted = scope.lower()
        principal: str | None = None
        at_scope = False
        raw_filter = request.query_params.get("$filter")
        if raw_filter:
            found = _FILTER_ASSIGNED_RE.match(raw_filter) or _FILTER_PRINCIPAL_RE.match(raw_filter)
            if found is not None:
                principal = found["oid"].lower()
            elif _FILTER_AT_SCOPE_RE.match(raw_filter):
                at_scope = True
            else:
                raise ArmError(
                    400,
                    "UnsupportedQuery",
                    f"The filter '{raw_filter[:100]}' is not supported. Supported filters: "
                    "atScope(), assignedTo('{principalId}'), principalId eq '{value}'.",
                )
        result = []
        for body in self._assignments():
            at = body["properties"]["scope"].lower()
            above = wanted == at or wanted.startswith(at + "/") or at == ""
            below = at.startswith(wanted + "/") or wanted == ""
            if not (above or (below and not at_scope)):
                continue
            if principal is not None and body["properties"]["principalId"] != principal:
                continue
            result.append(body)
        return self._page(request, version, result)

    def _role_definition(self, request: Request, match: re.Match[str], version: str) -> Response:
        if match["scope"]:
            self._known_scope(match["scope"], "roleDefinitions")
        if match["role"].lower() != SESSION_EXECUTOR_ROLE_ID:
            raise ArmError(
                404,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{match['role'][:40]}' does not exist.",
            )
        return json_response(
            {
                "properties": {
                    "roleName": SESSION_EXECUTOR_ROLE_NAME,
                    "type": "BuiltInRole",
                    "description": "Allows executing code and managing sessions in a session "
                    "pool (as the emulator describes it).",
                    "assignableScopes": ["/"],
                    "permissions": [
                        {
                            "actions": [],
                            "notActions": [],
                            "dataActions": [
                                "Microsoft.App/sessionPools/interpreters/execute/action"
                            ],
                            "notDataActions": [],
                        }
                    ],
                },
                "id": f"{match['scope']}{_AUTH_PATH}/roleDefinitions/{SESSION_EXECUTOR_ROLE_ID}",
                "type": "Microsoft.Authorization/roleDefinitions",
                "name": SESSION_EXECUTOR_ROLE_ID,
            }
        )

    # -- paging ----------------------------------------------------------------------------

    def _page(self, request: Request, version: str, items: list[dict[str, Any]]) -> Response:
        raw = request.query_params.get("$skiptoken", "0")
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 7 or int(raw) > _MAX_SKIP:
            raise ArmError(400, "InvalidSkipToken", f"The skip token '{raw[:40]}' is not valid.")
        start = int(raw)
        end = start + self._page_size
        body: dict[str, Any] = {"value": items[start:end]}
        if end < len(items):
            query = {**dict(request.query_params), "api-version": version, "$skiptoken": str(end)}
            body["nextLink"] = f"{str(request.base_url).rstrip('/')}{request.url.path}?" + (
                urlencode(query)
            )
        return json_response(body)


_AUTH_PATH = "/providers/Microsoft.Authorization"


def _not_authorized(action: str, scope: str) -> ArmError:
    """ARM's answer to a caller without a role that grants `action` at `scope`."""
    return ArmError(
        403,
        "AuthorizationFailed",
        f"The client '{EMULATOR_PRINCIPAL_ID}' with object id '{EMULATOR_PRINCIPAL_ID}' does not "
        f"have authorization to perform action '{action}' over scope '{scope[:300]}' or the "
        "scope is invalid. If access was recently granted, please refresh your credentials.",
    )


def _route(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _api_version(request: Request, supported: tuple[str, ...]) -> str:
    version = request.query_params.get("api-version")
    if not version:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version not in supported:
        raise ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for API version '{version[:40]}'. The "
            f"supported api-versions are '{', '.join(supported)}'.",
        )
    return version
