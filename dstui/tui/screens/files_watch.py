"""Watch files (w in Files ↻): list the Files pane's directory every few seconds and mark what is
new or changed. Each listing keeps the session alive, so it is opt-in, and it stops on `w`, on
leaving the pane, when another session is selected, and at the session's expiry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

from dstui.api.display import escape_controls
from dstui.api.errors import DynamicSessionsError, NotFoundError
from dstui.tui.file_watch import NEW, FileWatch, describe_changes
from dstui.tui.screens.controller import ScreenController

if TYPE_CHECKING:
    from dstui.tui.screens.base import PoolScreen

FILES_PANE = 4


class FilesWatcher(ScreenController):
    """At most one watch at a time; its state belongs to the instance."""

    def __init__(self, screen: PoolScreen, interval_s: float) -> None:
        super().__init__(screen)
        self.interval_s = interval_s
        self.watch: FileWatch | None = None
        self._timer: Timer | None = None

    def toggle(self) -> None:
        if self.watch is not None:
            self.stop("w pressed again")
            return
        screen = self.screen
        files = screen.files
        identifier = screen.selected_or_hint()
        if identifier is None:
            return
        if files.identifier != identifier:
            screen.app.notify("List the session's files first (4, then r).", severity="warning")
            return
        self.watch = FileWatch(identifier, files.path, self.interval_s)
        self.watch.baseline(files.entries.values())
        self._timer = screen.set_interval(self.interval_s, self.tick)
        screen.report_info(
            f"Watching {files.remote_dir()} every {self.interval_s:g} s ↻ (each listing "
            "keeps the session alive); w stops, so does leaving the pane."
        )
        self._note("")

    def focus_moved(self, widget: Widget) -> None:
        """Leaving the Files pane stops the watch at once (a modal over it does not)."""
        if self.watch is not None and self.screen.files not in widget.ancestors_with_self:
            self.stop("left the Files pane")

    def stop(self, why: str) -> None:
        if self.watch is None:
            return
        if self._timer is not None:
            self._timer.stop()
        listings = self.watch.listings
        self.watch = None
        self._timer = None
        self.screen.files.set_note(f"not watching: {why}")
        self.screen.report_info(f"Stopped watching files: {why} (after {listings} listings).")

    def _stop_reason(self, watch: FileWatch) -> str | None:
        screen = self.screen
        if screen.active_pane != FILES_PANE:
            return "left the Files pane"
        if screen.selected != watch.identifier or screen.files.identifier != watch.identifier:
            return "another session is selected"
        row = screen.sessions.session(watch.identifier)
        expires = row.session.expires_at if row is not None and not row.local else None
        if expires is not None and expires <= screen.settings.clock():
            return f"the session expired at {expires:%H:%M:%S} UTC (a listing would re-create it)"
        return None

    def tick(self) -> None:
        watch = self.watch
        if watch is None:
            return
        reason = self._stop_reason(watch)
        if reason is not None:
            self.stop(reason)
            return
        screen = self.screen
        if screen.group_running("files-list") or screen.group_running("files-watch"):
            return
        files = screen.files
        if files.path != watch.path:  # the user moved to another directory
            watch.path = files.path
            watch.baseline(files.entries.values())
        self.start(self._list(watch), group="files-watch", description="Watching files")

    async def _list(self, watch: FileWatch) -> None:
        screen = self.screen
        try:
            listing = await screen.pool.list_files(watch.identifier, path=watch.path)
        except NotFoundError:
            self.stop("the session or the directory is gone")
            return
        except DynamicSessionsError as exc:
            self.stop("a listing failed")
            screen.report_error("Watching files failed", exc)
            return
        files = screen.files
        if self.watch is not watch or files.path != watch.path:
            return  # stopped, or the user moved, while the listing was on its way
        screen.facts.touched(watch.identifier)
        marks = watch.changes(listing)
        files.show_listing(watch.identifier, watch.path, listing)
        theme = screen.app.current_theme
        for name, mark in marks.items():
            entry = files.entries[name]
            label = f"{'+' if mark == NEW else '~'} {escape_controls(entry.name)}"
            colour = theme.success if mark == NEW else theme.warning
            style = f"bold {colour}" if colour else "bold"
            files.table.update_cell(name, "name", Text(label, style=style, no_wrap=True))
        self._note(describe_changes(marks, watch.removed))

    def _note(self, changes: str) -> None:
        watch = self.watch
        if watch is None:
            return
        since = f" · since the last listing: {changes}" if changes else ""
        self.screen.files.set_note(
            f"watching every {watch.interval_s:g} s ↻ (w stops){since} · {self.screen.stamp()}"
        )
