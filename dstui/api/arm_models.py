"""What dstui reads from Azure Resource Manager: subscriptions, session pools (with the
properties the pool view shows), role assignments and role definitions.

Parsing is tolerant of later api-versions: unknown fields are kept in `raw`, enum-like values
stay plain strings (a new `containerType` such as `NodeLTS` is shown as it is), and a field of
the wrong type reads as absent. Only what identifies a resource (its `id`) is required; a
resource without one raises MalformedResponseError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dstui.api.constants import SESSION_EXECUTOR_ROLE_ID
from dstui.api.errors import MalformedResponseError, RequestValidationError
from dstui.common.arm_pool_json import POOL_RESOURCE_TYPE

_POOL_ID_RE = re.compile(
    r"\A/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.App/sessionPools/(?P<name>[^/]+)/?\Z",
    re.IGNORECASE,
)
_GROUP_IN_ID_RE = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)
_SUBSCRIPTION_IN_ID_RE = re.compile(r"\A/subscriptions/([^/]+)", re.IGNORECASE)
_ID_POOL_HINT = (
    "A session pool's ARM id reads /subscriptions/<sub>/resourceGroups/<group>/providers/"
    "Microsoft.App/sessionPools/<name> (az containerapp sessionpool show --query id)."
)


@dataclass(frozen=True)
class PoolId:
    """The three parts that name a session pool in ARM."""

    subscription_id: str
    resource_group: str
    name: str

    @property
    def path(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{POOL_RESOURCE_TYPE}/{self.name}"
        )

    @classmethod
    def parse(cls, text: str) -> PoolId:
        """RequestValidationError unless `text` is a session pool's ARM id."""
        match = _POOL_ID_RE.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise RequestValidationError(
                f"not a session pool's ARM id: {str(text)[:200]!r}", hint=_ID_POOL_HINT
            )
        return cls(match["subscription"], match["group"], match["name"])


