"""Uploads within the session's /mnt/data quota: refused with 413 when they would not fit."""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from dstui.api.constants import MAX_UPLOAD_BYTES
from dstui.emulator.disk_quota import quota_exceeded, usage_bytes
from dstui.emulator.envelopes import ApiError
from dstui.emulator.files import FileEntry, SessionFiles
from dstui.emulator.uploads import receive_upload


async def receive_within_quota(
    request: Request, files: SessionFiles, parts: list[str], quota_bytes: int
) -> FileEntry:
    """The per-file limit shrinks to the room left; a part that outgrows it is removed."""
    room = quota_bytes - await asyncio.to_thread(usage_bytes, files.root)
    if room <= 0:
        raise quota_exceeded(quota_bytes)
    limit = min(MAX_UPLOAD_BYTES, room)
    try:
        return await receive_upload(request, files, parts, limit)
    except ApiError as exc:
        if exc.code == "PayloadTooLarge" and limit < MAX_UPLOAD_BYTES:
            raise quota_exceeded(quota_bytes) from None
        raise
