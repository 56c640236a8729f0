"""Uploads within the session's /mnt/data quota: refused with 413 when they would not fit."""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from dstui.api.constants import MAX_UPLOAD_BYTES
from dstui.emulator.disk_quota import quota_exceeded, usage_bytes
from dstui.emulator.envelopes import ApiError
from dstui.emulator.files import FileEntry, SessionFiles
from dstui.emulator.uploads import receive_upload, too_large


async def receive_within_quota(
    request: Request, files: SessionFiles, parts: list[str], quota_bytes: int
) -> FileEntry:
    """The per-file limit shrinks to the room left (plus what the replaced file takes); a part
    that outgrows it is removed.

    Concurrent uploads each start with that room: the usage is measured again before the
    commit (it counts every upload still in flight), crediting the file being replaced.
    """
    room = quota_bytes - await asyncio.to_thread(usage_bytes, files.root)
    if room <= 0:
        raise quota_exceeded(quota_bytes)
    limit = min(MAX_UPLOAD_BYTES, room)

    def check_room(replaced_bytes: int) -> None:
        if usage_bytes(files.root) - replaced_bytes > quota_bytes:
            raise quota_exceeded(quota_bytes)

    try:
        return await receive_upload(request, files, parts, limit, check_room)
    except ApiError as exc:
        if exc.code == "PayloadTooLarge" and exc.message != too_large().message:  # room, not cap
            raise quota_exceeded(quota_bytes) from None
        raise
