"""FakeArm: an in-memory stand-in for ArmClient's pool listing, for `--demo`, snapshots and
benchmarks. Pools are built as ARM JSON and parsed by SessionPoolResource, so the picker sees
exactly what a real answer would give it. A subscription can be made to fail (403)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dstui.api.arm import PoolListing
from dstui.api.arm_models import PoolId, SessionPoolResource, Subscription
from dstui.api.errors import NotFoundError, PermissionDeniedError
from dstui.common.arm_pool_json import (
    CustomContainerJson,
    pool_properties,
    pool_resource_json,
    timed_lifecycle,
)
from dstui.common.lifecycle import AsyncClosing

FAKE_ARM_ENDPOINT = "https://management.azure.example"
DEMO_SUBSCRIPTIONS = (
    ("8f0c2b5e-4a51-4d6b-9c3e-1a2b3c4d5e6f", "dstui demo"),
    ("2d7e9a10-6b3c-4f8e-a1d2-9e8f7a6b5c4d", "dstui batch"),
)


@dataclass(frozen=True)
class FakePoolSpec:
    name: str
    resource_group: str
    location: str
    container_type: str = "PythonLTS"
    subscription: int = 0  # index into the subscriptions
    max_sessions: int = 100
    ready_sessions: int = 0
    cooldown_s: int = 300
    egress: bool = False
    node_count: int | None = None
    provisioning_state: str = "Succeeded"
    target_port: int = 8080


def demo_pool_specs() -> list[FakePoolSpec]:
    """Five pools of three types in two subscriptions (the emulator's --arm-demo shape)."""
    return [
        FakePoolSpec("agents", "dstui-demo", "westus2", max_sessions=50, node_count=40),
        FakePoolSpec("notebooks", "dstui-demo", "westus2", cooldown_s=1800, node_count=3),
        FakePoolSpec("shellbox", "dstui-demo", "eastus", container_type="Shell", egress=True),
        FakePoolSpec(
            "webapp", "dstui-apps", "northeurope", container_type="CustomContainer", node_count=2
        ),
        FakePoolSpec("batch", "dstui-batch", "swedencentral", subscription=1, max_sessions=20),
    ]


def pool_json(spec: FakePoolSpec, subscription_id: str) -> dict[str, Any]:
    """One session pool as `GET …/sessionPools/{name}` answers (api-version 2025-01-01)."""
    pool_id = PoolId(subscription_id, spec.resource_group, spec.name)
    group = f"/subscriptions/{subscription_id}/resourceGroups/{spec.resource_group}"
    properties = pool_properties(
        container_type=spec.container_type,
        provisioning_state=spec.provisioning_state,
        max_sessions=spec.max_sessions,
        ready_sessions=spec.ready_sessions,
        lifecycle=timed_lifecycle(spec.cooldown_s),
        egress=spec.egress,
        endpoint=f"https://{spec.location}.dynamicsessions.example{group}/sessionPools/{spec.name}",
    )
    properties["environmentId"] = None
    if spec.node_count is not None:
        properties["nodeCount"] = spec.node_count
    custom = None
    if spec.container_type == "CustomContainer":
        custom = CustomContainerJson(
            environment_id=f"{group}/providers/Microsoft.App/managedEnvironments/demo-env",
            image=f"demo.azurecr.io/{spec.name}:1.4",
            cpu=0.5,
            memory="1Gi",
            target_port=spec.target_port,
            registry={"server": "demo.azurecr.io", "identity": "system"},
        )
    return pool_resource_json(
        resource_id=pool_id.path,
        name=spec.name,
        location=spec.location,
        properties=properties,
        custom=custom,
    )


class FakeArm(AsyncClosing):
    """The part of ArmClient the pool picker uses, answered from memory."""

    def __init__(
        self,
        specs: Sequence[FakePoolSpec] | None = None,
        *,
        subscriptions: Sequence[tuple[str, str]] = DEMO_SUBSCRIPTIONS,
        failing_subscriptions: Sequence[int] = (),
        latency: float = 0.0,
    ) -> None:
        self.endpoint = FAKE_ARM_ENDPOINT
        self.latency = latency
        self._subscriptions = [
            Subscription(sub_id, name, "Enabled", None) for sub_id, name in subscriptions
        ]
        self._failing = {
            self._subscriptions[index].subscription_id for index in failing_subscriptions
        }
        self._pools: list[SessionPoolResource] = [
            SessionPoolResource.from_json(
                pool_json(spec, self._subscriptions[spec.subscription].subscription_id)
            )
            for spec in (demo_pool_specs() if specs is None else specs)
        ]
        self.calls = 0
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True

    async def _wait(self) -> None:
        self.calls += 1
        await asyncio.sleep(self.latency)

    async def list_subscriptions(self) -> list[Subscription]:
        await self._wait()
        return list(self._subscriptions)

    async def list_pools(
        self, subscription_id: str, resource_group: str | None = None
    ) -> list[SessionPoolResource]:
        await self._wait()
        if subscription_id in self._failing:
            raise PermissionDeniedError(
                "AuthorizationFailed: no authorization to perform action "
                "'Microsoft.App/sessionPools/read'",
                status=403,
                code="AuthorizationFailed",
            )
        return [
            pool
            for pool in self._pools
            if pool.subscription_id == subscription_id
            and (resource_group is None or (pool.resource_group or "") == resource_group)
        ]

    async def list_pools_everywhere(self, resource_group: str | None = None) -> PoolListing:
        listing = PoolListing(subscriptions=await self.list_subscriptions())
        for subscription in listing.subscriptions:
            try:
                listing.pools.extend(
                    await self.list_pools(subscription.subscription_id, resource_group)
                )
            except PermissionDeniedError as exc:
                listing.failures.append((subscription.subscription_id, exc))
        return listing

    async def get_pool(self, pool: PoolId | str) -> SessionPoolResource:
        await self._wait()
        wanted = (pool if isinstance(pool, PoolId) else PoolId.parse(pool)).path.lower()
        for resource in self._pools:
            if resource.id.lower() == wanted:
                return resource
        raise NotFoundError(f"no session pool {wanted}", status=404, code="ResourceNotFound")
