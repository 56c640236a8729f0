"""The session pools `dstui emulator --arm` hosts: what each one is called in ARM, where it
lives, its type and limits, and who holds the Session Executor role on it.

A pools file (TOML or JSON) lists them; without one the emulator hosts one Python pool, and
`--arm-demo` a handful across two resource groups and two subscriptions:

    [[pools]]
    name = "agents"                # ARM rule: 3-63 characters, ^[a-z][a-z0-9]*$
    resource_group = "dstui-demo"
    location = "westus2"
    container_type = "PythonLTS"    # or Shell, CustomContainer
    max_sessions = 100
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from dstui.common.files import UnreadableFile, read_at_most
from dstui.emulator.config import CONTAINER_TYPES, EmulatorConfig

EMULATOR_SUBSCRIPTION_ID = "00000000-0000-4000-8000-00000000d570"
DEMO_SUBSCRIPTION_ID = "00000000-0000-4000-8000-00000000d571"
EMULATOR_TENANT_ID = "00000000-0000-4000-8000-0000000000e0"
# The principal the emulator's token stands for (it carries no claims of its own).
EMULATOR_PRINCIPAL_ID = "00000000-0000-4000-8000-0000000000c1"
DEFAULT_GROUP = "dstui-emulator"
DEFAULT_LOCATION = "local"
MAX_POOLS = 64
MAX_FILE_BYTES = 256 * 1024

AssignmentScope = Literal["pool", "resourceGroup", "subscription", "none"]
ASSIGNMENT_SCOPES: tuple[AssignmentScope, ...] = ("pool", "resourceGroup", "subscription", "none")

_NAME_RE = re.compile(r"\A[a-z][a-z0-9]{2,62}\Z")
_GROUP_RE = re.compile(r"\A[-\w._()]{1,90}(?<!\.)\Z")
_GUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
_LOCATION_RE = re.compile(r"\A[A-Za-z0-9 ]{1,40}\Z")


class ArmPoolsError(ValueError):
    """A pools file that cannot be used; the message names the file, the pool and the key."""


@dataclass(frozen=True)
class ArmPoolSpec:
    """One hosted pool. Limits left as None take the emulator's own settings (the first pool)
    or sensible small ones (the others: no pre-started kernels, to spare the machine)."""

    name: str
    resource_group: str = DEFAULT_GROUP
    subscription_id: str = EMULATOR_SUBSCRIPTION_ID
    location: str = DEFAULT_LOCATION
    container_type: str = "PythonLTS"
    max_sessions: int | None = None
    ready_sessions: int | None = None
    cooldown_s: float | None = None
    egress: bool | None = None
    # Where the caller's Session Executor assignment sits ("none": not assigned, so the pool's
    # data plane answers 403, for the doctor's missing-role path).
    executor_scope: AssignmentScope = "pool"
    # False: the caller may not read the pool in ARM (no Reader): GET and role assignments at
    # its scope answer 403 AuthorizationFailed, and listings leave it out.
    reader: bool = True
    # CustomContainer: what ARM reports as the template (the emulator's command runs instead).
    image: str = "dstui/emulated-app:latest"
    target_port: int | None = None
    container_command: str | None = None  # CustomContainer: the app the emulator runs

    @property
    def resource_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.App/sessionPools/{self.name}"
        )

    @property
    def endpoint_path(self) -> str:
        """Where its data plane is served, as the hosted service shapes pool endpoints."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/sessionPools/{self.name}"
        )

    def emulator_config(self, base: EmulatorConfig, *, first: bool) -> EmulatorConfig:
        """The emulator settings of this pool's data plane."""
        changes: dict[str, Any] = {
            "pool_name": self.name,
            "max_sessions": self.max_sessions or base.max_sessions,
            "cooldown_s": self.cooldown_s or base.cooldown_s,
            "egress": base.egress if self.egress is None else self.egress,
            "ready_sessions": self.ready_sessions
            if self.ready_sessions is not None
            else (base.ready_sessions if first else 0),
        }
        known = {f.name for f in fields(EmulatorConfig)}
        if "container_type" in known:
            changes["container_type"] = self.container_type
        for name in ("target_port", "container_command"):
            if name in known and getattr(self, name) is not None:
                changes[name] = getattr(self, name)
        return replace(base, **changes)


def default_specs(config: EmulatorConfig) -> list[ArmPoolSpec]:
    """One pool, named and typed as the emulator's own flags say."""
    name = config.pool_name if _NAME_RE.fullmatch(config.pool_name) else "emulator"
    return [ArmPoolSpec(name=name, container_type=getattr(config, "container_type", "PythonLTS"))]


