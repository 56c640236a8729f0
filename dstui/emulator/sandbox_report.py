"""What the banner and /metadata say about isolation and limits (one source for both)."""

from __future__ import annotations

from typing import Any

from dstui.api.constants import MAX_UPLOAD_BYTES
from dstui.emulator.sandbox import SandboxPolicy
from dstui.emulator.sandbox_resolution import MAPPING_REACH

# The extra /metadata field: the live service has no such thing.
METADATA_FIELD = "dstuiEmulator"


def limit_lines(policy: SandboxPolicy) -> dict[str, str]:
    limits = policy.limits
    bwrap = policy.kind == "bwrap"
    rlimits = policy.rlimits_applied
    quota_by = "RLIMIT_FSIZE + usage checks" if rlimits else "usage checks; no prlimit here"
    memory = f"{policy.memory_limit_mb} MiB address space (RLIMIT_AS)"
    return {
        "processes": policy.process_limit,
        "tmp": f"{limits.tmp_size_mb} MiB tmpfs" if bwrap else "the host's /tmp, not bounded",
        "diskQuota": f"{limits.disk_quota_mb} MiB on /mnt/data ({quota_by})",
        "uploadLimit": f"{MAX_UPLOAD_BYTES} bytes a file",
        "memory": memory if rlimits else "not bounded (no prlimit here)",
        "uid": _uid_line(policy),
    }


def _uid_line(policy: SandboxPolicy) -> str:
    if policy.kind == "bwrap" and policy.choice.user_namespace:
        return "unprivileged (uid 1000 in the sandbox's user namespace)"
    if policy.kind == "bwrap":
        return "the emulator's uid, all capabilities dropped (no user namespace here)"
    return "the emulator's uid (no sandbox)"


def metadata_extension(policy: SandboxPolicy) -> dict[str, Any]:
    """The `dstuiEmulator` object of /metadata."""
    isolated = policy.kind == "bwrap"
    return {
        "sandbox": policy.choice.summary,
        "isolated": isolated,
        "mntData": "a bind mount of the session's folder" if isolated else MAPPING_REACH,
        "limits": limit_lines(policy),
    }


def banner_lines(policy: SandboxPolicy) -> list[str]:
    lines = [f"sandbox: {policy.choice.summary}"]
    if policy.kind != "bwrap":
        lines.append("WARNING: sessions are NOT isolated from each other or from this machine;")
        lines.append(f"  {MAPPING_REACH}")
    described = limit_lines(policy)
    lines.append("limits: " + "; ".join(f"{k} {v}" for k, v in described.items()))
    return lines
