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
arm_endpoint = "https://management.usgovcloudapi.net"   # Resource Manager (sovereign clouds)
container_type = "Shell"    # the explorer's pool type when ARM cannot say (as --container-type)

[profiles.agents]           # a pool named by ARM id instead of an endpoint: its
pool = "/subscriptions/.../resourceGroups/rg/providers/Microsoft.App/sessionPools/agents"
                            # poolManagementEndpoint is looked up through ARM at start

[tui]
theme = "dstui-dark"
auto_refresh_s = 0
watch_interval_s = 5         # watch files (w): seconds between listings, 1 to 600
download_dir = "~/Downloads/dstui"
keymap = { delete-session = "ctrl+x" }   # binding id -> keys (see the README)
```
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from dstui import paths
from dstui.api.constants import DEFAULT_API_VERSION
from dstui.api.errors import RequestValidationError
from dstui.api.validation import expand_local_path, is_loopback_endpoint
from dstui.common.auth_kinds import AUTH_KINDS, AuthKind

# Checked in this order; the first one set wins (after --endpoint).
ENDPOINT_ENV_VARS = ("DSTUI_ENDPOINT", "POOL_MANAGEMENT_ENDPOINT", "ACA_POOL_MANAGEMENT_ENDPOINT")
PROFILE_ENV_VAR = "DSTUI_PROFILE"
TOKEN_ENV_VAR = "DSTUI_TOKEN"
TOKEN_FILE_ENV_VAR = "DSTUI_TOKEN_FILE"
CA_FILE_ENV_VAR = "DSTUI_CA_FILE"
ARM_ENDPOINT_ENV_VAR = "DSTUI_ARM_ENDPOINT"
# With auth "token": the token sent to ARM (a sessions token has the wrong audience there).
ARM_TOKEN_ENV_VAR = "DSTUI_ARM_TOKEN"

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
    arm_endpoint: str | None = None
    pool: str | None = None  # a session pool's ARM id, resolved to its endpoint at start
    container_type: str | None = None  # the explorer's pool type, as --container-type


# Watch files (w): each listing keeps the session alive, so not faster than this.
WATCH_INTERVAL_MIN_S = 1.0
WATCH_INTERVAL_MAX_S = 600.0
WATCH_INTERVAL_DEFAULT_S = 5.0


@dataclass(frozen=True, slots=True)
class TuiConfig:
    """The config file's `[tui]` table, parsed."""

    theme: str | None = None
    auto_refresh_s: float = 0.0
    watch_interval_s: float = WATCH_INTERVAL_DEFAULT_S
    download_dir: Path = field(default_factory=paths.default_download_dir)
    keymap: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Where each keymap entry was written (1-based line), so a bad one can be pointed at.
    keymap_lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    source: Path | None = None  # the config file these settings came from


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    exists: bool
    default_profile: str | None = None
    profiles: Mapping[str, Profile] = field(default_factory=lambda: MappingProxyType({}))
    tui: TuiConfig = field(default_factory=TuiConfig)


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
    # Resource Manager: --arm-endpoint, DSTUI_ARM_ENDPOINT or the profile's (None: Azure's).
    arm_endpoint: str | None = None
    # The profile named its pool by ARM id: `endpoint` is None until it is looked up.
    pool_id: str | None = None
    container_type: str | None = None  # the profile's container_type (the explorer's pool type)

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
        text = raw.decode("utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(config_path, None, "not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(config_path, None, f"invalid TOML: {exc}") from exc
    config = _parse_document(config_path, document)
    tui = config.tui
    lines = MappingProxyType(_keymap_lines(text, tui.keymap))
    return replace(config, tui=replace(tui, keymap_lines=lines, source=config_path))


def _keymap_lines(text: str, keymap: Mapping[str, str]) -> dict[str, int]:
    """The line of each keymap entry: in a `[tui.keymap]` table, else in an inline table."""
    found: dict[str, int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[] \t").replace('"', "").replace(" ", "")
            continue
        for binding_id in keymap:
            if binding_id in found:
                continue
            key = re.escape(binding_id)
            in_table = section == "tui.keymap" and re.match(rf"[\"']?{key}[\"']?\s*=", stripped)
            inline = section == "tui" and re.search(rf"\bkeymap\s*=.*[{{,]\s*[\"']?{key}\b", line)
            if in_table or inline:
                found[binding_id] = number
    return found


# What the file may hold. Paths stay strings here: they are resolved against the file's folder.
_NonEmptyText = Annotated[str, msgspec.Meta(pattern=r"\S")]


class _ProfileFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    endpoint: _NonEmptyText | None = None
    api_version: _NonEmptyText | None = None
    auth: AuthKind | None = None
    token_file: _NonEmptyText | None = None
    ca_file: _NonEmptyText | None = None
    arm_endpoint: _NonEmptyText | None = None
    pool: _NonEmptyText | None = None
    container_type: Literal["PythonLTS", "Shell", "CustomContainer"] | None = None


class _TuiFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    theme: _NonEmptyText | None = None
    auto_refresh_s: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    watch_interval_s: Annotated[
        float, msgspec.Meta(ge=WATCH_INTERVAL_MIN_S, le=WATCH_INTERVAL_MAX_S)
    ] = WATCH_INTERVAL_DEFAULT_S
    download_dir: _NonEmptyText | None = None
    # Entries are checked one by one, so that an error can name the binding id.
    keymap: dict[str, Any] = {}


class _ConfigFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    default_profile: _NonEmptyText | None = None
    # Profiles are checked one by one, so that an error can name the profile.
    profiles: dict[str, Any] = {}
    tui: _TuiFile = _TuiFile()


_T = TypeVar("_T")
_KeyName = Annotated[str, msgspec.Meta(min_length=1)]

# What a key must hold, in words, by the last part of its name: tables say "a table", a
# keymap entry "a key name", anything else not named here "a non-empty string".
_EXPECTED = {
    "auth": f"one of {', '.join(AUTH_KINDS)}",
    "auto_refresh_s": "a number of seconds >= 0",
    "watch_interval_s": (
        f"a number of seconds from {WATCH_INTERVAL_MIN_S:g} to {WATCH_INTERVAL_MAX_S:g}"
    ),
    "container_type": "one of PythonLTS, Shell, CustomContainer",
}
_TOML_TYPES = {
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "str": "a string",
    "array": "an array",
    "object": "a table",
}
_AT_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_UNKNOWN_FIELD = re.compile(r"unknown field `(?P<name>[^`]+)`")
_GOT = re.compile(r", got `(?P<got>[^`]+)`")


def _parse_document(path: Path, document: dict[str, Any]) -> Config:
    parsed = _convert(path, "", document, _ConfigFile)
    profiles = {name: _parse_profile(path, name, body) for name, body in parsed.profiles.items()}
    default_profile = _stripped(parsed.default_profile)
    if default_profile is not None and default_profile not in profiles:
        raise ConfigError(path, "default_profile", f"no profile named {default_profile!r}")
    return Config(
        path=path,
        exists=True,
        default_profile=default_profile,
        profiles=MappingProxyType(profiles),
        tui=_parse_tui(path, parsed.tui),
    )


def _parse_profile(path: Path, name: str, body: Any) -> Profile:
    prefix = f"profiles.{name}"
    for key in body if isinstance(body, dict) else ():
        if key in _SECRET_KEYS:
            raise ConfigError(
                path,
                f"{prefix}.{key}",
                "secrets are not read from the config file; use token_file or DSTUI_TOKEN",
            )
    profile = _convert(path, prefix, body, _ProfileFile)
    pool = _stripped(profile.pool)
    if pool is not None and not _is_pool_id(pool):
        raise ConfigError(
            path,
            f"{prefix}.pool",
            "must be a session pool's ARM id (/subscriptions/<sub>/resourceGroups/<group>/"
            "providers/Microsoft.App/sessionPools/<name>)",
        )
    if pool is not None and profile.endpoint is not None:
        raise ConfigError(path, f"{prefix}.pool", "give either endpoint or pool, not both")
    token_file = _stripped(profile.token_file)
    ca_file = _stripped(profile.ca_file)
    return Profile(
        name=name,
        endpoint=_stripped(profile.endpoint),
        api_version=_stripped(profile.api_version),
        auth=profile.auth,
        token_file=_relative_to(path, f"{prefix}.token_file", token_file) if token_file else None,
        ca_file=_relative_to(path, f"{prefix}.ca_file", ca_file) if ca_file else None,
        arm_endpoint=_stripped(profile.arm_endpoint),
        pool=pool,
        container_type=profile.container_type,
    )


def _parse_tui(path: Path, tui: _TuiFile) -> TuiConfig:
    keymap = {
        binding_id: _convert(path, f"tui.keymap.{binding_id}", key, _KeyName)
        for binding_id, key in tui.keymap.items()
    }
    download_dir = _stripped(tui.download_dir)
    return TuiConfig(
        theme=_stripped(tui.theme),
        auto_refresh_s=tui.auto_refresh_s,
        watch_interval_s=tui.watch_interval_s,
        download_dir=(
            _relative_to(path, "tui.download_dir", download_dir)
            if download_dir
            else paths.default_download_dir()
        ),
        keymap=MappingProxyType(keymap),
    )


def _is_pool_id(text: str) -> bool:
    from dstui.api.arm_models import is_pool_id  # only profiles naming a pool need ARM's models

    return is_pool_id(text)


def _convert(path: Path, prefix: str, value: Any, shape: type[_T]) -> _T:
    """`value` as `shape`, or a ConfigError naming the file, the key and what it must hold."""
    try:
        return msgspec.convert(value, shape)
    except msgspec.ValidationError as exc:
        raise _config_error(path, prefix, str(exc), shape) from None


def _config_error(path: Path, prefix: str, detail: str, shape: type[Any]) -> ConfigError:
    located = _AT_PATH.search(detail)
    parts = [prefix] if prefix else []
    if located:
        parts += [part for part in located["path"].split(".") if part]
    unknown = _UNKNOWN_FIELD.search(detail)
    if unknown:
        owner = _TuiFile if parts[-1:] == ["tui"] else shape
        known = ", ".join(sorted(getattr(owner, "__struct_fields__", ())))
        unknown_key = ".".join([*parts, unknown["name"]])
        return ConfigError(path, unknown_key, f"unknown key (expected one of {known})")
    key = ".".join(parts) or None
    last = parts[-1] if parts else ""
    if prefix.startswith("tui.keymap."):
        expected = "a key name (a string)"
    elif detail.startswith("Expected `object`"):
        expected = "a table"
    else:
        expected = _EXPECTED.get(last, "a non-empty string")
    got = _GOT.search(detail)
    found = f" (found {_TOML_TYPES.get(got['got'], got['got'])})" if got else ""
    return ConfigError(path, key, f"must be {expected}{found}")


def _stripped(value: str | None) -> str | None:
    return value.strip() if value is not None else None


def _relative_to(config_path: Path, key: str, value: str) -> Path:
    """`~` expands; a relative path is taken relative to the config file's folder."""
    try:
        candidate = expand_local_path(Path(value))
    except RequestValidationError as exc:
        raise ConfigError(config_path, key, exc.message, hint=exc.hint) from None
    return candidate if candidate.is_absolute() else config_path.parent / candidate


def resolve_connection(
    endpoint_flag: str | None = None,
    api_version_flag: str | None = None,
    auth_flag: str | None = None,
    profile_flag: str | None = None,
    *,
    token_file_flag: Path | None = None,
    ca_file_flag: Path | None = None,
    arm_endpoint_flag: str | None = None,
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

    A profile may name its pool by ARM id (`pool`) instead: `pool_id` is then set and the
    endpoint left None, for the caller to look up through ARM (--arm-endpoint, then
    DSTUI_ARM_ENDPOINT, then the profile's arm_endpoint).
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
    pool_id: str | None = None
    if endpoint is None and profile is not None and profile.endpoint:
        endpoint, source = profile.endpoint, f"profile:{profile.name}"
    elif endpoint is None and profile is not None and profile.pool:
        pool_id, source = profile.pool, f"profile:{profile.name}"
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
    arm_endpoint = (
        (arm_endpoint_flag or "").strip()
        or env.get(ARM_ENDPOINT_ENV_VAR, "").strip()
        or (applied.arm_endpoint if applied else None)
        or None
    )
    auth = auth_flag or (applied.auth if applied else None)
    if auth is None:
        # Without a pool endpoint (yet: a pool named by ARM id), ARM's host decides.
        auth = _default_auth(endpoint or arm_endpoint, token_file, env)
    return Connection(
        endpoint=endpoint,
        # A flag given empty is refused later like any other malformed version, not defaulted.
        api_version=api_version_flag
        if api_version_flag is not None
        else (applied.api_version if applied else None) or DEFAULT_API_VERSION,
        auth=auth,
        token_file=token_file,
        source=source,
        profile=applied.name if applied else None,
        ca_file=ca_file,
        arm_endpoint=arm_endpoint,
        pool_id=pool_id,
        container_type=applied.container_type if applied else None,
    )


def _env_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        return expand_local_path(Path(value))
    except RequestValidationError as exc:
        raise RequestValidationError(f"{name}: {exc.message}", hint=exc.hint) from None


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
