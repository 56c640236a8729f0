"""The `export …` lines printed for agents to paste when the emulator or the proxy starts."""

from __future__ import annotations

import shlex
from pathlib import Path


def ca_trust_exports(ca_file: Path) -> list[str]:
    """What makes Python's ssl module and requests trust `ca_file`."""
    quoted = shlex.quote(str(ca_file))
    return [f"export SSL_CERT_FILE={quoted}", f"export REQUESTS_CA_BUNDLE={quoted}"]
