"""`dstui config path|show|validate`: where the settings live, what they resolve to (never
secrets), and whether the file can be used."""

from __future__ import annotations

from typing import Any

from dstui.api.arm import DEFAULT_ARM_ENDPOINT
from dstui.api.errors import RequestValidationError
from dstui.api.validation import normalize_endpoint
from dstui.commands.context import CommandEnv
from dstui.commands.output import render_fields, to_jsonable, write_json
from dstui.config import TOKEN_ENV_VAR, Config, ConfigError, load_config
from dstui.paths import config_file, data_dir


async def show_path(env: CommandEnv) -> int:
    path = config_file(env.environ)
    if env.json:
        write_json(env.stdout, {"config_file": path, "exists": path.is_file()})
    else:
        env.out(str(path))
    return 0


def endpoint_in_use(raw: str | None) -> tuple[str | None, str | None]:
    """(the endpoint calls go to, why it cannot be used): normalised as the client does it,
    e.g. without a legacy trailing /python/execute."""
    if raw is None:
        return None, None
    try:
        return normalize_endpoint(raw), None
    except RequestValidationError as exc:
        return None, exc.message


def resolved_settings(env: CommandEnv) -> dict[str, Any]:
    config = env.config
    connection = env.connection
    endpoint, problem = endpoint_in_use(connection.endpoint)
    return {
        "config_file": config.path,
        "config_exists": config.exists,
        "data_dir": data_dir(),
        "connection": connection,
        "endpoint_in_use": endpoint,
        "endpoint_problem": problem,
        # Only whether a token is present; its value is never shown.
        "token_env": "set" if env.environ.get(TOKEN_ENV_VAR) else "unset",
        "default_profile": config.default_profile,
        "profiles": {name: profile for name, profile in sorted(config.profiles.items())},
        "tui": config.tui,
    }


def _endpoint_line(settings: dict[str, Any], source: str) -> str:
    raw = settings["connection"]["endpoint"]
    pool_id = settings["connection"].get("pool_id")
    if raw is None and pool_id:
        return f"looked up through ARM at start, for pool {pool_id} (from {source})"
    if raw is None:
        return f"- (from {source})"
    if settings["endpoint_problem"]:
        return f"{raw} (from {source}; unusable: {settings['endpoint_problem']})"
    shown = settings["endpoint_in_use"]
    note = f"; configured as {raw}" if shown != raw.strip() else ""
    return f"{shown} (from {source}{note})"


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
        ("endpoint", _endpoint_line(settings, source)),
        ("api version", connection["api_version"]),
        ("auth", connection["auth"]),
        ("token file", connection["token_file"] or "-"),
        ("ca file", connection["ca_file"] or "-"),
        ("arm endpoint", connection.get("arm_endpoint") or f"- ({DEFAULT_ARM_ENDPOINT})"),
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


async def validate_config(env: CommandEnv) -> int:
    """Check the config file: its keys and types, then what each profile points at. A bad file
    or a bad value is reported (file, key, what it must be) with exit code 2."""
    config = load_config(config_file(env.environ))
    problems = _profile_problems(config)
    if env.json:
        write_json(
            env.stdout,
            {
                "config_file": config.path,
                "exists": config.exists,
                "valid": not problems,
                "problems": [
                    {"key": problem.key, "problem": problem.problem} for problem in problems
                ],
            },
        )
    elif not config.exists:
        env.out(f"{config.path}: no such file; the defaults apply")
    elif not problems:
        env.out(f"{config.path}: valid ({_summary(config)})")
    for problem in problems if not env.json else ():
        env.note(f"error: {problem}")
    return 2 if problems else 0


def _profile_problems(config: Config) -> list[ConfigError]:
    problems: list[ConfigError] = []
    for name, profile in sorted(config.profiles.items()):
        prefix = f"profiles.{name}"
        _, unusable = endpoint_in_use(profile.endpoint)
        if unusable:
            problems.append(ConfigError(config.path, f"{prefix}.endpoint", unusable))
        arm_problem = _arm_endpoint_problem(profile.arm_endpoint)
        if arm_problem:
            problems.append(ConfigError(config.path, f"{prefix}.arm_endpoint", arm_problem))
        for key, file in (("token_file", profile.token_file), ("ca_file", profile.ca_file)):
            if file is not None and not file.is_file():
                problems.append(ConfigError(config.path, f"{prefix}.{key}", f"no file at {file}"))
    return problems


def _arm_endpoint_problem(raw: str | None) -> str | None:
    if raw is None:
        return None
    from dstui.api.arm import normalize_arm_endpoint

    try:
        normalize_arm_endpoint(raw)
    except RequestValidationError as exc:
        return exc.message
    return None


def _summary(config: Config) -> str:
    count = len(config.profiles)
    parts = [f"{count} profile{'s' if count != 1 else ''}"]
    if config.default_profile:
        parts.append(f"default {config.default_profile}")
    if config.tui.keymap:
        parts.append(f"{len(config.tui.keymap)} key bindings remapped")
    return ", ".join(parts)
