"""What a doctor run produces: one result per check, in a fixed order."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CheckStatus(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"  # the check could not apply (no ARM configured, no token to look at)


@dataclass(frozen=True, slots=True)
class CheckResult:
    id: str  # stable, for scripts: "endpoint", "credential", "token", "access", "arm"
    title: str
    status: CheckStatus
    finding: str  # one line: what the check saw
    fix: str = ""  # one sentence: what to do about it ("" when nothing is to be done)

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "finding": self.finding,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class DoctorReport:
    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        """True when no check failed: a warning or a skipped check does not block."""
        return all(check.status is not CheckStatus.FAIL for check in self.checks)

    def as_dict(self) -> dict[str, object]:
        return {"checks": [check.as_dict() for check in self.checks], "ok": self.ok}

    def get(self, check_id: str) -> CheckResult | None:
        return next((check for check in self.checks if check.id == check_id), None)
