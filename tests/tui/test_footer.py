"""The one-widget key bar: follows the focus, obeys clicks, keeps `?` when space runs out."""

from __future__ import annotations

from typing import Any, cast

from textual.content import Content
from textual.pilot import Pilot

from dstui.api.fake_pool import FakePool
from dstui.tui.widgets.footer import KeysFooter
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import settle

SIZE = (120, 36)


def footer_text(pilot: Pilot[Any]) -> str:
    return cast(Content, pilot.app.screen.query_one(KeysFooter).render()).plain


async def test_keys_follow_the_focused_pane(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = footer_text(pilot)
        assert "/ Filter" in text and "? Help" in text and "^p palette" in text
        assert "Upload" not in text
        await pilot.press("4")
        await settle(pilot)
        text = footer_text(pilot)
        assert "u Upload↻" in text and "Filter" not in text


async def test_clicking_a_key_runs_its_action(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeysFooter)
        footer.render()
        start = next(x for x, _end, key in footer._spans if key == "r")
        before = [name for name, _ in pool.calls].count("list_sessions_page")
        await pilot.click(KeysFooter, offset=(start + 1, 0))
        await settle(pilot)
        after = [name for name, _ in pool.calls].count("list_sessions_page")
        assert after == before + 1


async def test_a_narrow_footer_drops_keys_but_keeps_help(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = footer_text(pilot)
        assert len(text) <= 80
        assert "? Help" in text and text.rstrip().endswith("^p palette")
        for kept in ("z Zoom", "n New", "o Open↻", "e Messages", "q Quit"):
            assert kept in text  # pane keys are dropped for room first
        assert "c Copy id" not in text  # dropped for room; `?` lists it


async def test_read_only_footer_has_no_changing_keys(make_app: AppFactory) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = footer_text(pilot)
        assert "Run" not in text and "Delete" not in text and "New" not in text
        assert "Refresh" in text
