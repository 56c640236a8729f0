"""Review findings: drafts that fail or grow too long, a damaged history, the message log's
ids, keymap remaps onto typing keys, the file tail without newlines, follow mode's errors,
and telling a reallocated session by its own earlier guid."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.content import Content
from textual.widgets import Static

from dstui.api.errors import DynamicSessionsError
from dstui.api.fake_pool import FakePool
from dstui.recording.run_history import RunHistory
from dstui.tui.actions import binding_scopes
from dstui.tui.drafts import MAX_DRAFT_CHARS, DraftStore, DraftTooLong
from dstui.tui.keymap_check import check_keymap
from dstui.tui.message_log import error_entry
from dstui.tui.screens.file_dialogs import PreviewModal
from dstui.tui.screens.files_controller import PREVIEW_MAX_BYTES
from dstui.tui.screens.run_records import RunTicket
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, settle

SIZE = (120, 36)


def test_a_failed_draft_write_is_tried_again(tmp_path: Path) -> None:
    blocker = tmp_path / "drafts"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    store = DraftStore(blocker)
    with pytest.raises(OSError):
        store.save("sess-1", "x = 1")
    blocker.unlink()
    store.save("sess-1", "x = 1")  # the same text: written now, not skipped as cached
    assert DraftStore(blocker).load("sess-1") == "x = 1"


def test_an_oversized_draft_is_refused_once_never_cut(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save("sess-1", "short")
    huge = "y" * (MAX_DRAFT_CHARS + 1)
    with pytest.raises(DraftTooLong, match="1,000,001 characters"):
        store.save("sess-1", huge)
    store.save("sess-1", huge + "z")  # warned already: quiet
    assert store.load("sess-1") == huge + "z"  # whole while the app runs
    assert DraftStore(tmp_path).load("sess-1") == "short"  # the disk keeps the last fit


def test_a_damaged_history_entry_is_skipped(tmp_path: Path) -> None:
    history = RunHistory(tmp_path)
    good = {"at": "2026-01-15T09:53:00+00:00", "code": "1", "status": "Succeeded", "number": 2}
    bad = [
        {**good, "number": None},
        {**good, "number": True},
        {**good, "timings": {"a": 1}},
        {**good, "notes": "not a list"},
    ]
    history._path("sess-1").write_text(json.dumps([*bad, good]), encoding="utf-8")
    runs = history.runs("sess-1")
    assert [run.number for run in runs] == [2]


def test_the_message_log_keeps_trace_id_and_header_code() -> None:
    exc = DynamicSessionsError(
        "boom", status=500, code="Body", error_code_header="Header", trace_id="t-1"
    )
    text = error_entry("09:53:00", "Listing failed", exc).full_text()
    assert "error code header: Header" in text and "trace id: t-1" in text
    same = DynamicSessionsError("boom", code="Same", error_code_header="Same")
    assert "error code header" not in error_entry("09:53:00", "x", same).full_text()


def test_a_priority_binding_cannot_take_a_typing_key() -> None:
    accepted, problems = check_keymap(
        {"run-code": "x", "run-code-alt": "ctrl+e"}, binding_scopes(), {"run-code": 3}
    )
    assert accepted == {"run-code-alt": "ctrl+e"}
    assert len(problems) == 1 and problems[0].line == 3
    assert "types a character" in problems[0].problem and "not applied" in problems[0].problem


async def test_the_end_of_a_file_without_newlines_is_shown(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)

    async def one_long_line(*args: Any, **kwargs: Any) -> bytes:
        return b"x" * (PREVIEW_MAX_BYTES + 10)

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        pool.read_file = one_long_line  # type: ignore[method-assign]
        body, ok = await screen.file_ops._read_end("sess", "", "log.txt")
        assert ok and "x" * 1000 in str(body)


class _PreviewApp(App[None]):
    def __init__(self, modal: PreviewModal) -> None:
        super().__init__()
        self.modal = modal

    def on_mount(self) -> None:
        self.push_screen(self.modal)


async def test_follow_skips_ticks_while_reading_and_stops_after_an_error() -> None:
    calls = 0
    release = asyncio.Event()

    async def read_end() -> tuple[Content, bool]:
        nonlocal calls
        calls += 1
        await release.wait()
        return Content("reading failed"), False

    modal = PreviewModal("log.txt", Content("start"), read_end)
    async with _PreviewApp(modal).run_test(size=SIZE) as pilot:
        await pilot.pause()
        modal.action_follow()
        await pilot.pause()
        modal._read_end()  # a tick while the first read is still waiting
        modal._read_end()
        await pilot.pause()
        assert calls == 1
        release.set()
        await pilot.pause(0.1)
        assert not modal.following and modal._timer is None
        assert "reading failed" in str(modal.query_one("#text-body", Static).render())


async def test_a_new_guid_for_a_known_session_is_a_reallocation(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        identifier = screen.selected
        assert identifier is not None
        first = await pool.execute(identifier, "1")
        first = replace(first, session_guid="guid-a", timings={})
        assert not screen.runs._newly_allocated(identifier, first)  # nothing to compare with yet
        assert not screen.runs._newly_allocated(identifier, first)
        assert screen.runs._newly_allocated(identifier, replace(first, session_guid="guid-b"))
        row = screen.sessions.session(identifier)
        assert row is not None and row.session.etag != "guid-b"  # the etag stays the list's


async def test_a_run_confirmed_too_late_says_so(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.runs.run_in_flight = RunTicket(
            identifier="other-session",
            code="1",
            at="2026-01-15T09:53:00+00:00",
            number=4,
            asynchronous=False,
            execution_id="",
        )
        screen.runs.created_by_run.add("asked-session")
        screen.runs._start_run("asked-session", "1", 60, False)
        await pilot.pause()
        message = list(app._notifications)[-1].message
        assert "Not run in asked-session" in message and "run #4" in message
        assert "asked-session" not in screen.runs.created_by_run
        screen.runs.run_in_flight = None


async def test_a_stale_key_trail_does_not_release_the_next_key(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timer = app.set_timer(60, lambda: None)
        app._key_generation = 2
        app._key_in_flight = timer
        await app._key_done(1)  # the first key's trail, after its timeout already fired
        assert app._key_in_flight is timer
        await app._key_done(2)
        assert app._key_in_flight is None
