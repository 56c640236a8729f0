"""The doctor's report as screen text: per check a heading (status, title), then what it found
and, unless it passed, the fix. Everything in it is plain text (never markup)."""

from __future__ import annotations

from textual.content import Content

from dstui.doctor import CheckResult, CheckStatus, DoctorReport

_MARKS = {
    CheckStatus.OK: ("✔ ok  ", "bold $success"),
    CheckStatus.WARN: ("! warn", "bold $warning"),
    CheckStatus.FAIL: ("✘ FAIL", "bold $error"),
    CheckStatus.SKIP: ("- skip", "$text-muted"),
}


def check_heading(check: CheckResult) -> Content:
    mark, style = _MARKS[check.status]
    return Content.assemble((mark, style), "  ", (check.title, "bold"))


def check_details(check: CheckResult) -> Content:
    """What it found and, unless it passed, the fix (shown indented under the heading)."""
    lines = [Content(check.finding)]
    if check.fix and check.status is not CheckStatus.OK:
        lines.append(Content.assemble(("fix: ", "bold"), check.fix))
    return Content("\n").join(lines)


def summary(report: DoctorReport) -> Content:
    failed = sum(check.status is CheckStatus.FAIL for check in report.checks)
    warned = sum(check.status is CheckStatus.WARN for check in report.checks)
    if failed:
        return Content.styled(f"{failed} of {len(report.checks)} checks failed", "bold $error")
    if warned:
        return Content.styled(f"no check failed; {warned} warning(s)", "bold $warning")
    return Content.styled("every check passed", "bold $success")
