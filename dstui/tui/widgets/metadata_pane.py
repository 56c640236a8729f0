"""Pane 2: what the API said about the selected session, and (on demand) the pool's metadata."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Input, Static

from dstui.api.display import escape_controls
from dstui.api.models import PoolMetadata, Session
from dstui.tui.actions import METADATA, bindings_for
from dstui.tui.formatting import (
    Clock,
    counted,
    format_age,
    format_duration,
    format_expiry,
    format_timestamp,
)

ESTIMATED = "estimated"


class MetadataPane(Vertical):
    ALLOW_MAXIMIZE = True
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(METADATA)

    def __init__(self, clock: Clock) -> None:
        super().__init__(id="metadata-pane", classes="pane")
        self.clock = clock
        self.session: Session | None = None
        self.source = ""
        self.pool: PoolMetadata | None = None
        # Sessions whose last access and expiry were estimated after an action touched them:
        # identifier -> (time of the answer, cooldown). A listing or GET /session replaces them.
        self.estimates: dict[str, tuple[datetime, timedelta]] = {}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="metadata-scroll", can_focus=True):
            yield Static(id="session-details")
            yield Static(id="pool-summary")
        # The package search and table are mounted with the first pool metadata
        # (_package_widgets): an Input and a DataTable cost ~20 ms of start-up.

    def on_mount(self) -> None:
        self.border_title = "2 Metadata"
        self.show_session(None, "")

    def _package_widgets(self) -> tuple[Input, DataTable[Text]]:
        search = self.query_one_optional("#package-search", Input)
        table = self.query_one_optional("#package-table", DataTable)
        if search is not None and table is not None:
            return search, table
        search = Input(placeholder="search packages", id="package-search", compact=True)
        table = DataTable[Text](id="package-table", cursor_type="row")
        table.add_column("package", key="name")
        table.add_column("version", key="version")
        # The count heads the list it counts: the pool's ARM properties stay above, in the scroll.
        self.mount(Static(id="package-count"), search, table)
        return search, table

    def focus_primary(self) -> None:
        self.query_one("#metadata-scroll").focus()

    def show_session(self, session: Session | None, source: str) -> None:
        self.session = session
        self.source = source
        self.refresh_details()

    def refresh_details(self) -> None:
        details = self.query_one("#session-details", Static)
        session = self.session
        if session is None:
            details.update(Content.styled("No session selected.", "$text-muted"))
            return
        now = self.clock()
        estimate = self.estimates.get(session.identifier)
        mark = Content.styled(f"  {ESTIMATED}", "italic $text-warning") if estimate else Content()
        rows: list[tuple[str, Content]] = [
            ("identifier", Content(escape_controls(session.identifier))),
            ("created", _moment(session.created_at, format_age(session.created_at, now))),
            (
                "last access",
                _moment(session.last_accessed_at, format_age(session.last_accessed_at, now)) + mark,
            ),
            (
                "expires at",
                _moment(session.expires_at, format_expiry(session.expires_at, now)) + mark,
            ),
            ("cooldown", _cooldown(session, estimate)),
            ("etag", Content(session.etag or "—")),
        ]
        lines = [
            Content.assemble((f"{label:<12}", "bold $secondary"), value) for label, value in rows
        ]
        if estimate is not None:
            answered, cooldown = estimate
            lines.append(
                Content.styled(
                    f"estimated: the answer at {format_timestamp(answered)} + the "
                    f"{format_duration(cooldown.total_seconds())} cooldown; the next listing "
                    "(r) confirms it",
                    "$text-muted",
                )
            )
        else:
            lines.append(Content.styled(self.source, "$text-muted"))
        details.update(Content("\n").join(lines))

    def show_pool(self, metadata: PoolMetadata, endpoint: str, api_version: str) -> None:
        self.pool = metadata
        runtimes = ", ".join(f"{p.name} {p.version}" for p in metadata.runtimes) or "—"
        lines = [
            Content.styled("pool metadata (GET /metadata — touches no session)", "bold $primary"),
            Content.assemble(("endpoint    ", "bold $secondary"), endpoint),
            Content.assemble(("api version ", "bold $secondary"), api_version),
            Content.assemble(("runtimes    ", "bold $secondary"), runtimes),
        ]
        if metadata.kernel is not None:
            kernel = metadata.kernel
            lines.append(
                Content.assemble(
                    ("kernel      ", "bold $secondary"), f"{kernel.name} {kernel.version}"
                )
            )
        if metadata.emulator_sandbox is not None:
            lines.append(
                Content.assemble(("sandbox     ", "bold $secondary"), metadata.emulator_sandbox)
            )
        lines.append(
            Content.assemble(
                ("updated     ", "bold $secondary"), format_timestamp(metadata.last_updated_at)
            )
        )
        self.query_one("#pool-summary", Static).update(Content("\n").join(lines))
        search, table = self._package_widgets()
        count = f"{counted(len(metadata.packages), 'preinstalled package')}:"
        self.query_one("#package-count", Static).update(Content.styled(count, "$text-muted"))
        self._fill_packages(table, search.value)

    def show_pool_note(self, note: str) -> None:
        """What the pool has instead of `/metadata` (a custom container has none)."""
        if self.pool is None:
            self.query_one("#pool-summary", Static).update(Content(note))

    def show_pool_failed(self, note: str) -> None:
        """`m` failed and no earlier pool metadata is shown: say where the error went."""
        if self.pool is None:
            self.query_one("#pool-summary", Static).update(Content.styled(note, "$text-error"))

    def _fill_packages(self, table: DataTable[Text], query: str) -> None:
        table.clear()
        if self.pool is None:
            return
        needle = query.strip().lower()
        for package in self.pool.packages:
            if needle in package.name.lower():
                table.add_row(Text(package.name), Text(package.version), key=package.name)

    @on(Input.Changed, "#package-search")
    def _search_changed(self, event: Input.Changed) -> None:
        _search, table = self._package_widgets()
        self._fill_packages(table, event.value)


def _cooldown(session: Session, estimate: tuple[datetime, timedelta] | None) -> Content:
    """How long the session lives without requests: expiresAt − lastAccessedAt."""
    if estimate is not None:
        length = estimate[1]
    elif session.expires_at is not None and session.last_accessed_at is not None:
        length = session.expires_at - session.last_accessed_at
    else:
        return Content("—")
    return Content(f"{format_duration(length.total_seconds())} idle (expires − last access)")


def _moment(when: datetime | None, relative: str) -> Content:
    """`2026-01-15 09:45:00  (15m00s ago)`, or an em dash for a time the pool has not given."""
    return Content("—") if when is None else Content(f"{format_timestamp(when)}  ({relative})")
