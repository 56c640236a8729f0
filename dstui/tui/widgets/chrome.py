"""The one-line header (where am I), the status bar (what is happening) and the pane tabs."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
MIN_LABEL_CELLS = 8  # a header pool label is never cut shorter than this


class TopBar(Static):
    """Pool, api-version, identity and how many sessions are loaded."""

    DEFAULT_CSS = """
    TopBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    loaded: reactive[str] = reactive("")
    identity: reactive[str | None] = reactive(None)
    pool_type: reactive[str] = reactive("")  # Shell, CustomContainer; "" for Python or unknown

    def __init__(
        self, pool_label: str, api_version: str, identity: str | None, *, emulator: bool
    ) -> None:
        super().__init__(id="top-bar")
        self.pool_label = pool_label
        self.api_version = api_version
        self.set_reactive(TopBar.identity, identity)
        self.emulator = emulator

    def render(self) -> Content:
        separator = Content(" │ ")
        loaded = [Content.styled(self.loaded, "$text-muted")] if self.loaded else []
        identity = [Content(self.identity)] if self.identity else []
        version = [Content(f"api {self.api_version}")]
        pool_style = "bold $warning" if self.emulator else "bold $accent"
        label = Content.styled(self.pool_label, pool_style)
        if self.pool_type:
            label = Content.assemble(label, (f" · {self.pool_type}", "bold $secondary"))
        width = self.content_size.width
        # Too narrow for all of it: the api-version goes first, then the identity; only then
        # is the pool's name shortened, and the sessions count always stays whole.
        for rest in (version + identity + loaded, identity + loaded, loaded):
            tail = Content("").join(piece for part in rest for piece in (separator, part))
            room = width - len("dstui") - separator.cell_length - tail.cell_length
            if not width or room >= label.cell_length:
                break
        if width and label.cell_length > room:
            label = label.truncate(max(room, MIN_LABEL_CELLS), ellipsis=True)
        return Content.assemble(Content.styled("dstui", "bold $primary"), separator, label, tail)


class StatusBar(Static):
    """Spinner + work in flight, last refresh time, last error (plain text, never markup)."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $surface; padding: 0 1; }
    """

    busy: reactive[str] = reactive("")
    refreshed: reactive[str] = reactive("")
    error: reactive[str] = reactive("")
    frame: reactive[int] = reactive(0)

    def __init__(self, *, animate: bool = True) -> None:
        super().__init__(id="status-bar")
        self.animate_spinner = animate
        self.messages_key = "e"  # where the full error is (the message log)

    def on_mount(self) -> None:
        if self.animate_spinner:
            self.set_interval(0.1, self._tick)

    def _tick(self) -> None:
        if self.busy:
            self.frame = (self.frame + 1) % len(SPINNER)

    def render(self) -> Content:
        parts: list[Content] = []
        if self.busy:
            spinner = SPINNER[self.frame] if self.animate_spinner else "…"
            parts.append(Content.styled(f"{spinner} {self.busy}", "$accent"))
        else:
            parts.append(Content.styled("ready", "$text-muted"))
        if self.refreshed:
            parts.append(Content.styled(f"refreshed {self.refreshed}", "$text-muted"))
        if self.error:
            first_line = self.error.splitlines()[0] if self.error.strip() else self.error
            error = Content.styled(f"✘ {first_line}", "$text-error")
            more = Content.styled(f" ({self.messages_key}: details)", "$text-muted")
            width = self.content_size.width
            room = width - Content("  ").join(parts).cell_length - 2 - more.cell_length
            if width and error.cell_length > room:
                error = error.truncate(max(room, 12), ellipsis=True)
            parts.append(Content.assemble(error, more))
        return Content("  ").join(parts)


class PaneBar(Static):
    """Shown instead of the 2×2 grid on small terminals: which pane is visible, 1–4 to switch."""

    DEFAULT_CSS = """
    PaneBar { height: 1; background: $boost; padding: 0 1; display: none; }
    """

    active: reactive[int] = reactive(1)
    NAMES = ("Sessions", "Metadata", "Code", "Files")

    def render(self) -> Content:
        parts: list[Content] = []
        for number, name in enumerate(self.NAMES, start=1):
            label = f" {number} {name} "
            style = "reverse bold $primary" if number == self.active else "$text-muted"
            parts.append(Content.styled(label, style))
        return Content(" ").join(parts)
