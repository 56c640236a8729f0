"""What the explorer's doctor screen checks: the app's own connection, aimed at the endpoint of
the pool open now (a pool picked from ARM has its own), built the way `dstui doctor` builds it.

Holds no token: the embedded emulator's token is handed to the doctor's inputs only when a run
starts, as an environment mapping the doctor reads and never prints."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from dstui.config import TOKEN_ENV_VAR, Connection

# The doctor is imported when it first runs: start-up needs none of it.
if TYPE_CHECKING:
    from dstui.api.arm import ArmClient
    from dstui.doctor import DoctorInputs, DoctorReport


@dataclass(frozen=True)
class DoctorSource:
    connection: Connection
    open_arm: Callable[[], ArmClient] | None = None
    # Read when a run starts (the embedded emulator's token lives here, not in the connection).
    environ: Callable[[], Mapping[str, str]] = field(default=lambda: os.environ)

    def inputs(self, endpoint: str | None) -> DoctorInputs:
        from dstui.doctor.setup import doctor_inputs

        connection = self.connection
        if endpoint is not None:
            connection = replace(connection, endpoint=endpoint)
        return doctor_inputs(
            connection,
            self.environ(),
            arm_endpoint=connection.arm_endpoint,
            open_arm=self.open_arm,
        )

    async def run(self, endpoint: str | None) -> DoctorReport:
        from dstui.doctor import run_doctor

        return await run_doctor(self.inputs(endpoint))


def emulator_source(endpoint: str, api_version: str, token: str | None) -> DoctorSource:
    """The embedded emulator: its endpoint and its static token (auth none without one)."""
    connection = Connection(
        endpoint=endpoint,
        api_version=api_version,
        auth="token" if token else "none",
        token_file=None,
        source="embedded emulator",
        profile=None,
    )

    def environ() -> Mapping[str, str]:
        values: dict[str, str] = dict(os.environ)
        if token:
            values[TOKEN_ENV_VAR] = token
        return values

    return DoctorSource(connection, environ=environ)
