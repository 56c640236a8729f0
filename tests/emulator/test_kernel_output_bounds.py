"""A kernel that prints without end must not grow the emulator without end."""

from __future__ import annotations

import time

from dstui.emulator.results import MAX_KEPT_CHARS, BoundedText, KernelOutput


def test_a_stream_keeps_at_most_the_cap_and_stays_linear() -> None:
    output = KernelOutput()
    line = "x" * 99 + "\n"
    started = time.perf_counter()
    for _ in range(2 * MAX_KEPT_CHARS // len(line)):  # twice the cap, in 100-character messages
        output.absorb("stream", {"name": "stdout", "text": line})
    elapsed = time.perf_counter() - started
    assert len(output.stdout) == MAX_KEPT_CHARS
    assert output.stdout.startswith(line)
    assert elapsed < 5  # joined once: appending to one str would copy gigabytes here


def test_stderr_and_stdout_are_kept_apart() -> None:
    output = KernelOutput()
    output.absorb("stream", {"name": "stderr", "text": "warn\n"})
    output.absorb("stream", {"name": "stdout", "text": "out\n"})
    output.absorb(
        "error", {"ename": "ValueError", "evalue": "bad", "traceback": ["ValueError: bad"]}
    )
    assert output.stdout == "out\n"
    assert output.stderr == "warn\nValueError: bad\n"
    assert output.error_name == "ValueError"


def test_a_note_is_kept_even_when_the_stream_is_full() -> None:
    text = BoundedText("a" * 10, cap=10)
    text.add("more")
    assert str(text) == "a" * 10
    text.end_with("STOP")
    assert str(text) == "a" * 6 + "STOP"
