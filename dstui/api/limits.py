"""Bounds on what a server may make the client do: how long one call may take, how large a
JSON answer may be, how slowly a transfer may trickle, and how many pages a listing may have.

A well-behaved pool stays far inside each bound; a broken proxy or a hostile server hits one
and gets a clear error instead of a hang, an endless loop or unbounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass

# A full 600-session page is about 150 KB, a recursive listing of 20,000 files about 4 MB,
# an execution answer with a large image result a few MB: 32 MiB leaves a wide margin.
JSON_ANSWER_MAX_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ClientLimits:
    json_max_bytes: int = JSON_ANSWER_MAX_BYTES
    # One call, retries included, from the first byte sent to the last byte of a JSON answer.
    # Executions add their own timeout; downloads and previews use the transfer floor instead.
    call_deadline_s: float = 120.0
    # A streamed body must bring at least this many bytes in each window (a drip of 1 byte
    # every few seconds passes every per-read timeout, yet would never finish).
    transfer_window_s: float = 30.0
    transfer_min_bytes: int = 16 * 1024
    # An upload's deadline grows with its size at this rate (128 MiB: about 35 minutes).
    upload_min_bytes_per_s: int = 64 * 1024
    # Listings: pages, entries and wall time, and pages in a row that bring nothing.
    list_max_pages: int = 2_000
    list_max_items: int = 500_000
    list_deadline_s: float = 600.0
    list_max_empty_pages: int = 5

    def __post_init__(self) -> None:
        numbers = (
            self.json_max_bytes,
            self.call_deadline_s,
            self.transfer_window_s,
            self.upload_min_bytes_per_s,
            self.list_max_pages,
            self.list_max_items,
            self.list_deadline_s,
            self.list_max_empty_pages,
        )
        if min(numbers) <= 0 or self.transfer_min_bytes < 0:
            raise ValueError("client limits must be positive")


DEFAULT_LIMITS = ClientLimits()
