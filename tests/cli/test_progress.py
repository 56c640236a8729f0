"""The transfer progress bar."""

from __future__ import annotations

import io

import pytest

from dstui.commands.progress import ProgressBar, progress_for, transfer_progress
from tests.cli.harness import FakeTerminal


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_only_on_a_terminal_and_when_enabled() -> None:
    assert progress_for(io.StringIO(), "x", enabled=True) is None
    assert progress_for(FakeTerminal(), "x", enabled=False) is None
    assert isinstance(progress_for(FakeTerminal(), "x", enabled=True), ProgressBar)


def test_bar_draws_fraction_and_throttles_redraws() -> None:
    stream, clock = FakeTerminal(), Clock()
    bar = ProgressBar(stream, "uploading a.bin", clock=clock)
    clock.now = 1.0
    bar(512, 1024)
    bar(600, 1024)  # same instant: throttled
    assert stream.getvalue().count("\r") == 1
    assert "[############------------]  50%  512 B / 1.0 KiB  512 B/s" in stream.getvalue()
    bar(1024, 1024)  # completion always draws
    bar.finish()  # nothing new to draw: only ends the line
    text = stream.getvalue()
    assert text.count("\r") == 2
    assert "100%" in text
    assert text.endswith("\x1b[K\n")


def test_finish_draws_numbers_that_were_throttled() -> None:
    stream, clock = FakeTerminal(), Clock()
    bar = ProgressBar(stream, "x", clock=clock)
    bar(10, 100)
    bar(40, 100)  # throttled
    bar.finish()
    assert stream.getvalue().count("\r") == 2
    assert " 40%" in stream.getvalue().split("\r")[-1]


def test_bar_without_total_shows_bytes_only() -> None:
    clock = Clock()
    bar = ProgressBar(FakeTerminal(), "downloading", clock=clock)
    clock.now = 2.0
    bar(2048, None)
    assert bar.render(2.0) == "downloading 2.0 KiB  1.0 KiB/s"


def test_finish_without_drawing_writes_nothing() -> None:
    stream = FakeTerminal()
    ProgressBar(stream, "x").finish()
    assert stream.getvalue() == ""


def test_transfer_progress_ends_the_line_when_the_transfer_fails() -> None:
    stream = FakeTerminal()
    with pytest.raises(OSError), transfer_progress(stream, "up", enabled=True) as bar:
        assert bar is not None
        bar(1, 2)
        raise OSError("cut off")
    assert stream.getvalue().startswith("\rup [")
    assert stream.getvalue().endswith("\x1b[K\n")
    with transfer_progress(FakeTerminal(), "up", enabled=False) as absent:
        assert absent is None
