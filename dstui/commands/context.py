"""What every command gets: its streams, the resolved connection and a way to open a client."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from dstui.api import RetryPolicy, SessionPoolAPI, SessionsClient
from dstui.api.auth import make_token_provider
from dstui.commands.output import write_json
from dstui.config import TOKEN_ENV_VAR, Config, Connection, load_config, resolve_connection
from dstui.paths import config_file
from dstui.recording.own_requests import request_log_observer


class CommandError(Exception):
    """A problem with what the user asked for (not with the service); printed with a hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


ClientFactory = Callable[[Connection], SessionPoolAPI]


def make_client(
    connection: Connection,
    environ: Mapping[str, str] | None = None,
    *,
    retry: RetryPolicy | None = None,
) -> SessionsClient:
    """A SessionsClient for a resolved connection; the token is read here and kept nowhere else.

    With auth "token", a token file (flag, DSTUI_TOKEN_FILE or profile) wins over DSTUI_TOKEN.
    """
    if connection.endpoint is None:
        raise missing_endpoint_error(environ)
    env = os.environ if environ is None else environ
    uses_env_token = connection.auth == "token" and connection.token_file is None
    token = env.get(TOKEN_ENV_VAR) if uses_env_token else None
    provider = make_token_provider(connection.auth, token=token, token_file=connection.token_file)
    return SessionsClient(
        connection.endpoint,
        api_version=connection.api_version,
        auth=provider,
        verify=connection.tls_verify,
        observer=request_log_observer(env),
        retry=retry,
    )


def missing_endpoint_error(environ: Mapping[str, str] | None = None) -> CommandError:
    return CommandError(
        "no pool endpoint configured",
        "pass --endpoint, set DSTUI_ENDPOINT or POOL_MANAGEMENT_ENDPOINT, or add a profile "
        f"to {config_file(environ)}; `dstui emulator` runs a local pool",
    )


@dataclass
class CommandEnv:
    args: argparse.Namespace
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    client_factory: ClientFactory | None = None
    _config: Config | None = None
    _connection: Connection | None = None

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(config_file(self.environ))
        return self._config

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            token_file: Path | None = getattr(self.args, "token_file", None)
            ca_file: Path | None = getattr(self.args, "ca_file", None)
            self._connection = resolve_connection(
                getattr(self.args, "endpoint", None),
                getattr(self.args, "api_version", None),
                getattr(self.args, "auth", None),
                getattr(self.args, "profile", None),
                token_file_flag=token_file,
                ca_file_flag=ca_file,
                arm_endpoint_flag=getattr(self.args, "arm_endpoint", None),
                config=self.config,
                environ=self.environ,
            )
        return self._connection

    def use_endpoint(self, endpoint: str) -> None:
        """Aim at `endpoint` from now on (a pool the profile named by ARM id, looked up)."""
        self._connection = replace(self.connection, endpoint=endpoint)

    def client(self) -> SessionPoolAPI:
        if self.connection.endpoint is None:
            raise missing_endpoint_error(self.environ)
        if self.client_factory is not None:
            return self.client_factory(self.connection)
        return make_client(self.connection, self.environ)

    def out(self, text: str = "") -> None:
        self.stdout.write(f"{text}\n")

    def note(self, text: str) -> None:
        self.stderr.write(f"{text}\n")

    def report_done(self, data: object, message: str) -> None:
        """A finished action: `data` as JSON on stdout with --json, else `message` on stderr."""
        if self.json:
            write_json(self.stdout, data)
        else:
            self.note(message)
