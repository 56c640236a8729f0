"""`dstui pools list|show`: session pools as Azure Resource Manager describes them (not to be
confused with `dstui pool metadata`, which asks one pool's own data plane)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dstui.api.errors import safe_text
from dstui.commands.context import CommandEnv, CommandError
from dstui.commands.output import render_fields, render_table, write_json
from dstui.commands.pool_names import open_arm

if TYPE_CHECKING:
    from dstui.api.arm_models import SessionPoolResource
    from dstui.api.errors import DynamicSessionsError


async def list_pools(env: CommandEnv) -> int:
    """Exits 1 when some subscription could not be listed (the others are still shown)."""
    subscription = getattr(env.args, "subscription", None)
    group = getattr(env.args, "resource_group", None)
    failures: list[tuple[str, DynamicSessionsError]] = []
    async with open_arm(env) as arm:
        if subscription:
            pools = await arm.list_pools(subscription, group)
        else:
            listing = await arm.list_pools_everywhere(group)
            pools, failures = listing.pools, listing.failures
    pools.sort(key=lambda p: (p.subscription_id or "", (p.resource_group or "").lower(), p.name))
    if env.json:
        write_json(
            env.stdout,
            {
                "pools": [pool.to_json() for pool in pools],
                "failures": [_failure_json(sub, exc) for sub, exc in failures],
            },
        )
    else:
        if pools:
            env.out(_pools_table(pools))
        else:
            where = f" in resource group {group}" if group else ""
            env.note(f"no session pools{where} among the subscriptions you can see")
        for sub, exc in failures:
            env.note(f"subscription {sub}: {safe_text(exc.message)}")
    return 1 if failures else 0


async def show_pool(env: CommandEnv) -> int:
    async with open_arm(env) as arm:
        pool = await arm.find_pool(
            env.args.name,
            subscription_id=getattr(env.args, "subscription", None),
            resource_group=getattr(env.args, "resource_group", None),
        )
    if env.json:
        write_json(env.stdout, pool.to_json())
    else:
        env.out(pool_text(pool))
    return 0


async def resolve_pool_id(env: CommandEnv) -> None:
    """A profile that names its pool by ARM id: aim the command at its endpoint."""
    connection = env.connection
    if connection.endpoint is None and connection.pool_id is not None:
        env.use_endpoint(await endpoint_of_pool(env, connection.pool_id))


async def endpoint_of_pool(env: CommandEnv, pool_id: str) -> str:
    """The poolManagementEndpoint of the pool a profile names by ARM id."""
    async with open_arm(env) as arm:
        pool = await arm.get_pool(pool_id)
    if not pool.pool_management_endpoint:
        raise CommandError(
            f"the pool {pool.name!r} has no poolManagementEndpoint yet",
            f"its provisioning state is {pool.provisioning_state or 'unknown'}; wait until it "
            "is Succeeded",
        )
    return pool.pool_management_endpoint


def _failure_json(subscription: str, exc: DynamicSessionsError) -> dict[str, Any]:
    return {
        "subscriptionId": subscription,
        "error": {
            "status": exc.status,
            "code": exc.code,
            "message": safe_text(exc.message),
            "hint": safe_text(exc.hint) if exc.hint else None,
        },
    }


def _pools_table(pools: list[SessionPoolResource]) -> str:
    several = len({p.subscription_id for p in pools}) > 1
    headers = ["NAME", "RESOURCE GROUP", "LOCATION", "TYPE", "STATE", "MAX SESSIONS"]
    if several:
        headers.append("SUBSCRIPTION")
    rows = []
    for pool in pools:
        row = [
            pool.name,
            pool.resource_group or "-",
            pool.location or "-",
            pool.container_type or "-",
            pool.provisioning_state or "-",
            _number(pool.scale.max_concurrent_sessions),
        ]
        if several:
            row.append(pool.subscription_id or "-")
        rows.append(row)
    return render_table(headers, rows)


def pool_text(pool: SessionPoolResource) -> str:
    lifecycle = pool.lifecycle
    fields = [
        ("name", pool.name),
        ("id", pool.id),
        ("subscription", pool.subscription_id or "-"),
        ("resource group", pool.resource_group or "-"),
        ("location", pool.location or "-"),
        ("container type", pool.container_type or "-"),
        ("management type", pool.pool_management_type or "-"),
        ("provisioning", pool.provisioning_state or "-"),
        ("nodes", _number(pool.node_count)),
        ("max sessions", _number(pool.scale.max_concurrent_sessions)),
        ("ready sessions", _number(pool.scale.ready_session_instances)),
        ("lifecycle", lifecycle.type or "-"),
        ("cooldown", _seconds(lifecycle.cooldown_s)),
        ("max alive", _seconds(lifecycle.max_alive_s)),
        ("egress", pool.egress or "-"),
        (
            "identities",
            ", ".join(f"{m.identity} ({m.lifecycle})" for m in pool.managed_identities) or "-",
        ),
    ]
    template = pool.custom_container
    if template is not None:
        for container in template.containers:
            resources = " ".join(
                part
                for part in (
                    f"{container.cpu:g} CPU" if container.cpu is not None else "",
                    container.memory or "",
                )
                if part
            )
            described = container.image or "-"
            fields.append(("image", f"{described} ({resources})" if resources else described))
        fields.append(("target port", _number(template.target_port)))
        if template.registry_server:
            fields.append(("registry", template.registry_server))
    fields.append(("endpoint", pool.pool_management_endpoint or "-"))
    return render_fields(fields)


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)


def _seconds(value: int | None) -> str:
    return "-" if value is None else f"{value} s"
