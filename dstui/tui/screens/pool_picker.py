"""The pool picker: the session pools ARM lists in every subscription the user can see; enter
opens one (its poolManagementEndpoint becomes the client's endpoint, with a fresh main screen).

The "in use" column is only what is cheap to know: ARM's nodeCount, or for the open pool the
sessions loaded when its whole list is loaded. No pool's sessions are listed just for it.
"""

from __future__ import annotations

from typing import ClassVar, cast

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from dstui.api.arm import PoolListing
from dstui.api.arm_models import SessionPoolResource
from dstui.api.display import escape_controls
from dstui.api.errors import DynamicSessionsError, safe_text
from dstui.tui.actions import PICKER, bindings_for
from dstui.tui.errors import describe_error
from dstui.tui.formatting import counted
from dstui.tui.key_line import key_line
from dstui.tui.pool_directory import PoolDirectory, PoolSwitcher, pool_key
from dstui.tui.pool_properties import NEAR_LIMIT
from dstui.tui.settings import AppSettings
from dstui.tui.widgets.virtual_table import Cell, Column, VirtualTable

COLUMNS = (
    Column("name", "pool", 12),  # ● marks the pool open now
    Column("group", "group", 11),
    Column("region", "region", 11),
    Column("type", "type", 15),
    Column("state", "state", 9),
    Column("use", "use/max", 9),
)


# Pressed while the pools are first listed, these wait for the list (the others act at once).
TYPE_AHEAD_KEYS = frozenset({"up", "down", "j", "k", "home", "end", "pageup", "pagedown", "enter"})
TYPE_AHEAD_MAX = 32


def usage_cell(in_use: int | None, maximum: int | None) -> Cell:
    """`40 / 50` (in the warning colour from 80 %), `– / 100` when the use is unknown."""
    used = "" if in_use is None else str(in_use)
    limit = "?" if maximum is None else str(maximum)
    text = f"{used} / {limit}" if used else f"– / {limit}"
    if in_use is not None and maximum and in_use >= NEAR_LIMIT * maximum:
        return Text(text, style="bold yellow")
    return text


