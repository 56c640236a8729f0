"""Emulator-only extensions: NOT part of the Azure service's API.

The service has no way to stop a running execution; a local kernel can be interrupted. The
explorer offers this only against the emulator. Routes live under `/x-dstui/` so that no one
mistakes them for the service's own.
"""

from __future__ import annotations

from starlette.responses import Response

from dstui.emulator.dispatch import Call, RouteSpec
from dstui.emulator.envelopes import json_response

EXTENSION_PREFIX = "/x-dstui"


async def interrupt_kernel(call: Call) -> Response:
    """Interrupt the session's running code (like Jupyter's interrupt); the session stays."""
    session = call.existing_session()
    kernel = session.container.kernel
    busy = session.lock.locked()
    sent = kernel is not None and kernel.alive and busy
    if sent and kernel is not None:
        kernel.interrupt()
    return json_response({"identifier": session.identifier, "busy": busy, "interrupted": sent})


ROUTES = (RouteSpec("POST", f"{EXTENSION_PREFIX}/interruptKernel", interrupt_kernel, "any"),)
