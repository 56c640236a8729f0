"""The main screen's keys as the user meets them: a key that is off in this run says why
(instead of doing nothing), and `?` lists the keys of the pane and of everywhere."""

from __future__ import annotations

from textual.events import Key
from textual.screen import Screen

from dstui.tui.actions import emulator_only_reason, read_only_reason, touches_session
from dstui.tui.screens.controller import ScreenController
from dstui.tui.screens.modals import TextModal, help_content
from dstui.tui.widgets.code_pane import EDITOR_KEYS


class KeyHelp(ScreenController):
    def explain_inactive(self, event: Key) -> None:
        """A key whose action is off here (--read-only, emulator only) says so, instead of
        doing nothing."""
        if event.key in self.screen.active_bindings:
            return
        for _node, bindings in self.screen._binding_chain:
            for binding in bindings.key_to_bindings.get(event.key, []):
                action = binding.action.split("(")[0].removeprefix("screen.")
                reason = self.inactive_reason(action)
                if reason is not None:
                    event.stop()
                    self.screen.app.notify(reason, severity="warning", markup=False)
                    return

    def inactive_reason(self, action: str) -> str | None:
        """Why the action is off in this run (--read-only, emulator only); None when it is on."""
        reason = read_only_reason(action)
        if self.screen.settings.read_only and reason is not None:
            return f"read-only: {reason}"
        refused = self.screen.pool_type.refusal(action)  # Python-only keys in a Shell pool, etc.
        if refused is not None:
            return refused
        if not self.screen.settings.emulator:
            return emulator_only_reason(action)
        return None

    def show_help(self, active_pane: int) -> None:
        """`?`: the keys of the active pane (1–4), the editor's in pane 3, and everywhere."""
        pane_rows: list[tuple[str, str, bool]] = []
        global_rows: list[tuple[str, str, bool]] = []
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system or binding.id is None:
                continue  # only dstui's own (remappable) keys, not every widget default
            action = binding.action.split("(")[0].removeprefix("screen.").removeprefix("app.")
            label = self.screen.key_description(binding).removesuffix("↻")
            row = (self.screen.app.get_key_display(binding), label, touches_session(action))
            if isinstance(active.node, Screen) or active.node is self.screen.app:
                global_rows.append(row)
            else:
                pane_rows.append(row)
        global_rows.append(("ctrl+q", "Quit (anywhere)", False))
        global_rows.append(("ctrl+p", "Command palette (every action)", False))
        name = ("Sessions", "Metadata", "Code", "Files")[active_pane - 1]
        sections = [(f"{name} pane", pane_rows), ("Everywhere", global_rows)]
        if active_pane == 3:
            sections.insert(1, ("Editor", [(key, text, False) for key, text in EDITOR_KEYS]))
        body = help_content(sections)
        self.screen.app.push_screen(TextModal("Keys", body, dialog_id="help-dialog"))
