"""The Traffic view's keys and live follow, on a recording of fixed exchanges (Pilot tests)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from dstui.api.validation import mask_identifier
from dstui.recording.store import Filter, RecordingStore
from dstui.tui.screens.traffic import TrafficScreen
from dstui.tui.traffic_filter import FilterSyntaxError, parse_filter
from tests.tui.traffic_fixtures import (
    CHAT,
    CODE,
    GHOST,
    PROBE,
    T0,
    TrafficHostApp,
    fixed_exchanges,
    write_recording,
)


async def settled(pilot: Pilot[Any]) -> TrafficScreen:
    await pilot.pause()  # a typed change is a message: handled before looking for its timer
    screen = pilot.app.screen
    if isinstance(screen, TrafficScreen) and screen.filter_pending:
        await pilot.pause(screen.filter_debounce_s + 0.1)
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TrafficScreen)
    return screen


def shown_numbers(screen: TrafficScreen) -> list[int]:
    return [int(str(row.value)) for row in screen.table.rows]


def text_of(screen: TrafficScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return write_recording(tmp_path / "traffic.sqlite3")


class TestFilterTerms:
    def test_keys_and_bare_words(self) -> None:
        assert parse_filter("id:probe-1 op:execute status:4XX") == Filter(
            "probe-1", "execute", "4xx"
        )
        assert parse_filter("  probe-1   download 404 ") == Filter("probe-1", "download", "404")
        assert parse_filter("failed") == Filter(status="failed")
        assert parse_filter("") == Filter()

    @pytest.mark.parametrize(
        ("text", "named"),
        [
            ("status:abc", "status 'abc'"),
            ("op:run", "unknown operation 'run'"),
            ("a b", "identifier is given twice"),
            ("id:", "has no value"),
        ],
    )
    def test_bad_terms_are_named(self, text: str, named: str) -> None:
        with pytest.raises(FilterSyntaxError, match=named):
            parse_filter(text)


async def test_opens_on_the_newest_exchange_with_its_detail(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        assert shown_numbers(screen) == [1, 2, 3, 4, 5, 6]
        assert screen.highlighted() is not None and screen.highlighted().id == 6  # type: ignore[union-attr]
        detail = text_of(screen, "#traffic-detail-body")
        assert "download" in detail and "404" in detail and "FileNotFound" in detail
        # Identifiers are masked in the table by default; m shows them whole.
        assert str(screen.table.get_cell("2", "session")) == "agen…0001"
        await pilot.press("m")
        assert str(screen.table.get_cell("2", "session")) == CHAT


async def test_execution_detail_shows_code_output_and_timings(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        screen.table.move_cursor(row=1)
        await pilot.pause()
        detail = text_of(screen, "#traffic-detail-body")
        for expected in (
            "rows = [n * n for n in range(5)]",
            "(3, 12) [0, 1, 4, 9, 16]",
            "overall 21",
            "container 9",
            "38.6 ms",
            "op-7d1e",
            "Succeeded",
        ):
            assert expected in detail, expected


async def test_follows_new_exchanges_without_reloading(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        with RecordingStore(recording) as writer:
            extra = fixed_exchanges()[1]
            extra.started = T0 + 60
            writer.add(extra)
        shown_before = dict(screen.exchanges)
        screen.poll_now()
        await settled(pilot)
        assert shown_numbers(screen) == [1, 2, 3, 4, 5, 6, 7]
        assert all(screen.exchanges[n] is e for n, e in shown_before.items())  # not re-read
        assert screen.table.cursor_row == 6  # the cursor was at the end: it stays there


async def test_the_cursor_stays_put_when_not_at_the_end(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        screen.table.move_cursor(row=2)
        with RecordingStore(recording) as writer:
            writer.add(fixed_exchanges()[0])
        screen.poll_now()
        await settled(pilot)
        assert screen.table.row_count == 7 and screen.table.cursor_row == 2


async def test_filter_field_narrows_and_names_a_bad_term(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        await pilot.press("slash", *"execute")
        screen = await settled(pilot)
        assert shown_numbers(screen) == [2, 4, 5]
        await pilot.press(*" 4xx")
        screen = await settled(pilot)
        assert shown_numbers(screen) == [4]
        screen.query_one("#traffic-filter", Input).value = "execute 4xx status:x"
        screen = await settled(pilot)
        assert shown_numbers(screen) == [4]  # unchanged while the text cannot be read
        assert "status 'x'" in text_of(screen, "#traffic-hint")
        # esc leaves the field for the table; a second esc leaves the view.
        await pilot.press("escape")
        assert screen.focused is screen.table
        await pilot.press("escape")
        await pilot.pause()
        assert app.outcomes == [None]


async def test_live_rows_respect_the_filter(recording: Path) -> None:
    app = TrafficHostApp(recording, initial_filter=f"id:{PROBE}")
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        assert shown_numbers(screen) == [4]
        with RecordingStore(recording) as writer:
            writer.add_many(fixed_exchanges()[:4])  # #7..#10; only #10 names PROBE
        screen.poll_now()
        await settled(pilot)
        assert shown_numbers(screen) == [4, 10]


async def test_enter_on_an_execution_hands_its_code_over(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        await pilot.press("enter")  # #6 is a download: nothing to load
        await pilot.pause()
        assert app.outcomes == [] and app.screen is screen
        screen.table.move_cursor(row=1)
        await pilot.press("enter")
        await pilot.pause()
        assert len(app.outcomes) == 1
        outcome = app.outcomes[0]
        assert outcome is not None
        assert (outcome.identifier, outcome.code, outcome.exchange_id) == (CHAT, CODE, 2)


async def test_copy_as_curl_uses_the_token_variable(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        screen.table.move_cursor(row=1)
        await pilot.press("c")
        await pilot.pause()
        copied = app.clipboard
        assert copied.startswith("curl -sS -X POST 'http://127.0.0.1:8123/executions?api-version=")
        assert '"Authorization: Bearer $DSTUI_TOKEN"' in copied
        assert "--data-binary" in copied
        assert "set DSTUI_TOKEN first" in text_of(screen, "#traffic-detail-body")


async def test_the_shown_curl_masks_the_identifier_but_the_copy_is_exact(recording: Path) -> None:
    app = TrafficHostApp(recording)  # identifiers masked, the default
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        screen.table.move_cursor(row=1)  # #2 ran in agent-chat-00001
        await pilot.press("c")
        await pilot.pause()
        assert f"identifier={CHAT}" in app.clipboard
        shown = text_of(screen, "#traffic-detail-body")
        curl = shown.partition("\ncurl -sS")[2]
        assert curl and CHAT not in curl
        assert f"identifier={mask_identifier(CHAT)}" in curl
        await pilot.press("m")  # shown in full: the displayed curl is the exact one again
        await pilot.pause()
        assert f"identifier={CHAT}" in text_of(screen, "#traffic-detail-body")


async def test_go_to_session_only_for_a_listed_one(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(140, 45), notifications=True) as pilot:
        screen = await settled(pilot)
        screen.table.move_cursor(row=4)  # the ghost: only in the recording
        await pilot.press("g")
        await pilot.pause()
        assert app.outcomes == []
        assert any(
            GHOST in n.message and "only in the recording" in n.message for n in app._notifications
        )
        screen.table.move_cursor(row=2)
        await pilot.press("g")
        await pilot.pause()
        assert app.outcomes[0] is not None and app.outcomes[0].identifier == CHAT


async def test_a_missing_recording_is_waited_for_not_created(tmp_path: Path) -> None:
    path = tmp_path / "later.sqlite3"
    app = TrafficHostApp(path)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        assert "no recording at" in text_of(screen, "#traffic-hint")
        assert not path.exists()
        write_recording(path)
        screen.poll_now()
        screen = await settled(pilot)
        assert shown_numbers(screen) == [1, 2, 3, 4, 5, 6]


async def test_keeps_at_most_max_rows(recording: Path) -> None:
    app = TrafficHostApp(recording, max_rows=4, first_load=3)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        assert shown_numbers(screen) == [4, 5, 6]
        with RecordingStore(recording) as writer:
            writer.add_many(fixed_exchanges()[:2])
        screen.poll_now()
        await settled(pilot)
        assert shown_numbers(screen) == [5, 6, 7, 8]


async def test_h_writes_the_shown_rows_as_har(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "har"
    app = TrafficHostApp(recording, initial_filter="op:execute", har_dir=out)
    async with app.run_test(size=(140, 45), notifications=True) as pilot:
        await settled(pilot)
        await pilot.press("h")
        await settled(pilot)
        assert any("Wrote 3 exchanges" in n.message for n in app._notifications)
    (written,) = out.iterdir()
    assert written.suffix == ".har" and written.stat().st_mode & 0o777 == 0o600
    log = json.loads(written.read_text(encoding="utf-8"))["log"]
    assert log["version"] == "1.2" and len(log["entries"]) == 3
    assert all(
        e["request"]["url"].startswith("http://127.0.0.1:8123/executions") for e in log["entries"]
    )


async def test_a_typed_filter_term_is_never_markup(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        screen.query_one("#traffic-filter", Input).value = "id:[red]agent"
        screen = await settled(pilot)
        title = screen.query_one("#traffic-title", Static).render()
        assert "identifier [red]agent" in str(title)
        assert not getattr(title, "spans", None)  # nothing styled by the user's text


async def test_a_bad_term_keeps_the_last_good_filter_and_says_so(recording: Path) -> None:
    """Typed fast, `op:bogus` is read once typing pauses: never as the half-word `op`, and its
    error stays under the field after the reload finishes."""
    app = TrafficHostApp(recording)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        await pilot.press("slash", *"op:bogus")
        screen = await settled(pilot)
        assert shown_numbers(screen) == [1, 2, 3, 4, 5, 6]
        hint = text_of(screen, "#traffic-hint")
        assert hint.startswith("kept: everything · unknown operation 'bogus'")
        assert screen.query_one("#traffic-hint").has_class("-error")
        await pilot.press("ctrl+u", *"failed")
        screen = await settled(pilot)
        assert shown_numbers(screen) == [4, 5, 6]
        assert not screen.query_one("#traffic-hint").has_class("-error")
        await pilot.press(*" status:9zz")
        screen = await settled(pilot)
        assert shown_numbers(screen) == [4, 5, 6]
        assert text_of(screen, "#traffic-hint").startswith("kept: status failed · status '9zz'")


async def test_home_and_end_move_the_highlight_and_keep_the_header(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        await pilot.press("home")
        await pilot.pause()
        assert screen.table.cursor_row == 0 and screen.table.scroll_x == 0
        assert screen.highlighted() is not None and screen.highlighted().id == 1  # type: ignore[union-attr]
        await pilot.press("end")
        await pilot.pause()
        assert screen.table.cursor_row == 5 and screen.table.scroll_x == 0
        await pilot.press("home", "enter")
        await pilot.pause()
        assert app.outcomes == []  # #1 is a listing: nothing to load, nothing handed over


def test_the_what_cell_is_bounded() -> None:
    from dstui.tui.traffic_render import WHAT_CHARS, row_cells

    ghost = fixed_exchanges()[4]
    long = dataclasses.replace(ghost, code="x = 1  # " + "y" * 300)
    what = row_cells(long, masked=True)[-1].plain
    assert len(what) == WHAT_CHARS and what.endswith("…")


async def test_a_resize_keeps_the_highlighted_row_on_screen(tmp_path: Path) -> None:
    many = [fixed_exchanges()[0] for _ in range(60)]
    app = TrafficHostApp(write_recording(tmp_path / "traffic.sqlite3", many))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settled(pilot)
        screen.table.move_cursor(row=30)
        await pilot.pause()
        await pilot.resize_terminal(60, 15)
        for _ in range(3):
            await pilot.pause()
        table = screen.table
        top = table.scroll_y
        visible = table.scrollable_content_region.height - 1  # the header row
        assert top <= table.cursor_row < top + visible


@pytest.mark.parametrize(
    ("pool", "said"),
    [
        (
            "https://westus2.dynamicsessions.io/subscriptions/s/sessionPools/p",
            "none from this pool",
        ),
        ("http://127.0.0.1:8123/", "· 6 shown ·"),
    ],
)
async def test_the_title_says_whether_the_rows_are_the_open_pools(
    recording: Path, pool: str, said: str
) -> None:
    app = TrafficHostApp(recording, pool_origin=pool)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot)
        title = text_of(screen, "#traffic-title")
        assert title.startswith("Traffic · proxy & embedded emulator · everything · 6 shown")
        assert said in title
        if "127.0.0.1" in pool:
            assert "this pool" not in title and "another endpoint" not in title


async def test_the_footer_keeps_every_view_key_at_80_columns(recording: Path) -> None:
    app = TrafficHostApp(recording)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        footer = "".join(seg.text for seg in app.screen._compositor.render_strips()[-1])
        for key in ("esc Back", "/ Filter", "g Go to", "T Timeline", "h HAR", "s Source", "m Mask"):
            assert key in footer
