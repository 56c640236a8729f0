"""A one-line transfer progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from dstui.commands.output import format_size

_BAR_WIDTH = 24
_MIN_INTERVAL_S = 0.1  # redraw at most ten times a second


class ProgressBar:
    """Call it with (bytes done, total or None); `finish()` ends the line."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._label = label
        self._clock = clock
        self._started = clock()
        self._last_draw = float("-inf")
        self._drawn = False
        self._stale = False  # the latest numbers have not been drawn yet
        self._done = 0
        self._total: int | None = None

    def __call__(self, done: int, total: int | None) -> None:
        self._done, self._total = done, total
        now = self._clock()
        complete = total is not None and done >= total
        if complete or now - self._last_draw >= _MIN_INTERVAL_S:
            self._last_draw = now
            self._draw(now)
        else:
            self._stale = True

    def finish(self) -> None:
        if self._drawn:
            if self._stale:
                self._draw(self._clock())
            self._stream.write("\n")
            self._stream.flush()

    def render(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-6)
        rate = f"{format_size(int(self._done / elapsed))}/s"
        if self._total:
            fraction = min(self._done / self._total, 1.0)
            filled = int(fraction * _BAR_WIDTH)
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            amounts = f"{format_size(self._done)} / {format_size(self._total)}"
            return f"{self._label} [{bar}] {fraction:4.0%}  {amounts}  {rate}"
        return f"{self._label} {format_size(self._done)}  {rate}"

    def _draw(self, now: float) -> None:
        # \r rewinds to the line start; \x1b[K clears what a longer previous line left behind.
        self._stream.write(f"\r{self.render(now)}\x1b[K")
        self._stream.flush()
        self._drawn = True
        self._stale = False


def progress_for(stream: TextIO, label: str, *, enabled: bool) -> ProgressBar | None:
    """A bar when enabled and the stream is a terminal; None otherwise (scripts, pipes, --json)."""
    if not enabled:
        return None
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    return ProgressBar(stream, label)


@contextmanager
def transfer_progress(stream: TextIO, label: str, *, enabled: bool) -> Iterator[ProgressBar | None]:
    """`progress_for` whose line is ended however the transfer ends."""
    bar = progress_for(stream, label, enabled=enabled)
    try:
        yield bar
    finally:
        if bar is not None:
            bar.finish()
