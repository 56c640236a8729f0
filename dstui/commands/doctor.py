"""`dstui doctor`: why a connection fails, one check at a time (see dstui.doctor)."""

from __future__ import annotations

from functools import partial

from dstui.api.errors import DynamicSessionsError
from dstui.commands.context import CommandEnv, CommandError
from dstui.commands.output import write_json
from dstui.commands.pool_names import arm_endpoint, open_arm
from dstui.common.units import counted
from dstui.doctor import CheckStatus, DoctorReport, run_doctor
from dstui.doctor.setup import doctor_inputs

EXIT_FAILED_CHECK = 1
_MARKS = {
    CheckStatus.OK: "ok",
    CheckStatus.WARN: "warn",
    CheckStatus.FAIL: "FAIL",
    CheckStatus.SKIP: "skip",
}


async def run_checks(env: CommandEnv) -> int:
    missing: tuple[str, str] | None = None
    try:
        from dstui.commands.pools_arm import resolve_pool_id

        await resolve_pool_id(env)  # a profile naming its pool by ARM id
    except (DynamicSessionsError, CommandError) as exc:
        missing = (f"the pool's endpoint could not be looked up in ARM: {exc.message}", exc.hint)
    endpoint = arm_endpoint(env)
    inputs = doctor_inputs(
        env.connection,
        env.environ,
        arm_endpoint=endpoint,
        open_arm=partial(open_arm, env, endpoint),
        endpoint_missing_because=missing,
    )
    report = await run_doctor(inputs)
    if env.json:
        write_json(env.stdout, report.as_dict())
    else:
        env.out(render_report(report))
    return 0 if report.ok else EXIT_FAILED_CHECK


def render_report(report: DoctorReport) -> str:
    width = max(len(check.title) for check in report.checks)
    lines = []
    for check in report.checks:
        lines.append(f"{_MARKS[check.status]:<4}  {check.title:<{width}}  {check.finding}")
        if check.fix and check.status is not CheckStatus.OK:
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    failed = sum(check.status is CheckStatus.FAIL for check in report.checks)
    lines.append("")
    lines.append("all checks passed" if report.ok else f"{counted(failed, 'check')} failed")
    return "\n".join(lines)
