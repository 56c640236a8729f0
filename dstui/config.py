"""User settings (a TOML file with named pool profiles and TUI preferences) and endpoint resolution.

Shared by the CLI and the TUI; imports neither Textual nor the HTTP client.

```toml
default_profile = "prod"

[profiles.prod]
endpoint = "https://eastus.dynamicsessions.io/subscriptions/.../sessionPools/pool"
api_version = "2025-10-02-preview"
auth = "default"            # default | cli | device-code | managed-identity | token | none
token_file = "~/.config/dstui/prod.token"   # only with auth = "token"
ca_file = "~/emulator-ca.pem"   # trust this CA (e.g. `dstui emulator --tls`), not the system's

[tui]
theme = "dstui-dark"
auto_refresh_s = 0
download_dir = "~/Downloads/dstui"
keymap = { refresh = "f5" }
```
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dstui import paths
from dstui.api.constants import DEFAULT_API_VERSION
from dstui.api.validation import is_loopback_endpoint

AUTH_KINDS = ("default", "cli", "device-code", "managed-identity", "token", "none")

# Checked in this order; the first one set wins (after --endpoint).
ENDPOINT_ENV_VARS = ("DSTUI_ENDPOINT", "POOL_MANAGEMENT_ENDPOINT", "ACA_POOL_MANAGEMENT_ENDPOINT")
PROFILE_ENV_VAR = "DSTUI_PROFILE"
TOKEN_ENV_VAR = "DSTUI_TOKEN"
TOKEN_FILE_ENV_VAR = "DSTUI_TOKEN_FILE"
CA_FILE_ENV_VAR = "DSTUI_CA_FILE"

_PROFILE_KEYS = frozenset({"endpoint", "api_version", "auth", "token_file", "ca_file"})
_TUI_KEYS = frozenset({"theme", "auto_refresh_s", "download_dir", "keymap"})
_TOP_KEYS = frozenset({"default_profile", "profiles", "tui"})
_SECRET_KEYS = frozenset({"token", "access_token", "password", "secret", "client_secret"})


class ConfigError(Exception):
    """The config file cannot be used; names the file and the offending key."""

    def __init__(self, path: Path, key: str | None, problem: str, hint: str | None = None) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        self._hint = hint
        where = f"{path}: {key}" if key else str(path)
        super().__init__(f"{where}: {problem}")

    @property
    def message(self) -> str:
        return str(self)

    @property
    def hint(self) -> str:
        if self._hint is not None:
            return self._hint
        return f"fix or remove {self.path} (or point {paths.CONFIG_ENV_VAR} at another file)"


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    endpoint: str | None = None
    api_version: str | None = None
    auth: str | None = None
    token_file: Path | None = None
    ca_file: Path | None = None


@dataclass(frozen=True, slots=True)
class TuiSettings:
    theme: str | None = None
    auto_refresh_s: float = 0.0
    download_dir: Path = field(default_factory=paths.default_download_dir)
    keymap: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    exists: bool
    default_profile: str | None = None
    profiles: Mapping[str, Profile] = field(default_factory=lambda: MappingProxyType({}))
    tui: TuiSettings = field(default_factory=TuiSettings)


@dataclass(frozen=True, slots=True)
class Connection:
    """Where and how to reach a pool; holds no secret (tokens are read when a client is built)."""

    endpoint: str | None
    api_version: str
    auth: str
    token_file: Path | None
    source: str | None  # "flag", an env var name, "profile:<name>", or None when unset
    profile: str | None
    # A CA bundle to trust instead of the system's (an emulator started with --tls).
    ca_file: Path | None = None

    @property
    def tls_verify(self) -> bool | str:
        """What SessionsClient(verify=...) takes: the CA file, or True for the default trust."""
        return str(self.ca_file) if self.ca_file is not None else True


def load_config(path: Path | None = None) -> Config:
    """Read and check the config file; a missing file is an empty config, a bad one ConfigError."""
    config_path = paths.config_file() if path is None else path
    try:
        raw = config_path.read_bytes()
    except FileNotFoundError:
        return Config(path=config_path, exists=False)
    except OSError as exc:
        raise ConfigError(config_path, None, f"cannot read: {exc.strerror or exc}") from exc
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(config_path, None, "not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(config_path, None, f"invalid TOML: {exc}") from exc
    return _parse_document(config_path, document)


def _parse_document(path: Path, document: dict[str, Any]) -> Config:
    _reject_unknown(path, "", document, _TOP_KEYS)
    profiles_table = _table(path, "profiles", document.get("profiles", {}))
    profiles: dict[str, Profile] = {}
    for name, body in profiles_table.items():
        profiles[name] = _parse_profile(path, name, _table(path, f"profiles.{name}", body))
    default_profile = _optional_str(path, "default_profile", document.get("default_profile"))
    if default_profile is not None and default_profile not in profiles:
        raise ConfigError(path, "default_profile", f"no profile named {default_profile!r}")
    tui = _parse_tui(path, _table(path, "tui", document.get("tui", {})))
    return Config(
        path=path,
        exists=True,
        default_profile=default_profile,
        profiles=MappingProxyType(profiles),
        tui=tui,
    )


def _parse_profile(path: Path, name: str, body: dict[str, Any]) -> Profile:
    prefix = f"profiles.{name}"
    for key in body:
        if key in _SECRET_KEYS:
            raise ConfigError(
                path,
                f"{prefix}.{key}",
                "secrets are not read from the config file; use token_file or DSTUI_TOKEN",
            )
    _reject_unknown(path, prefix, body, _PROFILE_KEYS)
    auth = _optional_str(path, f"{prefix}.auth", body.get("auth"))
    if auth is not None and auth not in AUTH_KINDS:
        raise ConfigError(path, f"{prefix}.auth", f"must be one of {', '.join(AUTH_KINDS)}")
    token_file = _optional_str(path, f"{prefix}.token_file", body.get("token_file"))
    ca_file = _optional_str(path, f"{prefix}.ca_file", body.get("ca_file"))
    return Profile(
        name=name,
        endpoint=_optional_str(path, f"{prefix}.endpoint", body.get("endpoint")),
        api_version=_optional_str(path, f"{prefix}.api_version", body.get("api_version")),
        auth=auth,
        token_file=_relative_to(path, token_file) if token_file else None,
        ca_file=_relative_to(path, ca_file) if ca_file else None,
    )


def _parse_tui(path: Path, body: dict[str, Any]) -> TuiSettings:
    _reject_unknown(path, "tui", body, _TUI_KEYS)
    refresh = body.get("auto_refresh_s", 0)
    if isinstance(refresh, bool) or not isinstance(refresh, int | float) or refresh < 0:
        raise ConfigError(path, "tui.auto_refresh_s", "must be a number of seconds >= 0")
    keymap = _table(path, "tui.keymap", body.get("keymap", {}))
    for action, key in keymap.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(path, f"tui.keymap.{action}", "must be a key name (a string)")
    download_dir = _optional_str(path, "tui.download_dir", body.get("download_dir"))
    return TuiSettings(
        theme=_optional_str(path, "tui.theme", body.get("theme")),
        auto_refresh_s=float(refresh),
        download_dir=(
            _relative_to(path, download_dir) if download_dir else paths.default_download_dir()
        ),
        keymap=MappingProxyType(dict(keymap)),
    )


def _reject_unknown(
    path: Path, prefix: str, body: Mapping[str, Any], known: frozenset[str]
) -> None:
    for key in body:
        if key not in known:
            full = f"{prefix}.{key}" if prefix else key
            raise ConfigError(
                path, full, f"unknown key (expected one of {', '.join(sorted(known))})"
            )


def _table(path: Path, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(path, key, "must be a table")
    return value


def _optional_str(path: Path, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, key, "must be a non-empty string")
    return value.strip()


def _relative_to(config_path: Path, value: str) -> Path:
    """`~` expands; a relative path is taken relative to the config file's folder."""
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else config_path.parent / candidate


