"""Runs the checks in order; a later check uses what an earlier one found (the token, its
claims, the data-plane answer), and is skipped with the reason when it has nothing to go on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dstui.api.errors import redact, safe_text
from dstui.api.validation import is_loopback_endpoint
from dstui.doctor.access import TITLE as ACCESS_TITLE
from dstui.doctor.access import AccessOutcome, check_access
from dstui.doctor.claims import TokenClaims, check_claims
from dstui.doctor.credential import TokenSource, check_credential
from dstui.doctor.endpoint import check_endpoint
from dstui.doctor.model import CheckResult, CheckStatus, DoctorReport

ARM_TITLE = "Pool resource and role (ARM)"
# Check 5, given what checks 1-4 found; None when ARM is not configured (then it is skipped).
ArmCheck = Callable[["ArmContext"], Awaitable[CheckResult]]


@dataclass(frozen=True, slots=True)
class ArmContext:
    endpoint: str
    claims: TokenClaims | None
    data_plane_status: int | None  # 403 makes a recent role assignment worth mentioning


@dataclass(frozen=True, slots=True)
class DoctorInputs:
    endpoint: str | None
    api_version: str
    source: TokenSource
    ca_file: Path | None = None
    expected_tenant: str | None = None  # e.g. AZURE_TENANT_ID
    environ: Mapping[str, str] = field(default_factory=dict)
    arm_check: ArmCheck | None = None
    arm_missing_reason: str = "ARM is not configured (--arm-endpoint or DSTUI_ARM_ENDPOINT)"
    # (finding, fix) when the endpoint could not be found (a pool named by ARM id).
    endpoint_missing_because: tuple[str, str] | None = None


def _skipped(check_id: str, title: str, reason: str) -> CheckResult:
    return CheckResult(check_id, title, CheckStatus.SKIP, reason)


async def run_doctor(inputs: DoctorInputs) -> DoctorReport:
    endpoint_result, endpoint = await check_endpoint(
        inputs.endpoint,
        ca_file=inputs.ca_file,
        environ=inputs.environ,
        missing_because=inputs.endpoint_missing_because,
    )
    credential_result, token = await check_credential(inputs.source)
    loopback = endpoint is not None and is_loopback_endpoint(endpoint)
    claims_result, claims = check_claims(
        token, expected_tenant=inputs.expected_tenant, loopback=loopback
    )
    access = await _access(inputs, endpoint, endpoint_result, credential_result, token, claims)
    arm_result = await _arm(inputs, endpoint, claims, access)
    checks = (endpoint_result, credential_result, claims_result, access.result, arm_result)
    return DoctorReport(tuple(_scrubbed(check, token) for check in checks))


async def _access(
    inputs: DoctorInputs,
    endpoint: str | None,
    endpoint_result: CheckResult,
    credential_result: CheckResult,
    token: str | None,
    claims: TokenClaims | None,
) -> AccessOutcome:
    if endpoint is None or endpoint_result.status is CheckStatus.FAIL:
        reason = "skipped: the endpoint check failed"
    elif credential_result.status is CheckStatus.FAIL:
        reason = "skipped: no token"
    else:
        verify: bool | str = str(inputs.ca_file) if inputs.ca_file is not None else True
        return await check_access(
            endpoint, token, api_version=inputs.api_version, verify=verify, claims=claims
        )
    return AccessOutcome(_skipped("access", ACCESS_TITLE, reason), None)


async def _arm(
    inputs: DoctorInputs,
    endpoint: str | None,
    claims: TokenClaims | None,
    access: AccessOutcome,
) -> CheckResult:
    if inputs.arm_check is None:
        return _skipped("arm", ARM_TITLE, f"skipped: {inputs.arm_missing_reason}")
    if endpoint is None:
        return _skipped("arm", ARM_TITLE, "skipped: no endpoint to look up")
    return await inputs.arm_check(ArmContext(endpoint, claims, access.status))


def _scrubbed(check: CheckResult, token: str | None) -> CheckResult:
    """Escape what came from outside and make sure no token survives in any text."""

    def clean(text: str) -> str:
        text = safe_text(redact(text))
        return text.replace(token, "[redacted]") if token else text

    return replace(
        check, title=clean(check.title), finding=clean(check.finding), fix=clean(check.fix)
    )
