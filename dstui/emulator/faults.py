"""Injected failures for resilience tests.

`--faults "429=0.1,500=0.05,503=0.05,drop=0.02,slow=0.1:2.0"`:

Each request draws once for an error (429, 500, 503 or a dropped connection, by their rates)
and once for slowness (`slow=RATE:SECONDS` delays the answer). `--seed` fixes the sequence.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dstui.emulator.access_log import note
from dstui.emulator.envelopes import ApiError, ResponseAborted, error_response

ERROR_KINDS = ("429", "500", "503", "drop")
_DEFAULT_SLOW_S = 2.0
_ERRORS = {
    "429": ApiError(
        429, "TooManyRequests", "Injected fault: too many requests.", headers={"Retry-After": "1"}
    ),
    "500": ApiError(500, "InternalServerError", "Injected fault: internal server error."),
    "503": ApiError(
        503,
        "ServiceUnavailable",
        "Injected fault: service unavailable.",
        headers={"Retry-After": "1"},
    ),
}


class FaultSpecError(ValueError):
    pass


class DroppedConnection(ResponseAborted):
    """An injected drop: half the body is sent, then the connection closes."""


@dataclass(frozen=True)
class FaultPlan:
    rates: dict[str, float] = field(default_factory=dict)
    slow_rate: float = 0.0
    slow_s: float = _DEFAULT_SLOW_S


@dataclass(frozen=True)
class _Quantity:
    """A number the spec holds: its upper bound and how errors speak of it."""

    high: float
    noun: str
    shown: str  # the value in an error, `{}` standing for it


_RATE = _Quantity(1.0, "a number", "rate {}")
_SECONDS = _Quantity(300.0, "a number of seconds", "{} s")


def _number(text: str, where: str, quantity: _Quantity) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultSpecError(f"{where}: '{text}' is not {quantity.noun}") from None
    if not 0.0 <= value <= quantity.high:
        shown = quantity.shown.format(value)
        raise FaultSpecError(f"{where}: {shown} is not between 0 and {quantity.high:g}")
    return value


def parse_faults(spec: str) -> FaultPlan:
    rates: dict[str, float] = {}
    slow_rate, slow_s = 0.0, _DEFAULT_SLOW_S
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, sep, value = item.partition("=")
        kind = kind.strip().lower()
        if not sep:
            raise FaultSpecError(f"'{item}' is not KIND=RATE")
        where = f"fault '{kind}'"
        if kind == "slow":
            rate_text, _, seconds = value.partition(":")
            slow_rate = _number(rate_text, where, _RATE)
            if seconds:
                slow_s = _number(seconds, "slow", _SECONDS)
        elif kind in ERROR_KINDS:
            rates[kind] = _number(value, where, _RATE)
        else:
            raise FaultSpecError(f"unknown fault '{kind}' (use 429, 500, 503, drop, slow)")
    if sum(rates.values()) > 1.0:
        raise FaultSpecError("the error rates add up to more than 1")
    return FaultPlan(rates, slow_rate, slow_s)


class FaultMiddleware:
    def __init__(self, app: ASGIApp, plan: FaultPlan, seed: int | None) -> None:
        self.app = app
        self.plan = plan
        self.random = random.Random(seed)
        self.log = logging.getLogger("dstui.emulator")

    def _draw(self) -> tuple[str | None, bool]:
        roll, slow_roll = self.random.random(), self.random.random()
        chosen, edge = None, 0.0
        for kind in ERROR_KINDS:
            edge += self.plan.rates.get(kind, 0.0)
            if roll < edge:
                chosen = kind
                break
        return chosen, slow_roll < self.plan.slow_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind, slow = self._draw()
        injected = [f"slow {self.plan.slow_s:g} s"] if slow else []
        if kind is not None:
            injected.append(kind)
        if injected:
            note(scope, "fault", ", ".join(injected))
        if slow:
            await asyncio.sleep(self.plan.slow_s)
        if kind == "drop":
            await self.app(scope, receive, _dropping_sender(send))
        elif kind is not None:
            await error_response(_ERRORS[kind])(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _dropping_sender(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            await send(message)
            return
        body = message.get("body", b"")
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        raise DroppedConnection

    return wrapped


class DroppedConnectionFilter(logging.Filter):
    """Keeps uvicorn from logging a traceback for every response ended on purpose (an injected
    drop, a file that failed mid-download): the access log and a warning say what happened."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ResponseAborted))