def resolve_connection(
    endpoint_flag: str | None = None,
    api_version_flag: str | None = None,
    auth_flag: str | None = None,
    profile_flag: str | None = None,
    *,
    token_file_flag: Path | None = None,
    ca_file_flag: Path | None = None,
    config: Config | None = None,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Pick the pool to talk to.

    Endpoint: --endpoint, then DSTUI_ENDPOINT, POOL_MANAGEMENT_ENDPOINT,
    ACA_POOL_MANAGEMENT_ENDPOINT, then the profile (--profile, DSTUI_PROFILE, default_profile).
    The profile's api_version/auth/token_file/ca_file apply when the profile was named explicitly or
    supplied the endpoint, so a default profile never mixes its credentials into an endpoint
    given on the command line. Without a configured auth kind: a token file means "token"; a
    loopback endpoint means "token" when DSTUI_TOKEN is set, else "none"; anything else
    means "default" (DefaultAzureCredential).
    """
    env = os.environ if environ is None else environ
    cfg = load_config(paths.config_file(env)) if config is None else config

    explicit_profile = profile_flag or env.get(PROFILE_ENV_VAR, "").strip() or None
    profile_name = explicit_profile or cfg.default_profile
    profile: Profile | None = None
    if profile_name is not None:
        profile = cfg.profiles.get(profile_name)
        if profile is None:
            key = "--profile" if profile_flag else PROFILE_ENV_VAR
            known = ", ".join(sorted(cfg.profiles)) or "none defined"
            raise ConfigError(
                cfg.path,
                None,
                f"{key}: no profile {profile_name!r} ({known})",
                hint=f"pick a defined profile or add [profiles.{profile_name}] to {cfg.path}",
            )

    endpoint, source = _pick_endpoint(endpoint_flag, env)
    if endpoint is None and profile is not None and profile.endpoint:
        endpoint, source = profile.endpoint, f"profile:{profile.name}"
    applied = (
        profile
        if profile is not None
        and (explicit_profile is not None or source == f"profile:{profile.name}")
        else None
    )

    token_file = (
        token_file_flag
        or _env_path(env, TOKEN_FILE_ENV_VAR)
        or (applied.token_file if applied else None)
    )
    ca_file = (
        ca_file_flag or _env_path(env, CA_FILE_ENV_VAR) or (applied.ca_file if applied else None)
    )
    auth = auth_flag or (applied.auth if applied else None)
    if auth is None:
        auth = _default_auth(endpoint, token_file, env)
    return Connection(
        endpoint=endpoint,
        api_version=api_version_flag
        or (applied.api_version if applied else None)
        or DEFAULT_API_VERSION,
        auth=auth,
        token_file=token_file,
        source=source,
        profile=applied.name if applied else None,
        ca_file=ca_file,
    )


def _env_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    return Path(value).expanduser() if value else None


def _pick_endpoint(flag: str | None, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    if flag and flag.strip():
        return flag.strip(), "flag"
    for var in ENDPOINT_ENV_VARS:
        value = env.get(var, "").strip()
        if value:
            return value, var
    return None, None


def _default_auth(endpoint: str | None, token_file: Path | None, env: Mapping[str, str]) -> str:
    if token_file is not None:
        return "token"
    if endpoint is not None and is_loopback_endpoint(endpoint):
        return "token" if env.get(TOKEN_ENV_VAR) else "none"
    return "default"
