"""The action registry is the one source of keys, footer marks, palette, read-only filter and
the README's key table; `y` is the action added as one entry plus its handler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen

from dstui.api.fake_pool import FakePool
from dstui.tui.actions import (
    ACROSS,
    ACTIONS,
    GLOBAL,
    PICKER,
    TIMELINE,
    TOUCH_MARK,
    TRAFFIC,
    VARIABLES,
    VIEW_TARGETS,
    binding_scopes,
    palette_actions,
)
from dstui.tui.app import DstuiApp
from dstui.tui.key_table import key_table, readme_key_table
from dstui.tui.keymap_check import check_keymap
from dstui.tui.palette import MainScreenCommands
from dstui.tui.screens.across_pools import AcrossPoolsScreen
from dstui.tui.screens.main import MainScreen
from dstui.tui.screens.modals import IdentifierModal
from dstui.tui.screens.pool_picker import PoolPickerScreen
from dstui.tui.screens.timeline import TimelineScreen
from dstui.tui.screens.traffic import TrafficScreen
from dstui.tui.screens.variables import VariablesModal
from dstui.tui.widgets.footer import KeysFooter
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, run_snippet, settle

SIZE = (120, 36)
# Where each view's handlers live; everything else is the main screen's (or the app's).
VIEW_SCREENS: dict[str, type[Screen[Any]]] = {
    TRAFFIC: TrafficScreen,
    TIMELINE: TimelineScreen,
    VARIABLES: VariablesModal,
    PICKER: PoolPickerScreen,
    ACROSS: AcrossPoolsScreen,
}
README = Path(__file__).resolve().parents[2] / "README.md"


def last_message(app: Any) -> str:
    return list(app._notifications)[-1].message


def test_the_readme_key_table_is_the_registry() -> None:
    shown = readme_key_table(README.read_text(encoding="utf-8"))
    assert shown is not None, "README.md lost its <!-- keys:begin/end --> markers"
    assert shown == key_table(), (
        "README key table is stale: run `python scripts/key_table.py --write`"
    )


def test_every_entry_has_a_unique_id_and_a_handler() -> None:
    ids = [action.id for action in ACTIONS]
    assert len(ids) == len(set(ids))
    for action in ACTIONS:
        for target in action.where:
            owner: type[object] = VIEW_SCREENS.get(target, MainScreen)
            if action.run.startswith("app."):
                owner = DstuiApp
            assert hasattr(owner, f"action_{action.name}"), f"{action.id}: no action_{action.name}"


def test_each_view_takes_its_bindings_from_the_registry() -> None:
    for target, screen in VIEW_SCREENS.items():
        ids = [b.id for b in screen.BINDINGS if isinstance(b, Binding)]
        assert ids == [a.id for a in ACTIONS if target in a.where], target
        assert len(ids) == len(screen.BINDINGS)  # no hand-written binding beside them


def test_a_views_keys_clash_only_with_that_views() -> None:
    keymap = {
        "traffic-export-har": "e",  # the main screen's Messages key: another screen
        "timeline-reload": "g",  # Go to session, in the same view
        "variables-probe-again": "t",  # Traffic on the main screen
    }
    accepted, problems = check_keymap(keymap, binding_scopes())
    assert accepted == {"traffic-export-har": "e", "variables-probe-again": "t"}
    assert [p.binding_id for p in problems] == ["timeline-reload"]
    assert "timeline-go-to-session" in problems[0].problem


def test_each_binding_is_derived_with_its_touch_mark() -> None:
    for target, bindings in binding_scopes().items():
        for binding in bindings:
            assert isinstance(binding, Binding)
            action = next(a for a in ACTIONS if a.id == binding.id)
            assert binding.description.endswith(TOUCH_MARK) == action.touches_session
            in_a_pane = target != GLOBAL and target not in VIEW_TARGETS
            assert binding.action.startswith("screen.") == (
                in_a_pane and "." not in action.run.split("(")[0]
            )


async def test_the_files_up_key_shows_that_it_touches_the_session(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        footer = str(app.screen.query_one(KeysFooter).render())
        assert f"Up{TOUCH_MARK}" in footer and f"Upload{TOUCH_MARK}" in footer


async def test_read_only_hides_every_changing_action_from_the_palette(
    make_app: AppFactory,
) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = {title for title, _cb, _help in MainScreenCommands(app.screen)._available()}
        for action in palette_actions():
            assert (action.palette_title in titles) == (action.read_only is None), action.id


async def test_the_palette_over_a_modal_offers_no_main_screen_action(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        assert any(isinstance(p, MainScreenCommands) for p in app.screen._providers)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("o")  # a modal: the identifier dialog
        await settle(pilot)
        assert isinstance(app.screen, IdentifierModal)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        assert not any(isinstance(p, MainScreenCommands) for p in app.screen._providers)


async def test_y_in_files_copies_the_full_path(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        files = main_screen(app).files
        while (entry := files.highlighted_entry()) is None or entry.is_dir:
            await pilot.press("j")
        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard == f"/mnt/data/{entry.name}"
        assert last_message(app) == f"Copied /mnt/data/{entry.name}"
        await pilot.press("g", "enter")  # into the first directory: its `..` row is first
        await settle(pilot)
        directory = files.path
        assert directory and files.highlighted_name() == ".."
        await pilot.press("y")
        assert "No file under the cursor" in last_message(app)
        await pilot.press("j", "y")
        await settle(pilot)
        assert app.clipboard.startswith(f"/mnt/data/{directory}/")


async def test_y_on_the_output_copies_the_runs_stdout_and_result(make_app: AppFactory) -> None:
    pool = FakePool()
    app = make_app(pool)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3", "escape", "y")  # the output pane, before any run
        await settle(pilot)
        assert last_message(app) == "Nothing to copy: no run's output is shown here."
        await run_snippet(pilot, "print('hello')\n41 + 1")
        await pilot.press("3", "escape", "y")
        await settle(pilot)
        record = main_screen(app).runs.last_results[main_screen(app).selected or ""]
        expected = "\n".join(p.removesuffix("\n") for p in (record.stdout, record.result_text) if p)
        assert expected and app.clipboard == expected
        assert last_message(app).startswith(f"Copied run #{record.number}'s ")


def test_each_screen_keeps_its_own_flow_state(make_app: AppFactory) -> None:
    """Run and files state live in the controllers' instances, not in class attributes."""
    first, second = main_screen(make_app()), main_screen(make_app())
    first.runs.last_results["s"] = object()  # type: ignore[assignment]
    first.runs.created_by_run.add("s")
    first.file_ops.failed_upload = Path("x")
    first.facts.deleted_at["s"] = object()  # type: ignore[assignment]
    assert second.runs.last_results == {} and second.runs.created_by_run == set()
    assert second.file_ops.failed_upload is None and second.facts.deleted_at == {}
    first.files_watch.interval_s = 99.0
    assert second.files_watch.interval_s != 99.0 and second.files_watch.watch is None
    controllers = (first.runs, first.file_ops, first.facts, first.debug_views, first.files_watch)
    for controller in controllers:
        shared = [
            name
            for name, value in vars(type(controller)).items()
            if not name.startswith("__") and isinstance(value, dict | set | list)
        ]
        assert shared == [], f"{type(controller).__name__} shares {shared} between instances"


async def test_the_keymap_remaps_a_traffic_key(tmp_path: Path) -> None:
    """`[tui.keymap]` reaches the views' keys too: `y` copies as curl, `c` no longer does."""
    from tests.tui.traffic_fixtures import TrafficHostApp, write_recording

    app = TrafficHostApp(write_recording(tmp_path / "traffic.sqlite3"))
    async with app.run_test(size=SIZE) as pilot:
        app.set_keymap({"traffic-copy-curl": "y"})
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == ""
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard.startswith("curl ")


def test_no_two_default_keys_meet() -> None:
    """A new entry cannot take a key already bound where it is reachable (the keymap check
    would refuse a remap like it; the defaults must pass the same test)."""
    accepted, problems = check_keymap({a.id: a.keys for a in ACTIONS}, binding_scopes())
    assert problems == [] and len(accepted) == len(ACTIONS)
