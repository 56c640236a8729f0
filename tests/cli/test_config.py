"""Config file parsing and the endpoint/auth resolution order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dstui import paths
from dstui.api.constants import DEFAULT_API_VERSION
from dstui.config import (
    Config,
    ConfigError,
    Connection,
    load_config,
    resolve_connection,
)

PROFILES = """
default_profile = "prod"

[profiles.prod]
endpoint = "https://eastus.dynamicsessions.io/subscriptions/s/resourceGroups/g/sessionPools/prod"
api_version = "2025-02-02-preview"
auth = "cli"

[profiles.lab]
endpoint = "https://eastus.dynamicsessions.io/subscriptions/s/resourceGroups/g/sessionPools/lab"
auth = "token"
token_file = "lab.token"

[tui]
theme = "dstui-light"
auto_refresh_s = 5
download_dir = "~/dl"
keymap = { refresh = "f5" }
"""

ALL_ENV = {
    "DSTUI_ENDPOINT": "https://dstui-env.example",
    "POOL_MANAGEMENT_ENDPOINT": "https://pool-env.example",
    "ACA_POOL_MANAGEMENT_ENDPOINT": "https://aca-env.example",
}


def write_config(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_config_file_defaults_to_platform_config_dir() -> None:
    expected = Path(os.environ["XDG_CONFIG_HOME"]) / "dstui" / "config.toml"
    assert paths.config_file() == expected


def test_dstui_config_env_overrides_path(tmp_path: Path) -> None:
    override = tmp_path / "elsewhere.toml"
    assert paths.config_file({"DSTUI_CONFIG": str(override)}) == override


def test_missing_file_is_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "absent.toml")
    assert not config.exists
    assert config.profiles == {}
    assert config.tui.download_dir == paths.default_download_dir()


def test_profiles_and_tui_settings_parse(tmp_path: Path) -> None:
    config = write_config(tmp_path, PROFILES)
    assert config.default_profile == "prod"
    assert config.profiles["prod"].auth == "cli"
    assert config.profiles["lab"].token_file == tmp_path / "lab.token"
    assert config.tui.theme == "dstui-light"
    assert config.tui.auto_refresh_s == 5.0
    assert config.tui.download_dir == Path("~/dl").expanduser()
    assert dict(config.tui.keymap) == {"refresh": "f5"}


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("default_profile = [", None, "invalid TOML"),
        ('colour = "red"', "colour", "unknown key"),
        ('default_profile = "nope"', "default_profile", "no profile named 'nope'"),
        ('[profiles.a]\nauth = "password"', "profiles.a.auth", "must be one of"),
        ("[profiles.a]\nendpoint = 3", "profiles.a.endpoint", "non-empty string"),
        ('[profiles.a]\ntoken = "abc"', "profiles.a.token", "secrets are not read"),
        ("[tui]\nauto_refresh_s = -1", "tui.auto_refresh_s", ">= 0"),
        ("[tui]\nkeymap = { quit = 1 }", "tui.keymap.quit", "key name"),
        ("profiles = 3", "profiles", "must be a table"),
    ],
)
def test_invalid_config_names_file_and_key(
    tmp_path: Path, text: str, key: str | None, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        write_config(tmp_path, text)
    error = caught.value
    assert error.path == tmp_path / "config.toml"
    assert error.key == key
    assert problem in str(error)
    assert str(tmp_path / "config.toml") in str(error)


def test_endpoint_resolution_order(tmp_path: Path) -> None:
    config = write_config(tmp_path, PROFILES)
    env = dict(ALL_ENV)

    def resolve(flag: str | None = None) -> Connection:
        return resolve_connection(flag, config=config, environ=env)

    by_flag = resolve("https://flag.example")
    assert (by_flag.source, by_flag.endpoint) == ("flag", "https://flag.example")
    expected = [
        ("DSTUI_ENDPOINT", "https://dstui-env.example"),
        ("POOL_MANAGEMENT_ENDPOINT", "https://pool-env.example"),
        ("ACA_POOL_MANAGEMENT_ENDPOINT", "https://aca-env.example"),
    ]
    for var, endpoint in expected:
        connection = resolve()
        assert (connection.source, connection.endpoint) == (var, endpoint)
        del env[var]
    from_profile = resolve()
    assert from_profile.source == "profile:prod"
    assert from_profile.endpoint == config.profiles["prod"].endpoint
    assert from_profile.api_version == "2025-02-02-preview"
    assert from_profile.auth == "cli"
    assert from_profile.profile == "prod"


def test_nothing_configured_gives_no_endpoint(tmp_path: Path) -> None:
    connection = resolve_connection(config=load_config(tmp_path / "none.toml"), environ={})
    assert connection == Connection(
        endpoint=None,
        api_version=DEFAULT_API_VERSION,
        auth="default",
        token_file=None,
        source=None,
        profile=None,
    )


def test_profile_flag_beats_env_profile_and_default(tmp_path: Path) -> None:
    config = write_config(tmp_path, PROFILES)
    by_flag = resolve_connection(
        profile_flag="lab", config=config, environ={"DSTUI_PROFILE": "prod"}
    )
    assert by_flag.profile == "lab"
    assert by_flag.auth == "token"
    assert by_flag.token_file == tmp_path / "lab.token"
    by_env = resolve_connection(config=config, environ={"DSTUI_PROFILE": "lab"})
    assert by_env.source == "profile:lab"


def test_unknown_profile_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, PROFILES)
    with pytest.raises(ConfigError, match="no profile 'nope' \\(lab, prod\\)") as caught:
        resolve_connection(profile_flag="nope", config=config, environ={})
    assert caught.value.hint.startswith("pick a defined profile or add [profiles.nope]")


def test_default_profile_does_not_leak_auth_into_env_endpoint(tmp_path: Path) -> None:
    config = write_config(tmp_path, PROFILES)
    connection = resolve_connection(
        config=config, environ={"DSTUI_ENDPOINT": "https://other.example"}
    )
    assert connection.profile is None
    assert connection.auth == "default"
    assert connection.api_version == DEFAULT_API_VERSION


def test_explicit_profile_applies_its_auth_to_an_overridden_endpoint(tmp_path: Path) -> None:
    config = write_config(tmp_path, PROFILES)
    connection = resolve_connection(
        "https://override.example", profile_flag="prod", config=config, environ={}
    )
    assert (connection.endpoint, connection.source) == ("https://override.example", "flag")
    assert (connection.auth, connection.api_version) == ("cli", "2025-02-02-preview")


def test_flags_beat_profile_values(tmp_path: Path) -> None:
    config = write_config(tmp_path, PROFILES)
    connection = resolve_connection(
        api_version_flag="2024-02-02-preview", auth_flag="none", config=config, environ={}
    )
    assert (connection.api_version, connection.auth) == ("2024-02-02-preview", "none")


@pytest.mark.parametrize(
    ("endpoint", "env", "auth"),
    [
        ("http://127.0.0.1:8000", {}, "none"),
        ("http://localhost:8000", {"DSTUI_TOKEN": "secret-token-value"}, "token"),
        ("http://[::1]:8000", {}, "none"),
        ("https://eastus.dynamicsessions.io/x", {"DSTUI_TOKEN": "secret-token-value"}, "default"),
        ("https://eastus.dynamicsessions.io/x", {"DSTUI_TOKEN_FILE": "/t"}, "token"),
    ],
)
def test_auth_default_depends_on_endpoint(
    tmp_path: Path, endpoint: str, env: dict[str, str], auth: str
) -> None:
    config = load_config(tmp_path / "none.toml")
    assert resolve_connection(endpoint, config=config, environ=env).auth == auth


def test_token_file_flag_beats_env(tmp_path: Path) -> None:
    config = load_config(tmp_path / "none.toml")
    connection = resolve_connection(
        "http://127.0.0.1:1",
        token_file_flag=Path("/flag.token"),
        config=config,
        environ={"DSTUI_TOKEN_FILE": "/env.token"},
    )
    assert connection.token_file == Path("/flag.token")


def test_resolve_reads_config_named_by_environ(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(PROFILES, encoding="utf-8")
    connection = resolve_connection(environ={"DSTUI_CONFIG": str(tmp_path / "c.toml")})
    assert connection.profile == "prod"
