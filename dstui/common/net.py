"""Which host names stay on this machine: the client sends plain http (or no token) only there,
and the emulator and the proxy bind and answer only there unless told otherwise."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """`localhost`, `*.localhost` or a loopback address (IPv6 with or without brackets)."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
