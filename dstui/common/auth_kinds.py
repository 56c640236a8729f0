"""The ways dstui can authenticate to a pool (`--auth`, a profile's `auth`)."""

from __future__ import annotations

from typing import Literal, get_args

AuthKind = Literal["default", "cli", "device-code", "managed-identity", "token", "none"]
AUTH_KINDS: tuple[str, ...] = get_args(AuthKind)
