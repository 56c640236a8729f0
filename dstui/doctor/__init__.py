"""The auth doctor: checks of the endpoint, the credential, the token, data-plane access and
the pool's ARM resource, each with a status, a one-line finding and a one-sentence fix.

UI-free: the CLI (`dstui doctor`) and a TUI screen render the same `DoctorReport`."""

from dstui.doctor.model import CheckResult, CheckStatus, DoctorReport
from dstui.doctor.runner import DoctorInputs, run_doctor

__all__ = ["CheckResult", "CheckStatus", "DoctorInputs", "DoctorReport", "run_doctor"]
