"""A throw-away CA and server certificate (trustme) so clients that insist on https can connect."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

from dstui.emulator.security import WILDCARD_HOSTS


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


def make_tls_files(directory: Path, host: str) -> TlsFiles:
    names = ["127.0.0.1", "localhost", "::1"]
    if host not in WILDCARD_HOSTS and host not in names:
        names.append(host)
    ca = trustme.CA(organization_name="dstui emulator")
    cert = ca.issue_cert(*names)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    ca.cert_pem.write_to_path(str(files.ca_file))
    cert.cert_chain_pems[0].write_to_path(str(files.cert_file))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(files.cert_file), append=True)
    cert.private_key_pem.write_to_path(str(files.key_file))
    files.key_file.chmod(0o600)
    return files
