"""ArmClient end to end over real HTTP: against `dstui emulator --arm` (the demo pools), and
against hostile servers on loopback for what the emulator never does (403, broken pages)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.api.arm import (
    ARM_SCOPE,
    ArmClient,
    arm_scope,
    make_arm_token_provider,
    normalize_arm_endpoint,
)
from dstui.api.arm_models import PoolId
from dstui.api.constants import SESSION_EXECUTOR_ROLE_ID
from dstui.api.errors import (
    EMULATOR_TOKEN_HINT,
    AuthenticationError,
    EndlessPagingError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RequestValidationError,
)
from dstui.api.limits import ClientLimits
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.emulator.arm_pools import (
    DEMO_SUBSCRIPTION_ID,
    EMULATOR_PRINCIPAL_ID,
    EMULATOR_SUBSCRIPTION_ID,
)
from tests.api.hostile_server import HostileServer, Request, hostile, json_response
from tests.arm_fixtures import arm_emulator  # noqa: F401 - a fixture
from tests.emulator_fixtures import retry_without_waiting

SUB = EMULATOR_SUBSCRIPTION_ID


@pytest.fixture
async def arm(arm_emulator: EmulatorServer) -> AsyncIterator[ArmClient]:  # noqa: F811
    assert arm_emulator.token is not None
    async with ArmClient(
        endpoint=arm_emulator.arm_endpoint,
        auth=StaticTokenProvider(arm_emulator.token),
        retry=retry_without_waiting(),
    ) as client:
        yield client


async def test_subscriptions_and_pools_across_pages(arm: ArmClient) -> None:
    subscriptions = await arm.list_subscriptions()
    assert [s.subscription_id for s in subscriptions] == [SUB, DEMO_SUBSCRIPTION_ID]
    pages = [page async for page in arm.iter_pool_pages(SUB)]
    assert [len(page) for page in pages] == [2, 2]  # two entries a page: nextLink was followed
    names = [pool.name for page in pages for pool in page]
    assert names == ["agents", "notebooks", "shellbox", "webapp"]
    listing = await arm.list_pools_everywhere()
    assert sorted(p.name for p in listing.pools) == sorted([*names, "batch"])
    assert listing.failures == []


async def test_several_names_are_found_in_one_listing(
    arm_emulator: EmulatorServer,  # noqa: F811
) -> None:
    asked: list[str] = []

    class Counting(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            asked.append(request.url.path)
            return await super().handle_async_request(request)

    assert arm_emulator.token is not None
    async with ArmClient(
        endpoint=arm_emulator.arm_endpoint,
        auth=StaticTokenProvider(arm_emulator.token),
        transport=Counting(),
    ) as arm:
        found = await arm.find_pools(["agents", "Batch", "webapp"])
        assert {name: pool.resource_group for name, pool in found.items()} == {
            "agents": "dstui-demo",
            "Batch": "dstui-batch",
            "webapp": "dstui-apps",
        }
        assert asked.count("/subscriptions") == 1
        with pytest.raises(NotFoundError, match="'nosuch'"):
            await arm.find_pools(["agents", "nosuch"])


async def test_subscription_tenant(arm: ArmClient) -> None:
    from dstui.emulator.arm_pools import EMULATOR_TENANT_ID

    assert (await arm.get_subscription(SUB)).tenant_id == EMULATOR_TENANT_ID
    with pytest.raises(NotFoundError):
        await arm.get_subscription("00000000-0000-4000-8000-000000000000")


async def test_pools_by_group_and_one_pool_with_its_properties(arm: ArmClient) -> None:
    in_group = await arm.list_pools(SUB, "dstui-demo")
    assert [p.name for p in in_group] == ["agents", "notebooks", "shellbox"]
    pool = await arm.get_pool(PoolId(SUB, "dstui-apps", "webapp"))
    assert (pool.container_type, pool.location, pool.resource_group) == (
        "CustomContainer",
        "northeurope",
        "dstui-apps",
    )
    assert pool.custom_container is not None and pool.custom_container.target_port == 8080
    assert pool.lifecycle.type == "Timed" and pool.lifecycle.cooldown_s == 3600
    assert pool.provisioning_state == "Succeeded"
    agents = await arm.find_pool("agents")
    assert agents.scale.max_concurrent_sessions == 100
    assert agents.egress == "EgressDisabled"
    assert agents.id == PoolId(SUB, "dstui-demo", "agents").path


async def test_an_older_preview_api_version_reads_the_same(
    arm_emulator: EmulatorServer,  # noqa: F811
) -> None:
    assert arm_emulator.token is not None
    async with ArmClient(
        endpoint=arm_emulator.arm_endpoint,
        api_version="2024-02-02-preview",
        auth=StaticTokenProvider(arm_emulator.token),
    ) as old:
        pool = await old.get_pool(PoolId(SUB, "dstui-demo", "notebooks"))
    assert pool.raw["properties"]["dynamicPoolConfiguration"]["executionType"] == "Timed"
    assert pool.lifecycle.cooldown_s == 1800


async def test_each_pool_endpoint_works_unchanged_with_the_data_plane_client(
    arm: ArmClient,
    arm_emulator: EmulatorServer,  # noqa: F811
) -> None:
    assert arm_emulator.token is not None
    first, second, _shell = await arm.list_pools(SUB, "dstui-demo")
    assert first.pool_management_endpoint and second.pool_management_endpoint
    token = StaticTokenProvider(arm_emulator.token)
    async with (
        SessionsClient(first.pool_management_endpoint, auth=token) as one,
        SessionsClient(second.pool_management_endpoint, auth=token) as other,
    ):
        run = await one.execute("arm-e2e-one", "print(40 + 2)")
        assert run.stdout.strip() == "42"
        assert "arm-e2e-one" in [s.identifier for s in await one.list_sessions()]
        assert "arm-e2e-one" not in [s.identifier for s in await other.list_sessions()]
    again = await arm.get_pool(PoolId(SUB, "dstui-demo", first.name))
    assert again.node_count is not None and again.node_count >= 1


async def test_role_assignments_at_a_pool_scope_include_inherited_ones(arm: ArmClient) -> None:
    webapp = PoolId(SUB, "dstui-apps", "webapp").path  # assigned on its resource group
    [inherited] = await arm.role_assignments(webapp)
    assert inherited.is_session_executor
    assert inherited.scope == f"/subscriptions/{SUB}/resourceGroups/dstui-apps"
    agents = PoolId(SUB, "dstui-demo", "agents").path
    mine = await arm.role_assignments(agents, principal_id=EMULATOR_PRINCIPAL_ID)
    assert [a.scope for a in mine] == [agents]
    assert mine[0].created_on is not None
    assert await arm.role_assignments(agents, principal_id="someone-else") == []
    batch = PoolId(DEMO_SUBSCRIPTION_ID, "dstui-batch", "batch").path
    assert await arm.role_assignments(batch) == []  # the demo's pool without the role
    role = await arm.role_definition(SESSION_EXECUTOR_ROLE_ID)
    assert role.role_name == "Azure ContainerApps Session Executor"


async def test_not_found_names_what_to_check(arm: ArmClient) -> None:
    with pytest.raises(NotFoundError) as missing:
        await arm.get_pool(PoolId(SUB, "dstui-demo", "nosuchpool"))
    assert missing.value.code == "ResourceNotFound"
    assert "dstui pools list" in missing.value.hint
    with pytest.raises(NotFoundError) as group:
        await arm.list_pools(SUB, "no-such-group")
    assert group.value.code == "ResourceGroupNotFound"
    with pytest.raises(NotFoundError, match="no session pool called 'ghost'"):
        await arm.find_pool("ghost")


async def test_a_wrong_token_for_the_emulator_arm_says_to_use_its_token(
    arm_emulator: EmulatorServer,  # noqa: F811
) -> None:
    async with ArmClient(
        endpoint=arm_emulator.arm_endpoint, auth=StaticTokenProvider("not-the-token-at-all")
    ) as wrong:
        with pytest.raises(AuthenticationError) as refused:
            await wrong.list_subscriptions()
    assert refused.value.status == 401
    assert refused.value.code == "InvalidAuthenticationToken"
    assert refused.value.hint == EMULATOR_TOKEN_HINT
    assert "not-the-token-at-all" not in str(refused.value)


GOV = "https://management.usgovcloudapi.net"


async def test_a_sovereign_cloud_gets_tokens_and_hints_for_its_own_scope() -> None:
    assert arm_scope(GOV + "/") == f"{GOV}/.default"
    assert arm_scope("http://127.0.0.1:9") == ARM_SCOPE
    provider = make_arm_token_provider("cli", endpoint=GOV)
    assert getattr(provider, "_scope", None) == f"{GOV}/.default"

    def refuse(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "InvalidAuthenticationToken", "message": "wrong audience"}}
        return httpx.Response(401, json=body, headers={"WWW-Authenticate": "Bearer"})

    async with ArmClient(
        endpoint=GOV, auth=StaticTokenProvider("t"), transport=httpx.MockTransport(refuse)
    ) as arm:
        with pytest.raises(AuthenticationError) as refused:
            await arm.list_subscriptions()
    assert f"{GOV}/.default" in refused.value.hint
    assert "management.azure.com" not in refused.value.hint


@pytest.mark.parametrize("name", [" ..", ".. ", " . "])
async def test_a_dot_segment_padded_with_spaces_is_refused(name: str) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.url}")

    async with ArmClient(
        endpoint=GOV, auth=StaticTokenProvider("t"), transport=httpx.MockTransport(never)
    ) as arm:
        with pytest.raises(RequestValidationError, match="characters ARM refuses"):
            await arm.get_subscription(name)


async def test_403_from_arm_says_which_role_is_missing() -> None:
    async def forbidden(request: Request, writer: asyncio.StreamWriter) -> None:
        error = {
            "error": {
                "code": "AuthorizationFailed",
                "message": "The client does not have authorization to perform action "
                "'Microsoft.App/sessionPools/read'.",
            }
        }
        writer.write(json_response(error, 403))

    async with hostile(forbidden) as server, client_for(server) as arm:
        with pytest.raises(PermissionDeniedError) as denied:
            await arm.list_pools("s1")
    assert denied.value.code == "AuthorizationFailed"
    assert "Reader" in denied.value.hint
    assert "Session Executor" not in denied.value.hint  # the data-plane hint is not ARM's


async def test_a_malformed_page_is_an_error_not_a_partial_list() -> None:
    async def broken_second_page(request: Request, writer: asyncio.StreamWriter) -> None:
        if "$skiptoken" not in request.target:
            link = (
                f"http://127.0.0.1:{server.port}{request.path}?api-version=2025-01-01&$skiptoken=1"
            )
            writer.write(json_response({"value": [pool_json("one")], "nextLink": link}))
        else:
            writer.write(json_response({"value": "not a list"}))

    async with hostile(broken_second_page) as server, client_for(server) as arm:
        with pytest.raises(MalformedResponseError, match="not an ARM list"):
            await arm.list_pools("s1")
    assert len(server.requests) == 2


async def test_a_repeating_or_foreign_next_link_stops() -> None:
    async def repeating(request: Request, writer: asyncio.StreamWriter) -> None:
        link = f"http://127.0.0.1:{server.port}{request.path}?api-version=2025-01-01&$skiptoken=1"
        writer.write(json_response({"value": [pool_json("one")], "nextLink": link}))

    async with hostile(repeating) as server, client_for(server) as arm:
        with pytest.raises(EndlessPagingError, match="repeats"):
            await arm.list_pools("s1")

    async def foreign(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(json_response({"value": [], "nextLink": "https://evil.example/steal"}))

    async with hostile(foreign) as server, client_for(server) as arm:
        with pytest.raises(MalformedResponseError, match="another origin"):
            await arm.list_pools("s1")
    assert all("evil" not in r.target for r in server.requests)

    async def endless(request: Request, writer: asyncio.StreamWriter) -> None:
        page = int(request.query.get("$skiptoken", "0")) + 1
        link = f"/subscriptions/s1/providers/Microsoft.App/sessionPools?$skiptoken={page}"
        writer.write(json_response({"value": [pool_json(f"p{page}")], "nextLink": link}))

    limits = ClientLimits(list_max_pages=5)
    async with hostile(endless) as server, client_for(server, limits=limits) as arm:
        with pytest.raises(EndlessPagingError, match="5 pages"):
            await arm.list_pools("s1")
    assert len(server.requests) == 5


async def test_user_values_never_change_the_path() -> None:
    async with ArmClient(endpoint="http://127.0.0.1:9", auth=None) as arm:
        for bad in ("../x", "a/b", "a?b", "", " "):
            with pytest.raises(RequestValidationError):
                await arm.list_pools(bad)
        with pytest.raises(RequestValidationError, match="ARM id"):
            await arm.get_pool("/subscriptions/s/resourceGroups/g")


def test_endpoint_rules() -> None:
    assert normalize_arm_endpoint("https://management.azure.com/") == (
        "https://management.azure.com"
    )
    assert normalize_arm_endpoint("http://127.0.0.1:8/") == "http://127.0.0.1:8"
    for bad in ("http://management.azure.com", "ftp://x", "https://u:p@h", "https://h/?q=1", ""):
        with pytest.raises(RequestValidationError):
            normalize_arm_endpoint(bad)
    with pytest.raises(RequestValidationError, match="without authentication"):
        ArmClient(endpoint="https://management.azure.com", auth=None)
    with pytest.raises(RequestValidationError, match="unknown auth kind"):
        make_arm_token_provider("bogus")
    provider = make_arm_token_provider("cli")
    assert getattr(provider, "_scope", None) == ARM_SCOPE


def pool_json(name: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.App/sessionPools/{name}",
        "name": name,
        "properties": {"containerType": "PythonLTS"},
    }


def client_for(server: HostileServer, **settings: Any) -> ArmClient:
    return ArmClient(
        endpoint=f"http://127.0.0.1:{server.port}",
        auth=StaticTokenProvider("a-test-token-for-the-hostile-server"),
        retry=retry_without_waiting(),
        **settings,
    )


async def test_a_subscription_that_refuses_is_reported_and_the_others_still_count() -> None:
    async def one_forbidden(request: Request, writer: asyncio.StreamWriter) -> None:
        if request.path == "/subscriptions":
            subs = [{"id": f"/subscriptions/{s}", "subscriptionId": s} for s in ("s1", "s2")]
            writer.write(json_response({"value": subs}))
        elif request.path.startswith("/subscriptions/s2/"):
            writer.write(json_response({"error": {"code": "AuthorizationFailed"}}, 403))
        else:
            writer.write(json_response({"value": [pool_json("one")]}))

    async with hostile(one_forbidden) as server, client_for(server) as arm:
        listing = await arm.list_pools_everywhere()
    assert [p.name for p in listing.pools] == ["one"]
    [(subscription, error)] = listing.failures
    assert subscription == "s2" and isinstance(error, PermissionDeniedError)


async def test_the_arm_surface_over_tls() -> None:
    from dstui.emulator.arm_pools import demo_specs

    server = EmulatorServer(
        EmulatorConfig(ready_sessions=0, tls=True, sandbox="none"), arm_pools=demo_specs()[:1]
    )
    server.start()
    try:
        assert server.arm_endpoint.startswith("https://") and server.ca_file is not None
        assert server.token is not None
        async with ArmClient(
            endpoint=server.arm_endpoint,
            auth=StaticTokenProvider(server.token),
            verify=str(server.ca_file),
        ) as arm:
            [pool] = await arm.list_pools(SUB)
        assert pool.pool_management_endpoint == server.endpoint
        assert server.endpoint.startswith("https://")
    finally:
        server.stop()