def is_pool_id(text: str) -> bool:
    return isinstance(text, str) and _POOL_ID_RE.fullmatch(text.strip()) is not None


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _object(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _objects(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _required_id(data: Mapping[str, Any], what: str) -> str:
    resource_id = _text(data, "id")
    if not resource_id:
        raise MalformedResponseError(f"{what}: an entry has no resource id")
    return resource_id


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    display_name: str | None
    state: str | None  # Enabled, Warned, PastDue, Disabled, Deleted (kept as sent)
    tenant_id: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Subscription:
        subscription_id = _text(data, "subscriptionId")
        if not subscription_id:
            match = _SUBSCRIPTION_IN_ID_RE.match(_required_id(data, "list subscriptions"))
            if match is None:
                raise MalformedResponseError("list subscriptions: an entry has no subscription id")
            subscription_id = match[1]
        return cls(
            subscription_id,
            _text(data, "displayName"),
            _text(data, "state"),
            _text(data, "tenantId"),
        )

    @property
    def enabled(self) -> bool:
        return self.state is None or self.state.lower() in ("enabled", "warned", "pastdue")


@dataclass(frozen=True)
class ScaleConfiguration:
    max_concurrent_sessions: int | None
    ready_session_instances: int | None


@dataclass(frozen=True)
class Lifecycle:
    """`lifecycleType` (Timed, OnContainerExit) and its times. The older previews' shape
    (`{executionType, cooldownPeriodInSeconds}`) and the list examples' `type` read the same."""

    type: str | None
    cooldown_s: int | None
    max_alive_s: int | None

    @classmethod
    def from_pool_properties(cls, properties: Mapping[str, Any]) -> Lifecycle:
        dynamic = _object(properties, "dynamicPoolConfiguration")
        config = _object(dynamic, "lifecycleConfiguration") or dynamic
        kind = (
            _text(config, "lifecycleType")
            or _text(config, "type")
            or _text(dynamic, "executionType")
        )
        return cls(
            kind,
            _int(config, "cooldownPeriodInSeconds"),
            _int(config, "maxAlivePeriodInSeconds"),
        )


@dataclass(frozen=True)
class ContainerSpec:
    name: str | None
    image: str | None
    cpu: float | None
    memory: str | None


@dataclass(frozen=True)
class CustomContainerTemplate:
    containers: tuple[ContainerSpec, ...]
    target_port: int | None
    registry_server: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CustomContainerTemplate:
        containers = tuple(
            ContainerSpec(
                _text(item, "name"),
                _text(item, "image"),
                _number(_object(item, "resources"), "cpu"),
                _text(_object(item, "resources"), "memory"),
            )
            for item in _objects(data, "containers")
        )
        return cls(
            containers,
            _int(_object(data, "ingress"), "targetPort"),
            _text(_object(data, "registryCredentials"), "server"),
        )


@dataclass(frozen=True)
class ManagedIdentitySetting:
    identity: str | None  # "system" or a user-assigned identity's ARM id
    lifecycle: str | None  # None, Main, Init, All


@dataclass(frozen=True)
class SessionPoolResource:
    """One `Microsoft.App/sessionPools` resource as ARM describes it."""

    id: str
    name: str
    subscription_id: str | None
    resource_group: str | None
    location: str | None
    container_type: str | None  # PythonLTS, CustomContainer, Shell, NodeLTS, ...
    pool_management_type: str | None  # Dynamic, Manual
    provisioning_state: str | None
    node_count: int | None
    scale: ScaleConfiguration
    lifecycle: Lifecycle
    egress: str | None  # sessionNetworkConfiguration.status: EgressEnabled, EgressDisabled
    managed_identities: tuple[ManagedIdentitySetting, ...]
    custom_container: CustomContainerTemplate | None
    pool_management_endpoint: str | None
    environment_id: str | None
    tags: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any, what: str = "session pool") -> SessionPoolResource:
        if not isinstance(data, dict):
            raise MalformedResponseError(f"{what}: expected a JSON object for a session pool")
        resource_id = _required_id(data, what)
        properties = _object(data, "properties")
        scale = _object(properties, "scaleConfiguration")
        template = properties.get("customContainerTemplate")
        group = _GROUP_IN_ID_RE.search(resource_id)
        subscription = _SUBSCRIPTION_IN_ID_RE.match(resource_id)
        tags = {k: v for k, v in _object(data, "tags").items() if isinstance(v, str)}
        return cls(
            id=resource_id,
            name=_text(data, "name") or resource_id.rstrip("/").rsplit("/", 1)[-1],
            subscription_id=subscription[1] if subscription else None,
            resource_group=group[1] if group else None,
            location=_text(data, "location"),
            container_type=_text(properties, "containerType"),
            pool_management_type=_text(properties, "poolManagementType"),
            provisioning_state=_text(properties, "provisioningState"),
            node_count=_int(properties, "nodeCount"),
            scale=ScaleConfiguration(
                _int(scale, "maxConcurrentSessions"), _int(scale, "readySessionInstances")
            ),
            lifecycle=Lifecycle.from_pool_properties(properties),
            egress=_text(_object(properties, "sessionNetworkConfiguration"), "status"),
            managed_identities=tuple(
                ManagedIdentitySetting(_text(item, "identity"), _text(item, "lifecycle"))
                for item in _objects(properties, "managedIdentitySettings")
            ),
            custom_container=(
                CustomContainerTemplate.from_json(template) if isinstance(template, dict) else None
            ),
            pool_management_endpoint=_text(properties, "poolManagementEndpoint"),
            environment_id=_text(properties, "environmentId"),
            tags=tags,
            raw=data,
        )

    def to_json(self) -> dict[str, Any]:
        """A stable, flat summary for `--json` output (the ARM body itself is in `raw`)."""
        template = self.custom_container
        return {
            "name": self.name,
            "id": self.id,
            "subscriptionId": self.subscription_id,
            "resourceGroup": self.resource_group,
            "location": self.location,
            "containerType": self.container_type,
            "poolManagementType": self.pool_management_type,
            "provisioningState": self.provisioning_state,
            "nodeCount": self.node_count,
            "maxConcurrentSessions": self.scale.max_concurrent_sessions,
            "readySessionInstances": self.scale.ready_session_instances,
            "lifecycleType": self.lifecycle.type,
            "cooldownPeriodInSeconds": self.lifecycle.cooldown_s,
            "maxAlivePeriodInSeconds": self.lifecycle.max_alive_s,
            "egress": self.egress,
            "managedIdentitySettings": [
                {"identity": m.identity, "lifecycle": m.lifecycle} for m in self.managed_identities
            ],
            "customContainer": None
            if template is None
            else {
                "containers": [
                    {"name": c.name, "image": c.image, "cpu": c.cpu, "memory": c.memory}
                    for c in template.containers
                ],
                "targetPort": template.target_port,
                "registryServer": template.registry_server,
            },
            "poolManagementEndpoint": self.pool_management_endpoint,
            "environmentId": self.environment_id,
            "tags": self.tags,
        }


@dataclass(frozen=True)
class RoleAssignment:
    id: str
    name: str | None
    role_definition_id: str | None
    principal_id: str | None
    principal_type: str | None
    scope: str | None
    created_on: str | None  # a recent assignment may still be propagating

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RoleAssignment:
        properties = _object(data, "properties")
        return cls(
            _required_id(data, "list role assignments"),
            _text(data, "name"),
            _text(properties, "roleDefinitionId"),
            _text(properties, "principalId"),
            _text(properties, "principalType"),
            _text(properties, "scope"),
            _text(properties, "createdOn"),
        )

    @property
    def role_guid(self) -> str | None:
        """The role definition's own id (the last segment of roleDefinitionId), lower case."""
        if not self.role_definition_id:
            return None
        return self.role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()

    @property
    def is_session_executor(self) -> bool:
        return self.role_guid == SESSION_EXECUTOR_ROLE_ID


@dataclass(frozen=True)
class RoleDefinition:
    id: str
    name: str | None
    role_name: str | None
    type: str | None  # BuiltInRole, CustomRole

    @classmethod
    def from_json(cls, data: Any) -> RoleDefinition:
        if not isinstance(data, dict):
            raise MalformedResponseError("get role definition: expected a JSON object")
        properties = _object(data, "properties")
        return cls(
            _required_id(data, "get role definition"),
            _text(data, "name"),
            _text(properties, "roleName"),
            _text(properties, "type"),
        )


@dataclass(frozen=True)
class ArmPage:
    """One page of an ARM list: its entries (still JSON) and the link to the next page."""

    items: list[dict[str, Any]]
    next_link: str | None

    @classmethod
    def from_json(cls, data: Any, what: str) -> ArmPage:
        if not isinstance(data, dict) or not isinstance(data.get("value"), list):
            raise MalformedResponseError(f"{what}: the answer is not an ARM list (no 'value')")
        items = data["value"]
        if not all(isinstance(item, dict) for item in items):
            raise MalformedResponseError(f"{what}: an entry of 'value' is not a JSON object")
        link = data.get("nextLink")
        if link is not None and not isinstance(link, str):
            raise MalformedResponseError(f"{what}: 'nextLink' is not a string")
        return cls(items, link or None)
