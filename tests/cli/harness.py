"""What the CLI tests share: a stream posing as a terminal and the shape of one `main` run."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Protocol


class FakeTerminal(io.StringIO):
    """A stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


@dataclass
class Outcome:
    code: int
    out: str
    err: str


class Runner(Protocol):
    def __call__(self, *argv: str) -> Outcome: ...
