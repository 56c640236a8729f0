"""Theme files: validated before use, bad ones reported once and skipped, the choice persists."""

from __future__ import annotations

from pathlib import Path

from dstui.api.fake_pool import FakePool
from dstui.tui.themes import bundled_themes_dir, load_theme_file, load_themes, user_themes_dir
from tests.tui.conftest import AppFactory

GOOD = 'name = "ocean"\nprimary = "#1e90ff"\nbackground = "rgb(10, 20, 30)"\n'
BAD_COLOUR = 'name = "broken"\nprimary = "not-a-colour"\n'


def test_bundled_themes_are_valid() -> None:
    themes, errors = load_themes([bundled_themes_dir()])
    assert errors == []
    names = {theme.name: theme for theme in themes}
    assert {"dstui-dark", "dstui-light"} <= set(names)
    assert names["dstui-dark"].dark and not names["dstui-light"].dark


def test_invalid_colour_is_rejected_before_textual_sees_it(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text(GOOD)
    (tmp_path / "bad.toml").write_text(BAD_COLOUR)
    (tmp_path / "garbled.toml").write_text("name = \n")
    (tmp_path / "extra.toml").write_text('name = "x"\nprimary = "#fff"\nshadow = "#000"\n')
    themes, errors = load_themes([tmp_path])
    assert [t.name for t in themes] == ["ocean"]
    problems = {error.path.name: error.problem for error in errors}
    assert "not a colour" in problems["bad.toml"]
    assert "invalid TOML" in problems["garbled.toml"]
    assert "unknown key 'shadow'" in problems["extra.toml"]


def test_variables_are_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "vars.toml"
    path.write_text('name = "v"\nprimary = "#fff"\n[variables]\nfooter-key-foreground = "nope"\n')
    themes, errors = load_themes([tmp_path])
    assert themes == [] and "footer-key-foreground" in errors[0].problem
    path.write_text('name = "v"\nprimary = "#fff"\n[variables]\nfooter-key-foreground = "red"\n')
    assert load_theme_file(path).variables == {"footer-key-foreground": "red"}


async def test_user_theme_is_offered_and_a_bad_one_reported_once(make_app: AppFactory) -> None:
    user_dir = user_themes_dir()
    user_dir.mkdir(parents=True)
    (user_dir / "ocean.toml").write_text(GOOD)
    (user_dir / "broken.toml").write_text(BAD_COLOUR)
    app = make_app(FakePool(), theme="ocean")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "ocean"
        assert "broken" not in app.available_themes
        reports = [n for n in app._notifications if "broken.toml" in n.message]
        assert len(reports) == 1 and reports[0].severity == "error"


async def test_theme_choice_persists(make_app: AppFactory) -> None:
    app = make_app(FakePool())
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "dstui-dark"
        app.theme = "dstui-light"
        await pilot.pause()
    again = make_app(FakePool())
    async with again.run_test() as pilot:
        await pilot.pause()
        assert again.theme == "dstui-light"


async def test_unknown_theme_falls_back_with_a_warning(make_app: AppFactory) -> None:
    app = make_app(FakePool(), theme="no-such-theme")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "dstui-dark"
        assert any("no-such-theme" in n.message for n in app._notifications)