def demo_specs() -> list[ArmPoolSpec]:
    """Several pools of different types, groups, regions and subscriptions (for the picker)."""
    return [
        ArmPoolSpec("agents", "dstui-demo", location="westus2", max_sessions=100),
        ArmPoolSpec("notebooks", "dstui-demo", location="westus2", cooldown_s=1800.0),
        ArmPoolSpec("shellbox", "dstui-demo", location="eastus", container_type="Shell"),
        ArmPoolSpec(
            "webapp",
            "dstui-apps",
            location="northeurope",
            container_type="CustomContainer",
            target_port=8080,
            container_command="python3 -m http.server $PORT --bind 127.0.0.1",
            executor_scope="resourceGroup",
        ),
        ArmPoolSpec(
            "batch",
            "dstui-batch",
            subscription_id=DEMO_SUBSCRIPTION_ID,
            location="swedencentral",
            max_sessions=20,
            executor_scope="none",
        ),
    ]


def load_specs(path: Path) -> list[ArmPoolSpec]:
    """The pools a TOML or JSON file lists (`pools = [...]`), each checked against ARM's
    naming rules; ArmPoolsError says what is wrong and where."""
    try:
        raw = read_at_most(path, MAX_FILE_BYTES, f"larger than {MAX_FILE_BYTES // 1024} KiB")
    except UnreadableFile as exc:
        raise ArmPoolsError(f"{path}: {exc}") from None
    try:
        text = raw.decode("utf-8")
        document = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError is a ValueError
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ArmPoolsError(f"{path}: not valid {kind}: {exc}") from None
    pools = document.get("pools") if isinstance(document, dict) else None
    if not isinstance(pools, list) or not pools:
        raise ArmPoolsError(f"{path}: expected a non-empty list 'pools' of tables")
    if len(pools) > MAX_POOLS:
        raise ArmPoolsError(f"{path}: {len(pools)} pools; at most {MAX_POOLS} can be hosted")
    specs = [_spec(path, index, entry) for index, entry in enumerate(pools)]
    _check_unique(path, specs)
    return specs


_FIELDS = {f.name: f for f in fields(ArmPoolSpec)}


def _spec(path: Path, index: int, entry: Any) -> ArmPoolSpec:
    where = f"{path}: pools[{index}]"
    if not isinstance(entry, dict):
        raise ArmPoolsError(f"{where}: expected a table")
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise ArmPoolsError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_FIELDS)})")
    if "name" not in entry:
        raise ArmPoolsError(f"{where}: 'name' is required")
    where = f"{path}: pool {str(entry['name'])[:70]!r}"
    values = {key: _checked(where, key, value) for key, value in entry.items()}
    app_keys = {"container_command", "target_port"} & set(values)
    if values.get("container_type") == "CustomContainer" and len(app_keys) < 2:
        raise ArmPoolsError(
            f"{where}: a CustomContainer pool needs 'container_command' and "
            "'target_port' (the app each session runs, and its port)"
        )
    if values.get("container_type") != "CustomContainer" and app_keys:
        raise ArmPoolsError(
            f"{where}: 'container_command' and 'target_port' are for CustomContainer pools"
        )
    return ArmPoolSpec(**values)


def _checked(where: str, key: str, value: Any) -> Any:
    def fail(expected: str) -> ArmPoolsError:
        return ArmPoolsError(f"{where}: '{key}' must be {expected}, got {str(value)[:80]!r}")

    text_rules: Mapping[str, tuple[re.Pattern[str], str]] = {
        "name": (_NAME_RE, "3-63 lower-case letters and digits, starting with a letter"),
        "resource_group": (_GROUP_RE, "1-90 letters, digits, '-', '_', '.', '(' or ')'"),
        "subscription_id": (_GUID_RE, "a GUID"),
        "location": (_LOCATION_RE, "a region name such as westus2"),
    }
    if key in text_rules:
        pattern, expected = text_rules[key]
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise fail(expected)
        return value
    if key == "container_type":
        if value not in CONTAINER_TYPES:
            raise fail(f"one of {', '.join(CONTAINER_TYPES)}")
        return value
    if key == "executor_scope":
        if value not in ASSIGNMENT_SCOPES:
            raise fail(f"one of {', '.join(ASSIGNMENT_SCOPES)}")
        return value
    if key in ("egress", "reader"):
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if key in ("image", "container_command"):
        if not isinstance(value, str) or not value.strip() or len(value) > 1000:
            raise fail("a non-empty string")
        return value
    if key == "cooldown_s":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise fail("a positive number of seconds")
        return float(value)
    bounds = {"max_sessions": (1, 10**6), "ready_sessions": (0, 1000), "target_port": (1, 65535)}
    low, high = bounds[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(f"a whole number from {low} to {high}")
    return value


def _check_unique(path: Path, specs: list[ArmPoolSpec]) -> None:
    seen: set[tuple[str, str, str]] = set()
    for spec in specs:
        key = (spec.subscription_id, spec.resource_group.lower(), spec.name)
        if key in seen:
            raise ArmPoolsError(
                f"{path}: two pools are called {spec.name!r} in resource group "
                f"{spec.resource_group!r}"
            )
        seen.add(key)
