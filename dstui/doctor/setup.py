"""DoctorInputs from a resolved Connection: what the CLI and a TUI screen both start from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from dstui.api.validation import is_loopback_endpoint
from dstui.config import ARM_TOKEN_ENV_VAR, TOKEN_ENV_VAR, Connection
from dstui.doctor.credential import TokenSource
from dstui.doctor.runner import DoctorInputs

if TYPE_CHECKING:
    from dstui.api.arm import ArmClient

TENANT_ENV_VAR = "AZURE_TENANT_ID"
NO_ARM = "ARM is not configured (--arm-endpoint or DSTUI_ARM_ENDPOINT)"


def doctor_inputs(
    connection: Connection,
    environ: Mapping[str, str],
    *,
    arm_endpoint: str | None = None,
    open_arm: Callable[[], ArmClient] | None = None,
    endpoint_missing_because: tuple[str, str] | None = None,
) -> DoctorInputs:
    """With auth "token", a token file (flag, DSTUI_TOKEN_FILE or profile) wins over
    DSTUI_TOKEN, as for every command. ARM is asked when an ARM endpoint is given, or by
    default for the Entra credentials: a static sessions token is no good for ARM unless
    DSTUI_ARM_TOKEN is set, and the emulator has no ARM unless started with --arm."""
    uses_env_token = connection.auth == "token" and connection.token_file is None
    source = TokenSource(
        auth_kind=connection.auth,
        token=environ.get(TOKEN_ENV_VAR) if uses_env_token else None,
        token_file=connection.token_file,
        token_env_var=TOKEN_ENV_VAR,
    )
    local = connection.endpoint is not None and is_loopback_endpoint(connection.endpoint)
    static = connection.auth == "none" or (
        connection.auth == "token" and not environ.get(ARM_TOKEN_ENV_VAR)
    )
    arm_check = None
    if open_arm is not None and (arm_endpoint is not None or not (static or local)):
        from dstui.doctor.arm import make_arm_check

        arm_check = make_arm_check(open_arm)
    return DoctorInputs(
        endpoint=connection.endpoint,
        api_version=connection.api_version,
        source=source,
        ca_file=connection.ca_file,
        expected_tenant=environ.get(TENANT_ENV_VAR) or None,
        environ=environ,
        arm_check=arm_check,
        arm_missing_reason=NO_ARM,
        endpoint_missing_because=endpoint_missing_because,
    )
