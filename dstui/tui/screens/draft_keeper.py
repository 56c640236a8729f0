"""The editor's drafts: one per session, swapped in when the cursor moves to it, and saved a
moment after typing stops (so a crash or a kill loses little)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.css.query import NoMatches
from textual.timer import Timer

from dstui.tui.drafts import DraftStore, DraftTooLong
from dstui.tui.pool_directory import drafts_dir
from dstui.tui.screens.controller import ScreenController

if TYPE_CHECKING:
    from dstui.tui.screens.base import PoolScreen

DRAFT_SAVE_DELAY_S = 1.0


class DraftKeeper(ScreenController):
    def __init__(self, screen: PoolScreen) -> None:
        super().__init__(screen)
        self.store = DraftStore(drafts_dir(screen.settings.data_dir, screen.settings.pool_key))
        self.owner: str | None = None  # the session whose draft the editor holds
        self._timer: Timer | None = None

    def switch_to(self, identifier: str | None) -> None:
        """Keep the draft shown, then load `identifier`'s."""
        self.keep()
        editor = self.screen.code.editor
        if identifier is not None:
            draft = self.store.load(identifier)
            if self.owner is None and not draft:
                draft = editor.text  # typed before any session was selected: keep it
            if editor.text != draft:
                editor.load_text(draft)
        self.owner = identifier

    def keep(self) -> None:
        owner = self.owner
        if owner is None or self.screen.settings.read_only:
            return
        try:
            text = self.screen.code.editor.text
        except NoMatches:
            return  # the screen is being torn down; the last debounced save has it
        try:
            self.store.save(owner, text)
        except DraftTooLong as exc:
            self.screen.notify(f"Draft not saved: {exc}.", severity="warning", markup=False)
        except OSError as exc:
            self.screen.report_error("Saving the draft failed", exc)

    def edited(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.screen.set_timer(DRAFT_SAVE_DELAY_S, self.keep)