class PoolPickerScreen(Screen[None]):
    DEFAULT_CSS = """
    PoolPickerScreen { layout: vertical; }
    PoolPickerScreen .key-line { height: auto; background: $panel; padding: 0 1; }
    #picker-title { height: 1; background: $panel; padding: 0 1; }
    #picker-table { height: 1fr; }
    #picker-status { height: auto; max-height: 6; padding: 0 1; color: $text-muted; }
    #picker-status.-error { color: $text-error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(PICKER)

    def __init__(self, directory: PoolDirectory, *, current: str | None = None) -> None:
        super().__init__(id="pool-picker")
        self.directory = directory
        self.current = current  # pool_key of the pool open now
        self.pools: list[SessionPoolResource] = []
        self.listing: PoolListing | None = None
        # Keys that need the list, pressed before the first listing ended; None after it.
        self.typed_ahead: list[str] | None = []

    def compose(self) -> ComposeResult:
        yield Static(id="picker-title")
        yield VirtualTable(COLUMNS, id="picker-table")
        yield Static(id="picker-status")
        yield Static(key_line(self.BINDINGS), classes="key-line")

    def on_mount(self) -> None:
        endpoint = escape_controls(self.directory.arm.endpoint)
        self.query_one("#picker-title", Static).update(
            Content.assemble(
                ("dstui", "bold $primary"),
                " │ ",
                ("session pools", "bold $accent"),
                f" │ ARM {endpoint}",
            )
        )
        self.query_one(VirtualTable).focus()
        self.load_pools()

    def on_key(self, event: events.Key) -> None:
        """`dstui`, then down down enter straight away: the keys that need the list wait
        for the first one instead of moving a cursor in an empty table."""
        if self.typed_ahead is not None and event.key in TYPE_AHEAD_KEYS:
            event.stop()
            event.prevent_default()
            if len(self.typed_ahead) < TYPE_AHEAD_MAX:
                self.typed_ahead.append(event.key)

    def _end_type_ahead(self, *, replay: bool) -> None:
        typed, self.typed_ahead = self.typed_ahead or [], None
        for key in typed if replay else ():
            self.app.post_message(events.Key(key, key if len(key) == 1 else None))

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#picker-table", VirtualTable)

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#picker-status", Static)
        status.update(Content(text))
        status.set_class(error, "-error")

    @work(group="pools", exclusive=True, exit_on_error=False, description="Listing pools")
    async def load_pools(self) -> None:
        self.table.empty_text = "listing pools…"
        self._status("Listing session pools in every subscription you can see…")
        try:
            listing = await self.directory.list_pools()
        except DynamicSessionsError as exc:
            self.table.empty_text = "listing the pools failed"
            self.table.refresh()
            self._status(f"Listing the pools failed: {describe_error(exc)}", error=True)
            self._end_type_ahead(replay=False)  # they were meant for a list that is not there
            return
        self.show_listing(listing)

    def show_listing(self, listing: PoolListing) -> None:
        self.listing = listing
        self.pools = list(listing.pools)
        table = self.table
        table.clear()
        table.empty_text = "no session pools in the subscriptions you can see"
        table.add_rows((pool_key(pool), self._cells(pool)) for pool in self.pools)
        for index, pool in enumerate(self.pools):
            if pool_key(pool) == self.current:
                table.move_cursor(index)
        subscriptions = {pool.subscription_id for pool in self.pools}
        lines = [
            f"{counted(len(self.pools), 'pool')} in "
            f"{counted(len(subscriptions), 'subscription')} · enter opens one"
        ]
        names = {sub.subscription_id: sub.display_name for sub in listing.subscriptions}
        for subscription, exc in listing.failures:
            name = names.get(subscription)
            shown = escape_controls(f"{name} ({subscription})" if name else subscription)
            lines.append(f"✘ subscription {shown}: {safe_text(exc.message)}")
        self._status("\n".join(lines), error=bool(listing.failures))
        self._end_type_ahead(replay=True)

    def _in_use(self, pool: SessionPoolResource) -> int | None:
        if pool_key(pool) == self.current:
            loaded = self._loaded_in_open_pool()
            if loaded is not None:
                return loaded
        return pool.node_count

    def _loaded_in_open_pool(self) -> int | None:
        return cast(PoolSwitcher, self.app).loaded_in_open_pool()

    def _cells(self, pool: SessionPoolResource) -> list[Cell]:
        state = pool.provisioning_state or "?"
        mark = "● " if pool_key(pool) == self.current else ""
        return [
            Text(mark + escape_controls(pool.name)),
            Text(escape_controls(pool.resource_group or "?")),
            Text(escape_controls(pool.location or "?")),
            Text(escape_controls(pool.container_type or "?")),
            state if state == "Succeeded" else Text(escape_controls(state), style="yellow"),
            usage_cell(self._in_use(pool), pool.scale.max_concurrent_sessions),
        ]

    def highlighted_pool(self) -> SessionPoolResource | None:
        key = self.table.highlighted_key()
        return next((pool for pool in self.pools if pool_key(pool) == key), None)

    # -- actions ----------------------------------------------------------------------------

    def action_open_pool(self) -> None:
        pool = self.highlighted_pool()
        if pool is None:
            return
        cast(PoolSwitcher, self.app).open_pool(pool)

    def action_refresh(self) -> None:
        self.load_pools()

    def action_across_pools(self) -> None:
        from dstui.tui.screens.across_pools import AcrossPoolsScreen

        if self.listing is None:
            self.app.notify("The pools are still being listed.", severity="warning")
            return
        settings = cast(AppSettings, getattr(self.app, "settings"))  # noqa: B009
        self.app.push_screen(AcrossPoolsScreen(self.directory, self.pools, settings))

    def action_back(self) -> None:
        if cast(PoolSwitcher, self.app).has_open_pool():  # a pool is open under the picker
            self.app.pop_screen()
        else:
            self.app.notify("Pick a pool (enter), or q quits.", markup=False)
