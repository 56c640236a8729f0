"""The per-session quota on /mnt/data: what its files take on disk, and the errors that say so."""

from __future__ import annotations

import os
from pathlib import Path

from dstui.emulator.envelopes import ApiError

QUOTA_ERROR_CODE = "SessionStorageQuotaExceeded"


def usage_bytes(root: Path | str) -> int:
    """Disk space the tree under `root` takes (allocated blocks, so sparse files count honestly)."""
    total = 0
    pending = [os.fspath(root)]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += max(info.st_blocks * 512, 0)
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
        except OSError:
            continue
    return total


def quota_message(quota_bytes: int) -> str:
    return (
        f"The session's /mnt/data is over its quota of {quota_bytes // (1024 * 1024)} MiB "
        f"({quota_bytes} bytes); delete files to make room."
    )


def quota_exceeded(quota_bytes: int) -> ApiError:
    return ApiError(413, QUOTA_ERROR_CODE, quota_message(quota_bytes), target="file")
