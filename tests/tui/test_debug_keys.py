"""The live-debugging keys on the main screen (t, T, v, X), on the fake pool and a fixed
recording under the app's data dir (Pilot tests)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dstui.api.fake_pool import DEMO_ENDPOINT
from dstui.tui.screens.export import ExportModal
from dstui.tui.screens.timeline import TimelineScreen
from dstui.tui.screens.traffic import TrafficScreen
from dstui.tui.screens.variables import VariablesModal
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, settle
from tests.tui.traffic_fixtures import CHAT, CODE, GHOST, ORIGIN, fixed_exchanges, write_recording

SIZE = (120, 36)


def recorded(workdir: Path, origin: str | None = None) -> Path:
    """The fixed recording; with `origin`, as if recorded at that endpoint."""
    (workdir / "data").mkdir(exist_ok=True)
    exchanges = fixed_exchanges()
    if origin is not None:
        exchanges = [replace(exchange, origin=origin) for exchange in exchanges]
    return write_recording(workdir / "data" / "traffic.sqlite3", exchanges)


async def test_t_then_enter_loads_the_recorded_code_and_ctrl_z_brings_the_draft_back(
    make_app: AppFactory, workdir: Path
) -> None:
    recorded(workdir, origin=DEMO_ENDPOINT)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("down")  # agent-chat-00001
        await settle(pilot)
        screen.code.editor.text = "draft = 1"
        await pilot.press("escape", "t")
        await settle(pilot)
        traffic = app.screen
        assert isinstance(traffic, TrafficScreen)
        assert traffic.source.path == Path("data/traffic.sqlite3")
        traffic.table.move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and screen.selected == CHAT
        assert screen.code.editor.text == CODE
        assert screen.focused is screen.code.editor
        await pilot.press("ctrl+z")
        assert screen.code.editor.text == "draft = 1"


async def test_enter_on_a_ghost_execution_targets_the_recorded_session(
    make_app: AppFactory, workdir: Path
) -> None:
    """The code of a session the list does not have is never loaded for another one: the
    recorded session becomes the selected (local) row, and the message says so."""
    recorded(workdir, origin=DEMO_ENDPOINT)
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("down")  # agent-chat-00001
        await settle(pilot)
        assert screen.selected == CHAT
        await pilot.press("escape", "t")
        await settle(pilot)
        traffic = app.screen
        assert isinstance(traffic, TrafficScreen)
        traffic.table.move_cursor(row=4)  # #5 ran in agent-ghost-77
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.selected == GHOST
        assert screen.sessions.highlighted_identifier() == GHOST
        row = screen.sessions.session(GHOST)
        assert row is not None and row.local
        assert screen.code.editor.text == "while True:\n    pass\n"
        assert any(
            GHOST in n.message and "ctrl+r runs it there" in n.message for n in app._notifications
        )


async def test_enter_on_another_endpoints_execution_loads_the_code_here_without_a_row(
    make_app: AppFactory, workdir: Path
) -> None:
    """An identifier recorded at another endpoint is not this pool's session: no local row is
    added for it (ctrl+r would run it in a pool it never belonged to); the code goes into the
    current session's editor, and the message says where it came from and where it runs."""
    recorded(workdir)  # recorded at ORIGIN, the open pool is DEMO_ENDPOINT
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("down")  # agent-chat-00001
        await settle(pilot)
        assert screen.selected == CHAT
        await pilot.press("escape", "t")
        await settle(pilot)
        traffic = app.screen
        assert isinstance(traffic, TrafficScreen)
        traffic.table.move_cursor(row=4)  # #5 ran in agent-ghost-77, at ORIGIN
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.selected == CHAT
        assert screen.sessions.session(GHOST) is None
        assert screen.code.editor.text == "while True:\n    pass\n"
        assert any(
            f"recorded at {ORIGIN}" in n.message
            and f"the editor of {CHAT}; ctrl+r runs it here" in n.message
            for n in app._notifications
        )


async def test_g_in_traffic_goes_to_the_session_in_the_list(
    make_app: AppFactory, workdir: Path
) -> None:
    recorded(workdir)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.selected != CHAT
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("g")  # the newest exchange, #6, names agent-chat-00001
        await settle(pilot)
        assert app.screen is screen and screen.selected == CHAT
        assert screen.sessions.highlighted_identifier() == CHAT


async def test_T_shows_the_selected_sessions_timeline(make_app: AppFactory, workdir: Path) -> None:
    recorded(workdir)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "T")
        await settle(pilot)
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen)
        assert timeline.identifier == CHAT and timeline.in_pool
        assert [e.operation for e in timeline.entries] == ["execute", "upload", "download"]


async def test_a_ghost_session_is_only_in_the_recording(
    make_app: AppFactory, workdir: Path
) -> None:
    recorded(workdir)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        listed = screen.debug_views.session_listed
        assert not listed(GHOST) and listed(CHAT)


async def test_v_and_X_open_their_views_and_read_only_hides_v(
    make_app: AppFactory, workdir: Path
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, VariablesModal)
        await pilot.press("escape", "X")
        await settle(pilot)
        assert isinstance(app.screen, ExportModal)
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert not isinstance(app.screen, VariablesModal)


async def test_the_keymap_remaps_the_views_keys_in_the_app(
    make_app: AppFactory, workdir: Path
) -> None:
    """`[tui.keymap]` ids of the Traffic view are checked and applied like the main screen's:
    `e` is Messages on the main screen, but free in Traffic."""
    recorded(workdir)
    app = make_app(keymap={"traffic-export-har": "e", "traffic-copy-curl": "g"})
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1 and "traffic-copy-curl" in errors[0]  # g is Go to session's
        assert "traffic-export-har" not in errors[0]
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TrafficScreen)
        await pilot.press("e")
        await settle(pilot)
        assert list((workdir / "downloads").glob("traffic-*.har"))
        assert isinstance(app.screen, TrafficScreen)  # not the messages dialog
