"""Turning an azure-identity failure into one reason and a hint that names the credential to
fix. azure-identity's own text lists every credential of the chain, one per line."""

from __future__ import annotations

import re
import shutil

from dstui.api.errors import redact

_REASON_CHARS = 300
_CHAIN_LINE_RE = re.compile(r"^\s*(\w+Credential): (.*)$", re.MULTILINE)
# Phrases azure-identity uses for a credential that is simply not set up on this machine.
_NOT_SET_UP = (
    "unavailable",
    "not installed",
    "not found on path",
    "could not be found",
    "requires the",
    "is required",
    "not fully configured",
    "no accounts were found",
)
_CLI_MISSING = "not found on path"
_INSTALL_CLI = "Install the Azure CLI (https://aka.ms/installazurecli), then run `az login`"
_OTHER_AUTH = "or choose another --auth method (token with DSTUI_TOKEN, device-code, ...)"
_FIXES = {
    "EnvironmentCredential": "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET "
    "(or AZURE_CLIENT_CERTIFICATE_PATH)",
    "WorkloadIdentityCredential": "check AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and "
    "AZURE_TENANT_ID",
    "ManagedIdentityCredential": "check the managed identity assigned to this machine",
    "AzureCliCredential": "run `az login` (and `az account set` for the right tenant)",
    "AzurePowerShellCredential": "run `Connect-AzAccount`",
    "AzureDeveloperCliCredential": "run `azd auth login`",
    "SharedTokenCacheCredential": "sign in again in the tool that filled the token cache",
}


def _short(text: str) -> str:
    first = " ".join(text.split())
    return redact(first[:_REASON_CHARS] + ("…" if len(first) > _REASON_CHARS else ""))


def _not_set_up(reason: str) -> bool:
    lowered = reason.lower()
    return any(phrase in lowered for phrase in _NOT_SET_UP)


def _cli_hint(reason: str) -> tuple[str, str]:
    if _CLI_MISSING in reason.lower() or shutil.which("az") is None:
        return (
            "the Azure CLI is not installed (no `az` on PATH)",
            f"{_INSTALL_CLI}, {_OTHER_AUTH}.",
        )
    return (
        f"AzureCliCredential: {_short(reason)}",
        "Run `az login` (and `az account set` for the right subscription and tenant), "
        f"{_OTHER_AUTH}.",
    )


def _chain_hint(text: str) -> tuple[str, str]:
    attempts = dict(_CHAIN_LINE_RE.findall(text))
    if not attempts:
        return _short(text), f"Sign in first (`az login`), {_OTHER_AUTH}."
    # A credential that was set up and still failed is the one to fix.
    for name, reason in attempts.items():
        if not _not_set_up(reason):
            fix = _FIXES.get(name, "fix its configuration")
            return (
                f"{name} is set up but failed: {_short(reason)}",
                f"Fix {name}: {fix}; {_OTHER_AUTH}.",
            )
    tried = ", ".join(attempts)
    reason = f"no credential of the default chain is set up on this machine (tried {tried})"
    if _CLI_MISSING in attempts.get("AzureCliCredential", "").lower():
        return reason, f"The quickest: {_INSTALL_CLI} (AzureCliCredential), {_OTHER_AUTH}."
    return reason, f"The quickest: run `az login` (AzureCliCredential), {_OTHER_AUTH}."


def chain_attempts(text: str) -> dict[str, str]:
    """Each credential an azure-identity chain error names, with its (shortened) reason."""
    return {name: _short(reason) for name, reason in _CHAIN_LINE_RE.findall(text)}


def describe_credential_failure(auth_kind: str, exc: BaseException) -> tuple[str, str]:
    """(reason, hint) for a credential of the given --auth kind that raised `exc`."""
    text = str(exc)
    if auth_kind == "cli":
        return _cli_hint(text)
    if auth_kind == "default":
        return _chain_hint(text)
    if auth_kind == "managed-identity":
        return (
            f"ManagedIdentityCredential: {_short(text)}",
            "A managed identity exists only on Azure compute (VM, Container Apps, ...) with an "
            f"identity assigned; elsewhere {_OTHER_AUTH.removeprefix('or ')}.",
        )
    return f"{type(exc).__name__}: {_short(text)}", f"Sign in again, {_OTHER_AUTH}."
