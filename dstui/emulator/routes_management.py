"""Pool-level `/.management/*` operations (documented for every api-version)."""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

from dstui.emulator.dispatch import Call, RouteSpec
from dstui.emulator.envelopes import json_response
from dstui.emulator.routes_common import delete_existing_session, session_page, session_view


async def get_session(call: Call) -> Response:
    return json_response(session_view(call, call.existing_session(), management=True))


async def list_sessions(call: Call) -> Response:
    value, link = session_page(call, "/.management/listSessions", management=True)
    return json_response({"value": value, "count": len(value), "nextLink": link})


async def stop_session(call: Call) -> Response:
    session = await delete_existing_session(call)
    pool_name = call.state.config.pool_name
    return PlainTextResponse(f"Session {session.identifier} in session pool {pool_name} stopped.")


ROUTES = (
    RouteSpec("POST", "/.management/getSession", get_session, "any"),
    RouteSpec("POST", "/.management/listSessions", list_sessions, "any"),
    RouteSpec("POST", "/.management/stopSession", stop_session, "any"),
)
