"""Bounded exponential backoff with full jitter, and the rules for what may be retried."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Raised by httpx before a single byte of the request left this machine.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    total_budget_s: float = 30.0
    jitter: bool = True
    # Paces execution polling, and retries too unless retry_sleep is given.
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    # How a retry waits out its delay (backoff or Retry-After). Tests against a live emulator
    # skip these waits with a no-op while polling still waits for the code to finish.
    retry_sleep: Callable[[float], Awaitable[None]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.total_budget_s) < 0:
            raise ValueError("delays and the time budget must not be negative")

    async def wait_before_retry(self, delay: float) -> None:
        await (self.retry_sleep or self.sleep)(delay)

    def backoff(self, failures: int) -> float:
        """Delay after the given number of failed attempts (1-based), full jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** max(0, failures - 1))
        return ceiling * self.random() if self.jitter else ceiling

    def next_delay(
        self, failures: int, started: float, retry_after: float | None = None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when attempts or budget are spent.

        A server's Retry-After wins over the computed backoff.
        """
        if failures >= self.max_attempts:
            return None
        delay = retry_after if retry_after is not None else self.backoff(failures)
        if self.clock() - started + delay > self.total_budget_s:
            return None
        return delay


NO_RETRY = RetryPolicy(max_attempts=1)


def may_retry_status(status: int, *, idempotent: bool) -> bool:
    """A 429 means the service refused before doing anything, so even code runs may repeat."""
    if status not in RETRYABLE_STATUSES:
        return False
    return idempotent or status == 429


def never_sent(exc: BaseException) -> bool:
    """The request provably never left (connect failures), so it did nothing on the pool."""
    return isinstance(exc, _NOT_SENT_ERRORS)


def may_retry_exception(exc: httpx.TransportError, *, idempotent: bool) -> bool:
    """Non-idempotent calls only when the request provably never left."""
    return idempotent or never_sent(exc)
