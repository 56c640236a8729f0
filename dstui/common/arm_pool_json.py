"""A session pool as ARM describes it (`GET …/sessionPools/{name}`): one spelling of the JSON
for the emulator's ARM surface and the in-memory fake the pool picker's tests use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

POOL_RESOURCE_TYPE = "Microsoft.App/sessionPools"


@dataclass(frozen=True)
class CustomContainerJson:
    """What a custom-container pool adds: its environment and its one container."""

    environment_id: str
    image: str
    cpu: float
    memory: str
    target_port: int
    registry: dict[str, str] | None = None


def timed_lifecycle(cooldown_s: int, *, old_shape: bool = False) -> dict[str, Any]:
    """`dynamicPoolConfiguration`: api-versions before 2025 spell it `executionType`."""
    if old_shape:
        return {"executionType": "Timed", "cooldownPeriodInSeconds": cooldown_s}
    return {
        "lifecycleConfiguration": {"lifecycleType": "Timed", "cooldownPeriodInSeconds": cooldown_s}
    }


def pool_resource_json(
    *,
    resource_id: str,
    name: str,
    location: str,
    properties: dict[str, Any],
    custom: CustomContainerJson | None = None,
) -> dict[str, Any]:
    """The resource around `properties`, with a custom container's template added to them."""
    if custom is not None:
        properties["environmentId"] = custom.environment_id
        template: dict[str, Any] = {
            "containers": [
                {
                    "name": name,
                    "image": custom.image,
                    "resources": {"cpu": custom.cpu, "memory": custom.memory},
                }
            ],
            "ingress": {"targetPort": custom.target_port},
        }
        if custom.registry is not None:
            template["registryCredentials"] = custom.registry
        properties["customContainerTemplate"] = template
        properties["managedIdentitySettings"] = [{"identity": "system", "lifecycle": "Main"}]
    return {
        "id": resource_id,
        "name": name,
        "type": POOL_RESOURCE_TYPE,
        "location": location,
        "properties": properties,
    }


def pool_properties(
    *,
    container_type: str,
    provisioning_state: str,
    max_sessions: int,
    ready_sessions: int,
    lifecycle: dict[str, Any],
    egress: bool,
    endpoint: str,
) -> dict[str, Any]:
    """The properties every pool has."""
    return {
        "containerType": container_type,
        "poolManagementType": "Dynamic",
        "provisioningState": provisioning_state,
        "scaleConfiguration": {
            "maxConcurrentSessions": max_sessions,
            "readySessionInstances": ready_sessions,
        },
        "dynamicPoolConfiguration": lifecycle,
        "sessionNetworkConfiguration": {"status": "EgressEnabled" if egress else "EgressDisabled"},
        "poolManagementEndpoint": endpoint,
    }
