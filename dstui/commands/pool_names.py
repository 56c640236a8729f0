"""Pool names to endpoints through ARM, for commands that take `--pool NAME`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dstui.commands.context import CommandEnv, CommandError
from dstui.config import ARM_TOKEN_ENV_VAR, TOKEN_ENV_VAR

if TYPE_CHECKING:
    from dstui.api.arm import ArmClient
    from dstui.api.arm_models import SessionPoolResource


def arm_endpoint(env: CommandEnv) -> str | None:
    """--arm-endpoint, else DSTUI_ARM_ENDPOINT, else the profile's arm_endpoint (as the
    connection resolved them); None when none is given."""
    return env.connection.arm_endpoint


def open_arm(env: CommandEnv, endpoint: str | None = None) -> ArmClient:
    """An ArmClient with the command's credential kind, for the ARM scope."""
    from dstui.api.arm import (
        DEFAULT_ARM_API_VERSION,
        DEFAULT_ARM_ENDPOINT,
        ArmClient,
        make_arm_token_provider,
    )

    connection = env.connection
    uses_env_token = connection.auth == "token" and connection.token_file is None
    # A static token for the sessions audience is no good for ARM: DSTUI_ARM_TOKEN wins.
    token = env.environ.get(ARM_TOKEN_ENV_VAR) or env.environ.get(TOKEN_ENV_VAR)
    url = endpoint or arm_endpoint(env) or DEFAULT_ARM_ENDPOINT
    provider = make_arm_token_provider(
        connection.auth,
        token=token if uses_env_token else None,
        token_file=connection.token_file,
        endpoint=url,
    )
    return ArmClient(
        endpoint=url,
        api_version=getattr(env.args, "arm_api_version", None) or DEFAULT_ARM_API_VERSION,
        auth=provider,
        verify=connection.tls_verify,
    )


async def resolve_pool_names(
    env: CommandEnv, names: Sequence[str]
) -> dict[str, SessionPoolResource]:
    """name → its pool resource (with a poolManagementEndpoint), for every pool name among
    those the caller can see; the pools are listed once for all the names."""
    async with open_arm(env) as arm:
        found = await arm.find_pools(
            names, resource_group=getattr(env.args, "resource_group", None)
        )
    for name, pool in found.items():
        if not pool.pool_management_endpoint:
            raise CommandError(
                f"the pool {name!r} has no poolManagementEndpoint yet",
                f"its provisioning state is {pool.provisioning_state or 'unknown'}; "
                "wait until it is Succeeded",
            )
    return found
