"""What the config file's `[tui]` table does in the app: a bad keymap entry is named once
(file and line) and left out; the theme's precedence is the most recent choice."""

from __future__ import annotations

import json
from pathlib import Path

from dstui.api.fake_pool import FakePool, frozen_clock
from dstui.config import load_config
from dstui.tui.app import DstuiApp
from dstui.tui.settings import AppSettings
from tests.tui.pilot_helpers import main_screen, settle

SIZE = (120, 36)


def app_for(config: Path, data_dir: Path, *, theme: str | None = None) -> DstuiApp:
    tui = load_config(config).tui
    settings = AppSettings(
        pool_label="demo pool — fake data",
        theme=theme,
        config_theme=tui.theme,
        keymap=tui.keymap,
        keymap_lines=tui.keymap_lines,
        config_path=tui.source,
        data_dir=data_dir,
        download_dir=data_dir / "downloads",
        clock=frozen_clock,
        test_mode=True,
    )
    return DstuiApp(FakePool(), settings)


async def test_unknown_ids_and_clashes_are_named_with_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[tui]\ntheme = "dstui-dark"\n\n[tui.keymap]\n'
        'run-code = "q"\nrefresh-sesions = "f9"\ndelete-session = "ctrl+x"\n',
        encoding="utf-8",
    )
    app = app_for(config, tmp_path / "data")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1  # one message for every problem
        message = errors[0]
        assert f"{config}, line 5: [tui.keymap] run-code = \"q\" takes 'q'" in message
        assert "Quit (quit)" in message
        assert f"{config}, line 6: [tui.keymap] unknown binding id 'refresh-sesions'" in message
        assert "delete-session" not in message  # a valid entry is applied quietly
        assert any(entry.text == message for entry in app.messages)  # and kept in the log
        await pilot.press("q")  # still Quit's key
        await pilot.pause()
        assert not app.is_running


async def test_a_valid_remap_is_applied(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[tui.keymap]\nmessages = "M"\n', encoding="utf-8")
    app = app_for(config, tmp_path / "data")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not [n for n in app._notifications if n.severity == "error"]
        assert main_screen(app).messages_key() == "M"


async def test_the_palette_choice_wins_until_the_config_theme_changes(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    data = tmp_path / "data"
    config.write_text('[tui]\ntheme = "nord"\n', encoding="utf-8")
    app = app_for(config, data)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "nord"
        app.theme = "dstui-light"  # what choosing it in the palette does
        await pilot.pause()
    state = json.loads((data / "tui-state.json").read_text(encoding="utf-8"))
    assert state == {"theme": "dstui-light", "config_theme": "nord"}

    again = app_for(config, data)
    async with again.run_test(size=SIZE) as pilot:
        assert again.theme == "dstui-light"  # the later choice wins over the file

    config.write_text('[tui]\ntheme = "gruvbox"\n', encoding="utf-8")
    edited = app_for(config, data)
    async with edited.run_test(size=SIZE) as pilot:
        assert edited.theme == "gruvbox"  # the file was edited after the choice

    flag = app_for(config, data, theme="dstui-light")
    async with flag.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert flag.theme == "dstui-light"  # --theme wins for its run
