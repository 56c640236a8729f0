"""Polish: a custom container's ctrl+d is "Stop" in the palette and the editor says nothing
runs there; dialog titles and messages show control characters as visible escapes."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content

from dstui.api.fake_arm import FakeArm
from dstui.api.fake_pool import FakePool, frozen_clock
from dstui.tui.palette import MainScreenCommands
from dstui.tui.pool_directory import demo_directory
from dstui.tui.pool_type import PoolType
from dstui.tui.screens.main import MainScreen
from dstui.tui.screens.modals import ConfirmModal, TextModal
from dstui.tui.screens.pool_picker import PoolPickerScreen
from dstui.tui.widgets.code_pane import CUSTOM_PLACEHOLDER, PLACEHOLDER, SHELL_PLACEHOLDER
from tests.tui.conftest import AppFactory
from tests.tui.pilot_helpers import main_screen, settle
from tests.tui.pool_type_helpers import typed_app
from tests.tui.pools_fixtures import demo_app

SIZE = (120, 36)
HOSTILE = "web\x1b[31m\u202e-1\nx"


def test_the_palette_title_follows_the_pool_type() -> None:
    custom = PoolType.initial("CustomContainer", None)
    python = PoolType.initial(None, None)
    title = "Delete selected or marked sessions ↻"
    assert custom.palette_title("delete_sessions", title) == "Stop selected or marked sessions ↻"
    assert python.palette_title("delete_sessions", title) == title
    assert custom.palette_title("refresh_sessions", "Refresh sessions") == "Refresh sessions"
    assert custom.key_description("delete_sessions", "Delete↻") == "Stop↻"


async def test_a_custom_container_pool_offers_stop_in_the_palette_and_no_python(
    workdir: Path,
) -> None:
    app = typed_app(FakePool(container_type="CustomContainer"), container_type="CustomContainer")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = {title for title, _cb, _help in MainScreenCommands(app.screen)._available()}
        assert "Stop selected or marked sessions ↻" in titles
        assert not any(title.startswith("Delete selected") for title in titles)
        placeholder = str(main_screen(app).code.editor.placeholder)
        assert CUSTOM_PLACEHOLDER in placeholder and "Python" not in placeholder


async def test_shell_and_python_pools_keep_their_own_placeholders(workdir: Path) -> None:
    for kind, expected in (("Shell", SHELL_PLACEHOLDER), ("PythonLTS", PLACEHOLDER)):
        app = typed_app(FakePool(container_type=kind), container_type=kind)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert expected in str(main_screen(app).code.editor.placeholder), kind


async def test_dialog_titles_and_messages_escape_control_characters(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(ConfirmModal(f"Delete {HOSTILE} [b]", f"Delete {HOSTILE}?\nSure?"))
        await settle(pilot)
        dialog = app.screen.query_one("#confirm-dialog")
        title = dialog._border_title.plain if dialog._border_title else ""
        assert title == "Delete web\\x1b[31m\\u202e-1\\nx [b]"
        message = str(app.screen.query_one(".dialog-message").render())
        assert "web\\x1b[31m\\u202e-1\nx?\nSure?" in message  # its line breaks stay
        shot = app.export_screenshot()
        await app.pop_screen()
        await app.push_screen(TextModal(HOSTILE, Content("body")))
        await settle(pilot)
        shot += app.export_screenshot()
    for raw in ("\x1b", "\u202e"):
        assert raw not in shot


async def test_keys_typed_while_the_picker_first_lists_the_pools_wait_for_the_list() -> None:
    directory = demo_directory(frozen_clock)
    directory.arm = FakeArm(latency=0.3)
    app = demo_app(None, directory)
    async with app.run_test(size=(140, 45)) as pilot:
        picker = app.screen
        assert isinstance(picker, PoolPickerScreen) and picker.listing is None
        await pilot.press("down", "down", "enter")  # before the listing is in
        assert picker.typed_ahead == ["down", "down", "enter"]
        await pilot.pause(0.5)
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.pool.endpoint.endswith("/sessionPools/" + picker.pools[2].name)


async def test_keys_typed_before_a_failed_listing_are_dropped() -> None:
    directory = demo_directory(frozen_clock)
    directory.arm = FakeArm(latency=0.2, failing_subscriptions=[0, 1])
    app = demo_app(None, directory)
    async with app.run_test(size=(140, 45)) as pilot:
        picker = app.screen
        assert isinstance(picker, PoolPickerScreen)
        await pilot.press("down", "enter")
        await pilot.pause(0.4)
        await settle(pilot)
        assert picker.typed_ahead is None and app.screen is picker
