"""Pool-level `/.management/*` operations (documented for every api-version)."""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

from dstui.api.constants import SESSIONS_PAGE_SIZE
from dstui.emulator.dispatch import Call, RouteSpec
from dstui.emulator.envelopes import json_response
from dstui.emulator.routes_common import next_page_link, session_view


async def get_session(call: Call) -> Response:
    return json_response(session_view(call, call.existing_session(), management=True))


async def list_sessions(call: Call) -> Response:
    skip = call.skip()
    page, more = call.state.pool.page(skip, SESSIONS_PAGE_SIZE)
    # As documented, this nextLink carries no api-version; clients add it back.
    link = (
        next_page_link(
            call, "/.management/listSessions", skip + SESSIONS_PAGE_SIZE, with_version=False
        )
        if more
        else None
    )
    value = [session_view(call, session, management=True) for session in page]
    return json_response({"value": value, "count": len(value), "nextLink": link})


async def stop_session(call: Call) -> Response:
    session = call.existing_session()
    await call.state.pool.delete(session.identifier)
    pool_name = call.state.config.pool_name
    return PlainTextResponse(f"Session {session.identifier} in session pool {pool_name} stopped.")


ROUTES = (
    RouteSpec("POST", "/.management/getSession", get_session, "any"),
    RouteSpec("POST", "/.management/listSessions", list_sessions, "any"),
    RouteSpec("POST", "/.management/stopSession", stop_session, "any"),
)
