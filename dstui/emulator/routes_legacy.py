"""The old shape (2024-02-02-preview, 2024-08-02-preview): `properties` and `$id` envelopes."""

from __future__ import annotations

from starlette.responses import Response

from dstui.emulator.dispatch import Call, RouteSpec
from dstui.emulator.envelopes import json_response, legacy_file_list
from dstui.emulator.executions import render_legacy
from dstui.emulator.routes_common import (
    delete_named_file,
    execute,
    get_file_content,
    list_entries,
    open_files,
    stat_named_file,
)
from dstui.emulator.upload_quota import receive_within_quota


async def execute_code(call: Call) -> Response:
    record, headers, _ = await execute(call)
    return json_response(render_legacy(record), 200, headers)


async def upload_file(call: Call) -> Response:
    files, parts = open_files(call)
    quota = call.state.pool.policy.limits.disk_quota_bytes
    entry = await receive_within_quota(call.request, files, parts, quota)
    return json_response(legacy_file_list([entry.render_legacy()]))


async def list_files(call: Call) -> Response:
    entries = [e for e in await list_entries(call) if not e.is_dir]
    return json_response(legacy_file_list([entry.render_legacy() for entry in entries]))


async def get_file(call: Call) -> Response:
    return json_response(legacy_file_list([(await stat_named_file(call)).render_legacy()]))


async def delete_file(call: Call) -> Response:
    await delete_named_file(call)
    return json_response({"message": "file deleted successfully"})


ROUTES = (
    RouteSpec("POST", "/code/execute", execute_code, "legacy"),
    RouteSpec("POST", "/files/upload", upload_file, "legacy"),
    RouteSpec("GET", "/files", list_files, "legacy"),
    RouteSpec("GET", "/files/content/{name}", get_file_content, "legacy"),
    RouteSpec("GET", "/files/{name}", get_file, "legacy"),
    RouteSpec("DELETE", "/files/{name}", delete_file, "legacy"),
)
