"""Check 1: the endpoint parses, its host resolves, and (for https) the TLS handshake succeeds
with a certificate the client trusts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from dstui.api.errors import RequestValidationError
from dstui.api.validation import normalize_endpoint
from dstui.common.net import is_loopback_host
from dstui.doctor.model import CheckResult, CheckStatus

TITLE = "Endpoint, DNS and TLS"
CONNECT_TIMEOUT_S = 5.0
CERT_EXPIRY_WARN_DAYS = 14
_CA_FIX = (
    "If a proxy re-signs TLS here, give its CA certificate with --ca-file or DSTUI_CA_FILE; "
    "otherwise check the endpoint's host name."
)


def _result(status: CheckStatus, finding: str, fix: str = "") -> CheckResult:
    return CheckResult("endpoint", TITLE, status, finding, fix)


async def check_endpoint(
    endpoint: str | None,
    *,
    ca_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    timeout_s: float = CONNECT_TIMEOUT_S,
    missing_because: tuple[str, str] | None = None,
) -> tuple[CheckResult, str | None]:
    """The result and the normalized endpoint (None when it does not parse). Without an
    endpoint, `missing_because` (finding, fix) says why, e.g. an ARM lookup that failed."""
    if not endpoint and missing_because is not None:
        return _result(CheckStatus.FAIL, *missing_because), None
    if not endpoint:
        return _result(
            CheckStatus.FAIL,
            "no pool management endpoint is configured",
            "Pass --endpoint, set DSTUI_ENDPOINT, or name a profile with an endpoint.",
        ), None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the obsolete host is reported below instead
            normalized = normalize_endpoint(endpoint)
    except RequestValidationError as exc:
        return _result(CheckStatus.FAIL, exc.message, exc.hint or ""), None
    parts = urlsplit(normalized)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if host.lower().endswith("acasessions.io"):
        return _result(
            CheckStatus.FAIL,
            f"{host} is the obsolete acasessions.io host",
            "Copy the pool's current poolManagementEndpoint (*.dynamicsessions.io) from "
            "`az containerapp sessionpool show`.",
        ), normalized
    problem = await _resolve(host, port, timeout_s)
    if problem is not None:
        return _result(
            CheckStatus.FAIL,
            f"{host} does not resolve: {problem}",
            "Check the region and host in the endpoint, and this machine's DNS or network.",
        ), normalized
    if parts.scheme == "http":
        local = "on loopback (the local emulator)" if is_loopback_host(host) else "off loopback"
        return _result(CheckStatus.OK, f"{host}:{port} resolves; plain http {local}"), normalized
    environ = os.environ if environ is None else environ
    proxy = _proxy_for(host, environ)
    if proxy is not None:
        # The client (httpx) goes through the proxy: a direct handshake would test the wrong
        # path. The access check below shows whether the proxied TLS works.
        return _result(
            CheckStatus.OK, f"{host}:{port} resolves; https through the proxy {proxy}"
        ), normalized
    return await _handshake(host, port, ca_file, environ, timeout_s), normalized


def _proxy_for(host: str, environ: Mapping[str, str]) -> str | None:
    """The https proxy httpx would use for `host` (HTTPS_PROXY / ALL_PROXY minus NO_PROXY),
    shown without any credentials it carries."""
    lowered = {key.lower(): value for key, value in environ.items()}
    proxy = lowered.get("https_proxy") or lowered.get("all_proxy")
    if not proxy:
        return None
    for entry in filter(
        None, (item.strip().lower() for item in lowered.get("no_proxy", "").split(","))
    ):
        bare = entry.lstrip("*").lstrip(".")
        if entry == "*" or host.lower() == bare or host.lower().endswith("." + bare):
            return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


async def _resolve(host: str, port: int, timeout_s: float) -> str | None:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except OSError as exc:  # socket.gaierror
        return exc.strerror or str(exc)
    return None


def trust_context(ca_file: Path | None, environ: Mapping[str, str]) -> ssl.SSLContext:
    """What the client trusts: the CA file, else SSL_CERT_FILE, else certifi's bundle (httpx's
    default), else the system's."""
    cafile = str(ca_file) if ca_file is not None else environ.get("SSL_CERT_FILE") or None
    if cafile is None:
        try:
            import certifi

            cafile = certifi.where()
        except ImportError:  # pragma: no cover - httpx depends on certifi
            cafile = None
    return ssl.create_default_context(cafile=cafile)


async def _handshake(
    host: str, port: int, ca_file: Path | None, environ: Mapping[str, str], timeout_s: float
) -> CheckResult:
    try:
        context = trust_context(ca_file, environ)
    except OSError as exc:
        return _result(
            CheckStatus.FAIL,
            f"cannot use the CA file {ca_file}: {exc.strerror or exc}",
            "Point --ca-file or DSTUI_CA_FILE at a PEM certificate file.",
        )
    writer = None
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
        certificate = writer.get_extra_info("peercert") or {}
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or exc.reason or "not trusted"
        return _result(CheckStatus.FAIL, f"TLS certificate of {host} rejected: {reason}", _CA_FIX)
    except TimeoutError:
        return _result(
            CheckStatus.FAIL,
            f"no TLS connection to {host}:{port} within {timeout_s:g} s",
            "Check that this network may reach the endpoint (firewall, proxy, private link).",
        )
    except (ssl.SSLError, OSError) as exc:
        return _result(
            CheckStatus.FAIL,
            f"cannot connect to {host}:{port}: {exc.strerror or exc}",
            "Check that this network may reach the endpoint (firewall, proxy, private link).",
        )
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
                async with asyncio.timeout(1.0):  # a peer that never answers the close
                    await writer.wait_closed()
    return _certificate_result(host, port, certificate)


def _certificate_result(host: str, port: int, certificate: dict[str, object]) -> CheckResult:
    not_after = certificate.get("notAfter")
    if not isinstance(not_after, str):
        return _result(CheckStatus.OK, f"{host}:{port} resolves; TLS certificate trusted")
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
    days = (expires - datetime.now(UTC)).days
    finding = f"{host}:{port} resolves; TLS certificate trusted, valid until {expires:%Y-%m-%d}"
    if days < CERT_EXPIRY_WARN_DAYS:
        return _result(
            CheckStatus.WARN,
            f"{finding} ({days} days left)",
            "The certificate expires soon; whoever serves this endpoint should renew it.",
        )
    return _result(CheckStatus.OK, finding)
