"""Parsing ARM answers: the official examples (tests/api/arm_examples), older and later shapes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from dstui.api.arm_models import (
    ArmPage,
    PoolId,
    RoleAssignment,
    RoleDefinition,
    SessionPoolResource,
    Subscription,
    is_pool_id,
)
from dstui.api.constants import SESSION_EXECUTOR_ROLE_ID
from dstui.api.errors import MalformedResponseError, RequestValidationError

EXAMPLES = Path(__file__).parent / "arm_examples"
POOL_ID = (
    "/subscriptions/34adfa4f-cedf-4dc0-ba29-b6d1a69ab345/resourceGroups/rg/providers/"
    "Microsoft.App/sessionPools/testsessionpool"
)


def body(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())["responses"]["200"]["body"]


def test_the_official_get_example_reads_every_property() -> None:
    pool = SessionPoolResource.from_json(body("SessionPools_Get"))
    assert pool.id == POOL_ID
    assert (pool.name, pool.resource_group, pool.location) == ("testsessionpool", "rg", "East US")
    assert pool.subscription_id == "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345"
    assert pool.container_type == "CustomContainer"
    assert pool.pool_management_type == "Dynamic"
    assert pool.provisioning_state == "Succeeded"
    assert pool.node_count == 1
    assert pool.scale.max_concurrent_sessions == 500
    assert pool.scale.ready_session_instances == 100
    assert (pool.lifecycle.type, pool.lifecycle.cooldown_s) == ("Timed", 600)
    assert pool.lifecycle.max_alive_s is None
    assert pool.egress == "EgressEnabled"
    assert [(m.identity, m.lifecycle) for m in pool.managed_identities] == [("system", "Main")]
    template = pool.custom_container
    assert template is not None
    assert template.target_port == 80
    assert template.registry_server == "test.azurecr.io"
    [container] = template.containers
    assert (container.image, container.cpu, container.memory) == (
        "repo/testcontainer:v4",
        0.25,
        "0.5Gi",
    )
    assert pool.pool_management_endpoint == (
        "https://testsessionpool.agreeableriver-3d30edf1.eastus.azurecontainerapps.io"
    )
    assert pool.environment_id is not None and pool.environment_id.endswith("/demokube")


@pytest.mark.parametrize(
    "name", ["SessionPools_ListBySubscription", "SessionPools_ListByResourceGroup"]
)
def test_the_list_examples_spell_the_lifecycle_type_differently_and_still_read(name: str) -> None:
    page = ArmPage.from_json(body(name), "list session pools")
    assert page.next_link is None  # the examples send "nextLink": null
    [pool] = [SessionPoolResource.from_json(item) for item in page.items]
    assert pool.lifecycle.type == "Timed"  # `type`, where the GET example says `lifecycleType`
    assert pool.lifecycle.cooldown_s == 600
    assert pool.managed_identities == ()


def test_a_later_preview_keeps_unknown_fields_and_values() -> None:
    data = body("SessionPools_Get_2025-10-02-preview")
    data["properties"]["containerType"] = "NodeLTS"  # a value the stable enum does not know
    data["properties"]["mcpServerSettings"] = {"isMCPServerEnabled": True}
    pool = SessionPoolResource.from_json(data)
    assert pool.container_type == "NodeLTS"
    assert pool.raw["properties"]["templateUpdateStatus"]["activeTemplate"]["details"] == "Running"
    assert pool.raw["properties"]["mcpServerSettings"] == {"isMCPServerEnabled": True}
    assert pool.to_json()["containerType"] == "NodeLTS"


def test_the_older_preview_lifecycle_shape() -> None:
    data = copy.deepcopy(body("SessionPools_Get"))
    data["properties"]["dynamicPoolConfiguration"] = {
        "executionType": "Timed",
        "cooldownPeriodInSeconds": 310,
    }
    lifecycle = SessionPoolResource.from_json(data).lifecycle
    assert (lifecycle.type, lifecycle.cooldown_s) == ("Timed", 310)


def test_a_field_of_the_wrong_type_reads_as_absent() -> None:
    data = copy.deepcopy(body("SessionPools_Get"))
    data["properties"]["scaleConfiguration"] = {"maxConcurrentSessions": "many"}
    data["properties"]["nodeCount"] = True
    data["properties"]["customContainerTemplate"] = ["not", "an", "object"]
    data["properties"]["managedIdentitySettings"] = "system"
    pool = SessionPoolResource.from_json(data)
    assert pool.scale.max_concurrent_sessions is None
    assert pool.node_count is None
    assert pool.custom_container is None
    assert pool.managed_identities == ()


@pytest.mark.parametrize("bad", [[], "pool", {"name": "x"}, {"id": 7}])
def test_a_pool_without_an_id_is_malformed(bad: Any) -> None:
    with pytest.raises(MalformedResponseError):
        SessionPoolResource.from_json(bad)


@pytest.mark.parametrize(
    "page",
    [
        {},
        {"value": {}},
        {"value": [1]},
        {"value": [], "nextLink": 5},
        ["value"],
    ],
)
def test_a_page_that_is_not_an_arm_list_is_malformed(page: Any) -> None:
    with pytest.raises(MalformedResponseError):
        ArmPage.from_json(page, "list session pools")


def test_pool_ids_parse_and_refuse() -> None:
    parsed = PoolId.parse(POOL_ID)
    assert (parsed.subscription_id, parsed.resource_group, parsed.name) == (
        "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345",
        "rg",
        "testsessionpool",
    )
    assert parsed.path == POOL_ID
    assert is_pool_id(POOL_ID.lower())  # ARM ids are case-insensitive
    for bad in ("", "testsessionpool", POOL_ID + "/extra", POOL_ID.replace("sessionPools", "x")):
        assert not is_pool_id(bad)
        with pytest.raises(RequestValidationError, match="ARM id"):
            PoolId.parse(bad)


def test_the_subscriptions_example() -> None:
    page = ArmPage.from_json(body("GetSubscriptions"), "list subscriptions")
    subscriptions = [Subscription.from_json(item) for item in page.items]
    assert [s.display_name for s in subscriptions] == [
        "Example Subscription",
        "Example Subscription2",
    ]
    assert subscriptions[0].subscription_id == "291bba3f-e0a5-47bc-a099-3bdcb2a50a05"
    assert all(s.enabled for s in subscriptions)
    assert not Subscription.from_json({"id": "/subscriptions/x", "state": "Disabled"}).enabled


def test_the_role_assignment_and_definition_examples() -> None:
    page = ArmPage.from_json(body("RoleAssignments_ListForScope"), "list role assignments")
    [assignment] = [RoleAssignment.from_json(item) for item in page.items]
    assert assignment.principal_id == "ce2ce14e-85d7-4629-bdbc-454d0519d987"
    assert assignment.role_guid == "0b5fe924-9a61-425c-96af-cfe6e287ca2d"
    assert assignment.scope == "/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2"
    assert not assignment.is_session_executor
    executor = RoleAssignment.from_json(
        {
            "id": "/x/providers/Microsoft.Authorization/roleAssignments/1",
            "properties": {
                "roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/"
                f"roleDefinitions/{SESSION_EXECUTOR_ROLE_ID.upper()}"
            },
        }
    )
    assert executor.is_session_executor
    definition = RoleDefinition.from_json(body("GetRoleDefinitionById"))
    assert (definition.role_name, definition.type) == ("Role name", "roletype")
