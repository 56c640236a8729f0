"""ArmClient: the Azure Resource Manager calls dstui needs to find session pools and check
who may use them. It shares the data-plane client's Requester (retries, no redirects, capped
JSON, deadlines, token redaction) and PageGuard; only the URLs, the token scope and the
error hints differ."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from dstui.api.arm_models import (
    ArmPage,
    PoolId,
    RoleAssignment,
    RoleDefinition,
    SessionPoolResource,
    Subscription,
)
from dstui.api.auth import (
    AzureCredentialTokenProvider,
    TokenProvider,
    build_azure_credential,
    make_token_provider,
)
from dstui.api.constants import SESSION_EXECUTOR_ROLE_ID
from dstui.api.errors import (
    EMULATOR_TOKEN_HINT,
    ApiError,
    AuthenticationError,
    DynamicSessionsError,
    NotFoundError,
    PermissionDeniedError,
    RequestValidationError,
)
from dstui.api.limits import DEFAULT_LIMITS, ClientLimits
from dstui.api.links import resolve_link
from dstui.api.observer import ExchangeObserver
from dstui.api.paging import PageGuard
from dstui.api.requester import Call, Requester, decode_json
from dstui.api.retry import RetryPolicy
from dstui.api.validation import validate_api_version
from dstui.common.auth_kinds import AUTH_KINDS
from dstui.common.lifecycle import AsyncClosing
from dstui.common.net import is_loopback_host

logger = logging.getLogger("dstui.api")

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
DEFAULT_ARM_API_VERSION = "2025-01-01"  # Microsoft.App/sessionPools, stable
SUBSCRIPTIONS_API_VERSION = "2022-12-01"
AUTHORIZATION_API_VERSION = "2022-04-01"
ARM_SCOPE = "https://management.azure.com/.default"
# Subscriptions listed at once when pools are listed across all of them.
_SUBSCRIPTION_CONCURRENCY = 4


def _arm_401_hint(scope: str) -> str:
    return (
        f"ARM refused the token: it must be issued for {scope} (not the sessions audience) "
        "in the tenant of the subscription. Sign in again (`az login`), or check --arm-endpoint."
    )


_ARM_403_HINT = (
    "Your identity may not read this in ARM: it needs at least Reader on the subscription, "
    "resource group or pool (new role assignments take a few minutes to apply)."
)
_ARM_404_HINT = (
    "Check the subscription, resource group and pool name (and --arm-endpoint for sovereign "
    "clouds); `dstui pools list` shows the pools you can see."
)


def normalize_arm_endpoint(url: str) -> str:
    """The ARM endpoint without trailing `/`; https except on loopback (the emulator)."""
    text = url.strip() if isinstance(url, str) else ""
    hint = f"Use the Resource Manager URL of your cloud, e.g. {DEFAULT_ARM_ENDPOINT}."
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise RequestValidationError(
            f"the ARM endpoint is not a valid URL: {exc}", hint=hint
        ) from None
    if parts.scheme not in ("http", "https") or not host:
        raise RequestValidationError(
            f"the ARM endpoint must be an http(s) URL with a host, got {text[:120]!r}", hint=hint
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise RequestValidationError(
            "the ARM endpoint must carry no credentials, query or fragment", hint=hint
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise RequestValidationError(
            f"refusing plain http to {host}: the ARM endpoint must use https", hint=hint
        )
    return text.rstrip("/")


def arm_scope(endpoint: str) -> str:
    """The token scope for an ARM endpoint: `<endpoint>/.default` for a cloud (sovereign
    ones have their own), the public cloud's for a loopback endpoint (the emulator)."""
    normalized = normalize_arm_endpoint(endpoint)
    if is_loopback_host(httpx.URL(normalized).host):
        return ARM_SCOPE
    return f"{normalized}/.default"


def make_arm_token_provider(
    kind: str,
    *,
    token: str | None = None,
    token_file: Path | None = None,
    endpoint: str = DEFAULT_ARM_ENDPOINT,
) -> TokenProvider | None:
    """Like make_token_provider, but for the scope of the ARM `endpoint` (the same
    credential kinds)."""
    if kind in ("none", "token"):
        return make_token_provider(kind, token=token, token_file=token_file)
    if kind not in AUTH_KINDS:
        return make_token_provider(kind)  # raises the usual "unknown auth kind" error
    return AzureCredentialTokenProvider(
        None,
        build_credential=partial(build_azure_credential, kind),
        scope=arm_scope(endpoint),
        auth_kind=kind,
    )


@dataclass
class PoolListing:
    """Pools from several subscriptions; a subscription that failed is named, not fatal."""

    pools: list[SessionPoolResource] = field(default_factory=list)
    failures: list[tuple[str, DynamicSessionsError]] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)


