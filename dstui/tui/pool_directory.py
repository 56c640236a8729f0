"""Where the pool picker's pools come from (ARM, or the demo's FakeArm) and how a picked pool
is opened: a data-plane client built the same way as the one the app started with. Widgets and
screens go through this module, so they never build an HTTP client themselves."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dstui.api.errors import RequestValidationError
from dstui.api.models import Session
from dstui.api.protocol import SessionPoolAPI
from dstui.tui.formatting import Clock
from dstui.tui.pool_type import CUSTOM_CONTAINER

# ARM is imported when the picker first lists pools: a pool endpoint's start-up needs none of it.
if TYPE_CHECKING:
    from dstui.api.arm import PoolListing
    from dstui.api.arm_models import SessionPoolResource

NO_ARM = "pool properties need ARM (--arm-endpoint or DSTUI_ARM_ENDPOINT)"
NO_ARM_PICKER = "the pool picker needs ARM (--arm-endpoint or DSTUI_ARM_ENDPOINT)"


class PoolSwitcher(Protocol):
    """What the picker and the across-pools view ask of the app (DstuiApp)."""

    def open_pool(self, resource: SessionPoolResource, session: Session | None = None) -> bool: ...

    def loaded_in_open_pool(self) -> int | None: ...

    def has_open_pool(self) -> bool: ...

    def refresh_open_pool(self) -> None: ...


class ArmPools(Protocol):
    """What the picker needs of ArmClient (FakeArm answers the same)."""

    @property
    def endpoint(self) -> str: ...

    async def list_pools_everywhere(self, resource_group: str | None = None) -> PoolListing: ...

    async def aclose(self) -> None: ...


ClientFactory = Callable[[str, "SessionPoolResource"], SessionPoolAPI]


def has_session_list(pool: SessionPoolResource) -> bool:
    """Custom-container pools have no data-plane session list (nor files)."""
    return (pool.container_type or "") != CUSTOM_CONTAINER


def pool_header(pool: SessionPoolResource) -> str:
    """`agents · dstui-demo · westus2`, as the header shows an ARM-style endpoint."""
    parts = (pool.name, pool.resource_group, pool.location)
    return " · ".join(part for part in parts if part)


def pool_key(pool: SessionPoolResource) -> str:
    """A stable key for what is kept per pool (drafts): its ARM id, lower case."""
    return pool.id.lower()


def drafts_dir(data_dir: Path, key: str) -> Path:
    """Drafts of the pool first opened stay where they always were; a picked pool's drafts
    are its own (the same identifier in two pools names two sessions)."""
    if not key:
        return data_dir / "drafts"
    return data_dir / "drafts" / hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class PoolDirectory:
    """The picker's pools and the clients of the pools picked. `arm` may be a factory: the
    ARM client (an HTTP client, its TLS context) is then built when first needed, not at
    start-up."""

    def __init__(
        self,
        arm: ArmPools | Callable[[], ArmPools],
        build_client: ClientFactory,
        *,
        label_prefix: str = "",  # "demo · " for the fake pools
        keep_clients: bool = False,  # the demo's fake pools keep their state across switches
    ) -> None:
        self._arm: ArmPools | None = None if callable(arm) else arm
        self._make_arm = arm if callable(arm) else None
        self.build_client = build_client
        self.label_prefix = label_prefix
        self.keep_clients = keep_clients
        self._kept: dict[str, SessionPoolAPI] = {}

    @property
    def arm(self) -> ArmPools:
        if self._arm is None:
            assert self._make_arm is not None
            self._arm = self._make_arm()
        return self._arm

    @arm.setter
    def arm(self, arm: ArmPools) -> None:
        self._arm = arm

    async def list_pools(self) -> PoolListing:
        listing = await self.arm.list_pools_everywhere()
        listing.pools.sort(
            key=lambda p: ((p.subscription_id or ""), (p.resource_group or "").lower(), p.name)
        )
        return listing

    def label(self, pool: SessionPoolResource) -> str:
        return self.label_prefix + pool_header(pool)

    def open(self, pool: SessionPoolResource) -> SessionPoolAPI:
        """A client aimed at the pool's poolManagementEndpoint; RequestValidationError when
        the pool has none yet (still provisioning) or it is not a valid endpoint."""
        endpoint = pool.pool_management_endpoint
        if not endpoint:
            raise RequestValidationError(
                f"the pool {pool.name!r} has no poolManagementEndpoint yet",
                hint=f"Its provisioning state is {pool.provisioning_state or 'unknown'}; wait "
                "until it is Succeeded.",
            )
        kept = self._kept.get(pool_key(pool))
        if kept is not None:
            return kept
        client = self.build_client(endpoint, pool)
        if self.keep_clients:
            self._kept[pool_key(pool)] = client
        return client

    async def release(self, client: SessionPoolAPI) -> None:
        """The client is no longer used (its pool was left); kept demo pools stay open."""
        if client not in self._kept.values():
            await client.aclose()

    async def aclose(self) -> None:
        for client in self._kept.values():
            await client.aclose()
        self._kept.clear()
        if self._arm is not None:
            await self._arm.aclose()


def demo_directory(clock: Clock | None = None) -> PoolDirectory:
    """The demo's five pools (FakeArm) with a FakePool behind each: fake data, no network."""
    from dstui.api.fake_arm import FakeArm
    from dstui.api.fake_pool import FakePool, frozen_clock

    sizes = {"agents": 42, "notebooks": 7, "shellbox": 3, "batch": 18}

    def build(endpoint: str, pool: SessionPoolResource) -> SessionPoolAPI:
        return FakePool(
            session_count=sizes.get(pool.name, 5),
            endpoint=endpoint,
            clock=clock or frozen_clock,
            container_type=pool.container_type or "PythonLTS",
        )

    return PoolDirectory(FakeArm(), build, label_prefix="demo · ", keep_clients=True)
