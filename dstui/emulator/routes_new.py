"""The current shape (2024-10-02-preview and later): executions, files, session management."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from dstui.emulator.dispatch import Call, RouteSpec
from dstui.emulator.envelopes import ApiError, json_response, timestamp
from dstui.emulator.execution_record import ExecutionRecord
from dstui.emulator.executions import render_new
from dstui.emulator.routes_common import (
    delete_existing_session,
    delete_named_file,
    execute,
    execution_headers,
    get_file_content,
    list_entries,
    open_files,
    session_page,
    session_view,
    stat_named_file,
)
from dstui.emulator.sandbox_report import METADATA_FIELD, metadata_extension
from dstui.emulator.shell import bash_version, render_shell
from dstui.emulator.upload_quota import receive_within_quota

_KERNEL_PROJECT = "https://github.com/ipython/ipykernel"


def _render(call: Call, record: ExecutionRecord) -> dict[str, Any]:
    shell = call.state.config.container_type == "Shell"
    return render_shell(record) if shell else render_new(record)


async def post_execution(call: Call) -> Response:
    record, headers, started = await execute(call)
    return json_response(_render(call, record), 202 if started else 200, headers)


async def get_execution(call: Call) -> Response:
    session, _ = call.open_session()
    record = session.executions.get(call.params["executionId"])
    if record is None:
        raise ApiError(
            404,
            "ExecutionNotFound",
            "No execution with this id in the session.",
            target="executionId",
        )
    headers = execution_headers(record) if record.status != "Running" else {}
    return json_response(_render(call, record), 200, headers)


async def list_files(call: Call) -> Response:
    entries = await list_entries(call, recursive=call.flag("recursive"))
    return json_response({"value": [entry.render() for entry in entries], "nextLink": None})


async def upload_file(call: Call) -> Response:
    files, parts = open_files(call)
    quota = call.state.pool.policy.limits.disk_quota_bytes
    entry = await receive_within_quota(call.request, files, parts, quota)
    return json_response(entry.render())


async def get_file(call: Call) -> Response:
    return json_response((await stat_named_file(call)).render())


async def delete_file(call: Call) -> Response:
    await delete_named_file(call)
    return Response(status_code=204)


async def get_session(call: Call) -> Response:
    # A data-plane request naming a session: like every such request it resets the cooldown
    # (contract §6.2, "every request resets the timer"); it never creates a session.
    session = call.existing_session()
    call.state.pool.touch(session)
    return json_response(session_view(call, session, management=False))


async def delete_session(call: Call) -> Response:
    await delete_existing_session(call)
    return Response(status_code=204)


async def list_sessions(call: Call) -> Response:
    views, link = session_page(call, "/listSessions", management=False)
    body: dict[str, object] = {"sessions": views}
    if link is not None:
        body["nextLink"] = link
    return json_response(body)


async def get_metadata(call: Call) -> Response:
    started = timestamp(call.state.started_at)
    if call.state.config.container_type == "Shell":
        # A Shell pool runs bash: no Python runtime, packages or Jupyter kernel to claim.
        return json_response(
            {
                "runtimes": [{"name": "bash", "version": await bash_version()}],
                "preInstalledPackages": [],
                "createdAt": started,
                "lastUpdatedAt": started,
                METADATA_FIELD: metadata_extension(call.state.pool.policy),
            }
        )
    info = call.state.interpreter
    kernel_version = info.package_version("ipykernel") or ""
    return json_response(
        {
            "runtimes": [{"name": "python", "version": info.version}],
            "preInstalledPackages": [{"name": n, "version": v} for n, v in info.packages],
            "createdAt": started,
            "lastUpdatedAt": started,
            "jupyterKernel": {
                "name": "python3",
                "version": kernel_version,
                "projectUrl": _KERNEL_PROJECT,
                "description": f"IPython kernel (ipykernel {kernel_version}) on "
                f"{info.implementation} {info.version}",
            },
            METADATA_FIELD: metadata_extension(call.state.pool.policy),
        }
    )


ROUTES = (
    RouteSpec("POST", "/executions", post_execution, "new"),
    RouteSpec("GET", "/executions/{executionId}", get_execution, "new"),
    RouteSpec("GET", "/files", list_files, "new"),
    RouteSpec("POST", "/files", upload_file, "new"),
    RouteSpec("GET", "/files/{name}", get_file, "new"),
    RouteSpec("DELETE", "/files/{name}", delete_file, "new"),
    RouteSpec("GET", "/files/{name}/content", get_file_content, "new"),
    RouteSpec("GET", "/session", get_session, "new-management"),
    RouteSpec("DELETE", "/session", delete_session, "new-management"),
    RouteSpec("GET", "/listSessions", list_sessions, "new-management"),
    RouteSpec("GET", "/metadata", get_metadata, "new-management"),
)