class ArmClient(AsyncClosing):
    """Async Resource Manager client; use as `async with ArmClient(auth=...) as arm`.

    `api_version` is the one sent for Microsoft.App/sessionPools (later previews parse too:
    unknown fields are kept); subscriptions and role assignments use their own stable versions.
    """

    def __init__(
        self,
        *,
        endpoint: str = DEFAULT_ARM_ENDPOINT,
        api_version: str = DEFAULT_ARM_API_VERSION,
        auth: TokenProvider | None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool | str = True,
        limits: ClientLimits = DEFAULT_LIMITS,
        observer: ExchangeObserver | None = None,
    ) -> None:
        self._endpoint = normalize_arm_endpoint(endpoint)
        self._scope = arm_scope(self._endpoint)
        self._api_version = validate_api_version(api_version)
        host = httpx.URL(self._endpoint).host
        if auth is None and not is_loopback_host(host):
            raise RequestValidationError(
                f"refusing to call {host} without authentication",
                hint="Only a loopback ARM endpoint (the local emulator) may be used with auth "
                "'none'.",
            )
        if timeout <= 0:
            raise RequestValidationError(f"the client timeout must be positive, got {timeout}")
        self.limits = limits
        self._http = Requester(
            auth=auth,
            retry=retry or RetryPolicy(),
            timeout=timeout,
            transport=transport,
            verify=verify,
            limits=limits,
            observer=observer,
            plain_http=httpx.URL(self._endpoint).scheme == "http",
        )

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def api_version(self) -> str:
        return self._api_version

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"ArmClient({self._endpoint!r}, api_version={self._api_version!r})"

    # -- helpers ---------------------------------------------------------------------------

    def _url(self, path: str, version: str, params: Mapping[str, str] | None = None) -> httpx.URL:
        query = {"api-version": version, **(params or {})}
        return httpx.URL(self._endpoint + path, params=query)

    async def _json(self, url: httpx.URL, what: str) -> Any:
        call = Call("GET", url, what=what, idempotent=True)
        try:
            answer = await self._http.send(call)
        except ApiError as exc:
            _arm_hint(exc, self._scope)
            raise
        return decode_json(answer, what)

    async def _pages(
        self, path: str, version: str, what: str, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[ArmPage]:
        """Every page of an ARM list, following nextLink on the endpoint's origin only."""
        guard = PageGuard(what, self.limits)
        url = self._url(path, version, params)
        while True:
            page = ArmPage.from_json(await self._json(url, what), what)
            yield page
            guard.received(len(page.items), page.next_link)
            if not page.next_link:
                return
            url = resolve_link(self._endpoint, page.next_link, {"api-version": version})

    # -- subscriptions ---------------------------------------------------------------------

    async def list_subscriptions(self) -> list[Subscription]:
        found: list[Subscription] = []
        async for page in self._pages(
            "/subscriptions", SUBSCRIPTIONS_API_VERSION, "list subscriptions"
        ):
            found.extend(Subscription.from_json(item) for item in page.items)
        return found

    async def get_subscription(self, subscription_id: str) -> Subscription:
        path = f"/subscriptions/{_segment(subscription_id, 'subscription')}"
        url = self._url(path, SUBSCRIPTIONS_API_VERSION)
        return Subscription.from_json(await self._json(url, "get subscription"))

    # -- session pools ---------------------------------------------------------------------

    async def iter_pool_pages(
        self, subscription_id: str, resource_group: str | None = None
    ) -> AsyncIterator[list[SessionPoolResource]]:
        """The pools of a subscription (or of one of its resource groups), page by page."""
        path = f"/subscriptions/{_segment(subscription_id, 'subscription')}"
        if resource_group is not None:
            path += f"/resourceGroups/{_segment(resource_group, 'resource group')}"
        path += "/providers/Microsoft.App/sessionPools"
        what = "list session pools"
        async for page in self._pages(path, self._api_version, what):
            yield [SessionPoolResource.from_json(item, what) for item in page.items]

    async def list_pools(
        self, subscription_id: str, resource_group: str | None = None
    ) -> list[SessionPoolResource]:
        pools: list[SessionPoolResource] = []
        async for page in self.iter_pool_pages(subscription_id, resource_group):
            pools.extend(page)
        return pools

    async def list_pools_everywhere(self, resource_group: str | None = None) -> PoolListing:
        """Pools in every enabled subscription the caller sees, a few subscriptions at a time.
        A subscription that fails (a 403, a broken answer) is reported in `failures`, the
        others still count; one without the resource group is simply left out."""
        listing = PoolListing(subscriptions=await self.list_subscriptions())
        gate = asyncio.Semaphore(_SUBSCRIPTION_CONCURRENCY)

        async def one(subscription: Subscription) -> list[SessionPoolResource]:
            async with gate:
                try:
                    return await self.list_pools(subscription.subscription_id, resource_group)
                except DynamicSessionsError as exc:
                    missing_group = isinstance(exc, NotFoundError) and resource_group is not None
                    if not missing_group:
                        listing.failures.append((subscription.subscription_id, exc))
                    return []

        enabled = [s for s in listing.subscriptions if s.enabled]
        for pools in await asyncio.gather(*(one(s) for s in enabled)):
            listing.pools.extend(pools)
        return listing

    async def get_pool(self, pool: PoolId | str) -> SessionPoolResource:
        """One pool by its PoolId or ARM id."""
        pool_id = pool if isinstance(pool, PoolId) else PoolId.parse(pool)
        path = (
            f"/subscriptions/{_segment(pool_id.subscription_id, 'subscription')}"
            f"/resourceGroups/{_segment(pool_id.resource_group, 'resource group')}"
            f"/providers/Microsoft.App/sessionPools/{_segment(pool_id.name, 'pool name')}"
        )
        return SessionPoolResource.from_json(
            await self._json(self._url(path, self._api_version), "get session pool")
        )

    async def find_pool(
        self, name: str, *, subscription_id: str | None = None, resource_group: str | None = None
    ) -> SessionPoolResource:
        """The one pool called `name` (case-insensitive, as ARM names are) among those the
        caller can see; RequestValidationError when the name is ambiguous."""
        found = await self.find_pools(
            [name], subscription_id=subscription_id, resource_group=resource_group
        )
        return found[name]

    async def find_pools(
        self,
        names: Sequence[str],
        *,
        subscription_id: str | None = None,
        resource_group: str | None = None,
    ) -> dict[str, SessionPoolResource]:
        """find_pool for several names, listing the pools once."""
        for name in names:
            _segment(name, "pool name")
        if subscription_id and resource_group:
            return {
                name: await self.get_pool(PoolId(subscription_id, resource_group, name))
                for name in names
            }
        unread = 0
        if subscription_id:
            candidates = await self.list_pools(subscription_id, resource_group)
        else:
            listing = await self.list_pools_everywhere(resource_group)
            candidates, unread = listing.pools, len(listing.failures)
        return {name: _only_match(name, candidates, resource_group, unread) for name in names}

    # -- authorization ---------------------------------------------------------------------

    async def role_assignments(
        self, scope: str, *, principal_id: str | None = None
    ) -> list[RoleAssignment]:
        """Assignments that apply at `scope` (an ARM id), inherited ones included; with
        `principal_id`, only those of that principal (and of the groups it is in)."""
        if not scope.startswith("/") or "?" in scope or "#" in scope:
            raise RequestValidationError(f"not an ARM scope: {scope[:200]!r}")
        if principal_id is not None:
            flt = f"assignedTo('{_segment(principal_id, 'principal id')}')"
        else:
            flt = "atScope()"
        path = scope.rstrip("/") + "/providers/Microsoft.Authorization/roleAssignments"
        found: list[RoleAssignment] = []
        async for page in self._pages(
            path, AUTHORIZATION_API_VERSION, "list role assignments", {"$filter": flt}
        ):
            found.extend(RoleAssignment.from_json(item) for item in page.items)
        return found

    async def role_definition(
        self, role_id: str = SESSION_EXECUTOR_ROLE_ID, *, scope: str = ""
    ) -> RoleDefinition:
        """A role definition by its id (a GUID) or its full roleDefinitionId."""
        if role_id.startswith("/"):
            path = role_id.rstrip("/")
        else:
            guid = _segment(role_id, "role definition id")
            path = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        url = self._url(path, AUTHORIZATION_API_VERSION)
        return RoleDefinition.from_json(await self._json(url, "get role definition"))


def _segment(value: str, what: str) -> str:
    """One URL path segment from the user (a name, a GUID), refused when it would change
    the path, and percent-encoded otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise RequestValidationError(f"the {what} is empty")
    text = value.strip()
    if any(ch in text for ch in "/?#\\") or text in (".", "..") or not text.isprintable():
        raise RequestValidationError(f"the {what} {value[:120]!r} holds characters ARM refuses")
    return quote(text, safe="")


def _arm_hint(exc: ApiError, scope: str) -> None:
    """The data-plane hints name the sessions audience and Session Executor; ARM needs others."""
    if exc.status is None:
        return  # no answer from ARM: no token could be had, and that error says why
    if isinstance(exc, AuthenticationError):
        if exc.hint != EMULATOR_TOKEN_HINT:  # the emulator's own 401 says which token it takes
            exc.hint = _arm_401_hint(scope)
    elif isinstance(exc, PermissionDeniedError):
        exc.hint = _ARM_403_HINT
    elif isinstance(exc, NotFoundError):
        exc.hint = _ARM_404_HINT


def _only_match(
    name: str, candidates: Sequence[SessionPoolResource], resource_group: str | None, unread: int
) -> SessionPoolResource:
    """The one pool called `name` (case-insensitive, as ARM names are) among `candidates`."""
    matches = [pool for pool in candidates if pool.name.lower() == name.lower()]
    if len(matches) > 1:
        where = ", ".join(f"{p.resource_group} in {p.subscription_id}" for p in matches[:5])
        raise RequestValidationError(
            f"{len(matches)} session pools are called {name!r} ({where})",
            hint="Name the one you mean with --resource-group (and --subscription).",
        )
    if not matches:
        scope = f" in resource group {resource_group}" if resource_group else ""
        note = f" ({unread} subscriptions could not be read)" if unread else ""
        raise NotFoundError(
            f"no session pool called {name!r}{scope} among the pools you can see{note}",
            status=404,
            hint=_ARM_404_HINT,
        )
    return matches[0]
