"""`dstui config path|show`: where the settings live and what they resolve to (never secrets)."""

from __future__ import annotations

from typing import Any

from dstui.commands.context import CommandEnv
from dstui.commands.output import render_fields, to_jsonable, write_json
from dstui.config import TOKEN_ENV_VAR
from dstui.paths import config_file, data_dir


async def show_path(env: CommandEnv) -> int:
    path = config_file(env.environ)
    if env.json:
        write_json(env.stdout, {"config_file": path, "exists": path.is_file()})
    else:
        env.out(str(path))
    return 0


def resolved_settings(env: CommandEnv) -> dict[str, Any]:
    config = env.config
    connection = env.connection
    return {
        "config_file": config.path,
        "config_exists": config.exists,
        "data_dir": data_dir(),
        "connection": connection,
        # Only whether a token is present; its value is never shown.
        "token_env": "set" if env.environ.get(TOKEN_ENV_VAR) else "unset",
        "default_profile": config.default_profile,
        "profiles": {name: profile for name, profile in sorted(config.profiles.items())},
        "tui": config.tui,
    }


async def show_settings(env: CommandEnv) -> int:
    settings = to_jsonable(resolved_settings(env))
    if env.json:
        write_json(env.stdout, settings)
        return 0
    connection = settings["connection"]
    source = connection["source"] or "not configured"
    lines: list[tuple[str, str]] = [
        (
            "config file",
            f"{settings['config_file']}" + ("" if settings["config_exists"] else " (absent)"),
        ),
        ("data dir", str(settings["data_dir"])),
        ("endpoint", f"{connection['endpoint'] or '-'} (from {source})"),
        ("api version", connection["api_version"]),
        ("auth", connection["auth"]),
        ("token file", connection["token_file"] or "-"),
        ("ca file", connection["ca_file"] or "-"),
        (TOKEN_ENV_VAR, settings["token_env"]),
        ("profile", connection["profile"] or "-"),
        ("default profile", settings["default_profile"] or "-"),
    ]
    for name, profile in settings["profiles"].items():
        described = ", ".join(
            f"{key}={value}"
            for key, value in profile.items()
            if key != "name" and value is not None
        )
        lines.append((f"profile {name}", described or "(empty)"))
    tui = settings["tui"]
    lines.append(("tui theme", tui["theme"] or "(default)"))
    lines.append(
        ("tui auto refresh", f"{tui['auto_refresh_s']:g}s" if tui["auto_refresh_s"] else "off")
    )
    lines.append(("tui download dir", tui["download_dir"]))
    for action, key in sorted(tui["keymap"].items()):
        lines.append((f"tui key {action}", key))
    env.out(render_fields(lines))
    return 0
