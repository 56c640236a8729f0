"""Idle cleanup's question: which sessions to select (idle longer than N, and/or expiring later
than T from now). Answers PruneCriteria, or None when cancelled."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from dstui.api.prune import PruneCriteria

_DURATION_RE = re.compile(r"\A\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*\Z", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_minutes_or_duration(text: str) -> timedelta | None:
    """`30` (minutes), `90s`, `30m`, `2h`, `1d`; None for an empty field; ValueError else."""
    if not text.strip():
        return None
    match = _DURATION_RE.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text.strip()!r} (e.g. 30, 30m, 2h, 1d)")
    unit = (match[2] or "m").lower()
    return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[unit])


class CleanupModal(ModalScreen[PruneCriteria | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, idle: str = "30") -> None:
        super().__init__(classes="dialog-screen")
        self.idle = idle

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="cleanup-dialog") as dialog:
            dialog.border_title = "Idle cleanup: select sessions"
            yield Static(
                Content("Select the loaded sessions idle longer than (minutes, or 90s, 2h, 1d):"),
                classes="dialog-message",
            )
            yield Input(self.idle, placeholder="idle longer than", id="cleanup-idle")
            yield Static(Content("and/or expiring later than, from now (empty: any):"))
            yield Input("", placeholder="expiring later than", id="cleanup-expiring")
            yield Static("", id="cleanup-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Select", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#cleanup-idle").focus()

    def _accept(self) -> None:
        error = self.query_one("#cleanup-error", Static)
        try:
            idle = parse_minutes_or_duration(self.query_one("#cleanup-idle", Input).value)
            expiring = parse_minutes_or_duration(self.query_one("#cleanup-expiring", Input).value)
            criteria = PruneCriteria(idle_longer_than=idle, expiring_after=expiring)
        except ValueError as exc:
            error.update(Content(str(exc)))
            return
        self.dismiss(criteria)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._accept()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self._accept()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
