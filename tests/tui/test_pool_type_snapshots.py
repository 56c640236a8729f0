"""Snapshots at 80×24 (fake pool, fixed clock): a Shell command's failed result with its exit
code, stdout and stderr, and the doctor screen over a canned report."""

from __future__ import annotations

from typing import Any

from dstui.api.fake_pool import FakePool
from dstui.config import Connection
from dstui.doctor import CheckResult, CheckStatus, DoctorReport
from dstui.tui.doctor_source import DoctorSource
from tests.tui.pilot_helpers import presses
from tests.tui.pool_type_helpers import typed_app

SMALL = (80, 24)

REPORT = DoctorReport(
    (
        CheckResult(
            "endpoint", "Endpoint", CheckStatus.OK, "https, resolves, TLS certificate valid"
        ),
        CheckResult(
            "credential", "Credential", CheckStatus.OK, "AzureCliCredential produced a token"
        ),
        CheckResult(
            "token",
            "Token claims",
            CheckStatus.WARN,
            "audience https://dynamicsessions.io; expires in 6 minutes",
            "Sign in again soon (az login).",
        ),
        CheckResult(
            "access",
            "Authenticated read-only call",
            CheckStatus.FAIL,
            "403: the token is valid but not allowed on this pool",
            "Ask for Azure ContainerApps Session Executor on the pool.",
        ),
        CheckResult("arm", "Pool resource and role (ARM)", CheckStatus.SKIP, "skipped: no ARM"),
    )
)


class CannedDoctor(DoctorSource):
    async def run(self, endpoint: str | None) -> DoctorReport:
        return REPORT


def canned_source() -> DoctorSource:
    connection = Connection("https://x", "2025-10-02-preview", "cli", None, None, None)
    return CannedDoctor(connection)


def test_shell_result_with_exit_code(snap_compare: Any, workdir: Any) -> None:
    app = typed_app(FakePool(container_type="Shell"), container_type="Shell")
    command = tuple("echo hi; nosuch; exit 3")
    assert snap_compare(app, terminal_size=SMALL, run_before=presses("3", command, "ctrl+r"))


def test_doctor_screen(snap_compare: Any, workdir: Any) -> None:
    app = typed_app(FakePool(), doctor=canned_source())
    assert snap_compare(app, terminal_size=SMALL, run_before=presses("H"))
