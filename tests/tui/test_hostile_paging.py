"""The sessions pane's infinite scroll stops, with a message, when a server keeps handing out
new pages (issue 10): the same bounds as the client's full listing."""

from __future__ import annotations

from dstui.api.fake_pool import FakePool
from dstui.api.models import SessionPage
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, settle


class EndlessEmptyPages(FakePool):
    """One page of sessions, then empty pages whose nextLink never repeats."""

    def __init__(self) -> None:
        super().__init__(session_count=3)
        self.pages_served = 0

    async def list_sessions_page(
        self, next_link: str | None = None, *, skip: int = 0, management: bool = False
    ) -> SessionPage:
        self.pages_served += 1
        if next_link is None:
            first = await super().list_sessions_page()
            return SessionPage(first.sessions, "/listSessions?skip=3", None)
        return SessionPage((), f"/listSessions?skip={3 + self.pages_served}", None)


async def test_infinite_scroll_stops_when_the_server_keeps_sending_pages(
    make_app: AppFactory,
) -> None:
    pool = EndlessEmptyPages()
    app = make_app(pool)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        for _ in range(12):
            await pilot.press("ctrl+l")
            await settle(pilot)
        assert pool.pages_served == 6  # the first page, then five empty ones in a row
        assert screen.next_link is None
        assert "keeps sending new pages" in screen.status.error
        assert screen.sessions.table.row_count == 3
