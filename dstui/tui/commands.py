"""Command palette: every action of the main screen, read-only aware, ↻ on session-touching ones."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from dstui.tui.screens.main import MainScreen

# (title, action on the main screen, help); the screen's check_action filters read-only.
PALETTE_ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Refresh sessions", "refresh_sessions", "Reload the session list (names no session)"),
    ("Load more sessions", "load_more", "Fetch the next page of the list"),
    ("Filter sessions", "filter_sessions", "Filter the loaded rows by identifier"),
    ("New session", "new_session", "Pick an identifier; the first request creates it"),
    ("Open session by identifier ↻", "open_session", "GET /session for any identifier"),
    ("Fetch selected session ↻", "fetch_session", "GET /session (resets its cooldown)"),
    ("Delete selected or marked sessions ↻", "delete_sessions", "Asks first"),
    ("Mark / unmark session", "toggle_mark", "Marked rows are deleted together"),
    ("Copy session identifier", "copy_identifier", "To the clipboard"),
    ("Pool metadata", "pool_metadata", "Runtimes, packages, kernel (names no session)"),
    ("Run code ↻", "run_code", "Run the buffer or the selection in the selected session"),
    (
        "Stop waiting for the run",
        "cancel_run",
        "The service has no cancel call: the run goes on in its session",
    ),
    ("Fetch a stopped run's result ↻", "fetch_stopped_run", "Once the run has finished"),
    ("Interrupt the kernel ↻", "interrupt_kernel", "Emulator only (an x-dstui extension)"),
    ("Toggle async mode", "toggle_async", "Poll the execution instead of waiting"),
    ("Recall a previous run", "recall_history", "Loads it; the draft stays one ctrl+z away"),
    ("List files ↻", "refresh_files", "List /mnt/data of the selected session"),
    ("Upload file ↻", "upload_file", "Into the current directory"),
    ("Download file ↻", "download_file", "To the download folder"),
    ("Download file as… ↻", "download_file_as", "Pick where to save it"),
    ("Open the session's files ↻", "open_files", "List /mnt/data of the highlighted session"),
    ("Messages", "messages", "Every message so far, with full errors, hints and ids"),
    ("Preview file ↻", "preview_file", "Text with highlighting; binary shows size"),
    ("Delete file ↻", "delete_file", "Asks first"),
    ("Parent directory ↻", "parent_directory", "Go up one directory"),
    ("Zoom focused pane", "toggle_maximize", "Maximize / restore"),
    ("Focus sessions", "focus_pane(1)", ""),
    ("Focus metadata", "focus_pane(2)", ""),
    ("Focus code", "focus_pane(3)", ""),
    ("Focus files", "focus_pane(4)", ""),
    ("Keys", "help", "Keys of the focused pane and the global ones"),
)


def with_keys(keys: str, help_text: str) -> str:
    """`ctrl+d (Sessions) · Asks first`: the keys first, so they line up in the list."""
    return " · ".join(part for part in (keys, help_text) if part)


class DstuiCommands(Provider):
    def _available(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = getattr(self.app, "main_screen", None)  # DstuiApp's; other apps have none
        if not isinstance(screen, MainScreen):
            return []
        keys = screen.action_keys()
        commands: list[tuple[str, Callable[[], object], str]] = []
        for title, action, help_text in PALETTE_ACTIONS:
            if screen.check_action(action.split("(")[0], ()) is False:
                continue
            described = with_keys(keys.get(action, ""), help_text)
            commands.append((title, partial(screen.run_action, action), described))
        return commands

    async def discover(self) -> Hits:
        for title, callback, help_text in self._available():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._available():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
