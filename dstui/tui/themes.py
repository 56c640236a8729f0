"""Load dstui's TOML themes (shipped and user-provided) as validated Textual themes.

Textual's `Theme` accepts any string and only fails once the theme is applied, so every colour
is parsed with `Color.parse` here first; a file that fails is reported and skipped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from dstui import paths

COLOUR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_KNOWN_KEYS = frozenset({"name", "dark", "variables", *COLOUR_FIELDS})
DEFAULT_THEME = "dstui-dark"


@dataclass(frozen=True, slots=True)
class ThemeLoadError:
    path: Path
    problem: str

    def __str__(self) -> str:
        return f"{self.path.name}: {self.problem}"


def bundled_themes_dir() -> Path:
    """`dstui/_themes` inside an installed wheel, else the repository's `themes/` folder."""
    # A plain path: importlib.resources would import zipfile, ~30 ms of every start-up.
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "_themes"
    return packaged if packaged.is_dir() else here.parents[2] / "themes"


def user_themes_dir() -> Path:
    return paths.config_dir() / "themes"


def theme_from_mapping(data: dict[str, Any]) -> Theme:
    """Build a Theme from a parsed TOML document; ValueError names the first bad entry."""
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("'name' must be a non-empty string")
    if "primary" not in data:
        raise ValueError("'primary' is required")
    colours: dict[str, str] = {}
    for field in COLOUR_FIELDS:
        if field in data:
            colours[field] = _checked_colour(field, data[field])
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError("'dark' must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError("'variables' must be a table")
    checked_vars = {
        str(key): _checked_colour(f"variables.{key}", value) for key, value in variables.items()
    }
    return Theme(
        name=name.strip(),
        primary=colours["primary"],
        secondary=colours.get("secondary"),
        warning=colours.get("warning"),
        error=colours.get("error"),
        success=colours.get("success"),
        accent=colours.get("accent"),
        foreground=colours.get("foreground"),
        background=colours.get("background"),
        surface=colours.get("surface"),
        panel=colours.get("panel"),
        boost=colours.get("boost"),
        dark=dark,
        variables=checked_vars,
    )


def _checked_colour(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field!r} must be a colour string")
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ValueError(f"{field!r}: {value!r} is not a colour") from exc
    return value


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid TOML ({exc})") from exc
    return theme_from_mapping(data)


def load_themes(directories: Iterable[Path]) -> tuple[list[Theme], list[ThemeLoadError]]:
    """Every valid `*.toml` theme in the given folders (later folders override earlier names)."""
    by_name: dict[str, Theme] = {}
    errors: list[ThemeLoadError] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                errors.append(ThemeLoadError(path, str(exc)))
                continue
            by_name[theme.name] = theme
    return list(by_name.values()), errors
