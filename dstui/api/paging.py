"""Following nextLink safely: a listing ends when the server says so, or with an error once it
repeats a link or passes a bound (pages, entries, empty pages in a row, time)."""

from __future__ import annotations

import time
from collections.abc import Callable

from dstui.api.errors import EndlessPagingError
from dstui.api.limits import DEFAULT_LIMITS, ClientLimits


class PageGuard:
    """Counts the pages of one listing. Call `received` for every page; it raises
    EndlessPagingError when following the page's nextLink would pass a bound."""

    def __init__(
        self,
        what: str,
        limits: ClientLimits = DEFAULT_LIMITS,
        *,
        timed: bool = True,
        hint: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._what = what
        self._limits = limits
        self._hint = hint
        self._clock = clock
        self._started = clock() if timed else None
        self._seen: set[str] = set()
        self.pages = 0
        self.items = 0
        self._empty_run = 0

    def received(self, items: int, next_link: str | None) -> None:
        self.pages += 1
        self.items += items
        self._empty_run = self._empty_run + 1 if items == 0 else 0
        if not next_link:
            return
        if next_link in self._seen:
            self._fail(f"{self._what}: the server's nextLink repeats an earlier page")
        self._seen.add(next_link)
        problem = self._bound_passed()
        if problem is not None:
            self._fail(f"{self._what}: the server keeps sending new pages; stopped at {problem}")

    def _bound_passed(self) -> str | None:
        limits = self._limits
        pages, items = f"{self.pages:,} pages", f"{self.items:,} entries"
        if self.pages >= limits.list_max_pages:
            return f"the limit of {pages} ({items})"
        if self.items >= limits.list_max_items:
            return f"the limit of {limits.list_max_items:,} entries ({pages}, {items})"
        if self._empty_run >= limits.list_max_empty_pages:
            return f"{self._empty_run} empty pages in a row ({pages}, {items})"
        if self._started is not None:
            elapsed = self._clock() - self._started
            if elapsed >= limits.list_deadline_s:
                return f"the time limit of {limits.list_deadline_s:.0f} s ({pages}, {items})"
        return None

    def _fail(self, message: str) -> None:
        raise EndlessPagingError(message, hint=self._hint)
