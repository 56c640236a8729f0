"""The one place that knows the open pool's container type (PythonLTS, Shell, CustomContainer or
not known yet) and where that came from: `--container-type`, ARM, or the pool's first answers.

Not a widget: screens read `kind` and ask `refusal(action)` before a key does its work.
"""

from __future__ import annotations

from dataclasses import dataclass

from dstui.api.errors import DynamicSessionsError
from dstui.tui.actions import TOUCH_MARK

PYTHON = "PythonLTS"
SHELL = "Shell"
CUSTOM_CONTAINER = "CustomContainer"
CONTAINER_TYPES = (PYTHON, SHELL, CUSTOM_CONTAINER)
UNKNOWN = ""

DYNAMIC_APIS_NOT_ALLOWED = "DynamicApisNotAllowed"
PROPERTIES_MISSING = "SessionPropertiesMissing"
_CUSTOM_SHAPED = "no data-plane session list"  # the emulator's wording for the same refusal

# Actions that only make sense with a Python kernel behind them (method names).
_PYTHON_ONLY = {
    "variables": "variables need a Python kernel",
    "interrupt_kernel": "interrupt needs a Python kernel",
}
# Actions that need the data-plane session or file APIs, which custom containers lack.
_DATA_PLANE = {
    "run_code": "no code runs here: R sends a request to the session's app",
    "recall_history": "no runs here",
    "toggle_async": "no runs here",
    "toggle_argv": "no runs here",
    "fetch_stopped_run": "no runs here",
    "open_files": "no file API",
    "open_entry": "no file API",
    "parent_directory": "no file API",
    "copy_file_path": "no file API",
    "refresh_files": "no file API",
    "upload_file": "no file API",
    "download_file": "no file API",
    "download_file_as": "no file API",
    "delete_file": "no file API",
    "preview_file": "no file API",
    "watch_files": "no file API",
    "export_session": "no file API",
    "load_more": "no data-plane session list",
    "refresh_sessions": "no data-plane session list",
    "variables": "no Python kernel",
    "interrupt_kernel": "no Python kernel",
}

# A key whose action is another one in custom containers: (the footer's and the help's word,
# the palette's title).
_CUSTOM_NAMES = {"delete_sessions": ("Stop", "Stop selected or marked sessions")}  # stopSession


def parse_container_type(value: str) -> str:
    """`shell` → `Shell`: the ARM spelling of a type given on the command line, any case."""
    for known in CONTAINER_TYPES:
        if value.strip().lower() == known.lower():
            return known
    choices = ", ".join(CONTAINER_TYPES)
    raise ValueError(f"unknown container type {value!r} (one of {choices})")


def type_from_error(exc: BaseException) -> str | None:
    """What a refusal says about the pool's type, if anything."""
    if not isinstance(exc, DynamicSessionsError):
        return None
    if exc.code == DYNAMIC_APIS_NOT_ALLOWED or _CUSTOM_SHAPED in exc.message:
        return CUSTOM_CONTAINER
    if exc.code == PROPERTIES_MISSING and "shell" in exc.message.lower():
        return SHELL
    return None


@dataclass
class PoolType:
    kind: str = UNKNOWN  # one of CONTAINER_TYPES, or UNKNOWN (treated as Python)
    source: str = ""  # "--container-type", "ARM", "learned from …"; "" while unknown

    @classmethod
    def initial(cls, override: str | None, arm_type: str | None) -> PoolType:
        """`--container-type` wins over ARM; with neither the type is learned later."""
        if override:
            return cls(override, "--container-type")
        if arm_type:
            return cls(arm_type, "ARM")
        return cls()

    @property
    def is_shell(self) -> bool:
        return self.kind == SHELL

    @property
    def is_custom(self) -> bool:
        return self.kind == CUSTOM_CONTAINER

    @property
    def fixed(self) -> bool:
        """Given by the user or by ARM: an answer does not change it."""
        return self.source in ("--container-type", "ARM")

    def learn(self, exc: BaseException, what: str) -> bool:
        """Take the type from a refusal (`what` names the request); True when it changed."""
        found = type_from_error(exc)
        if found is None or found == self.kind or self.fixed:
            return False
        self.kind = found
        self.source = f"learned from {what}"
        return True

    @property
    def label(self) -> str:
        """`Shell`, `CustomContainer`; an unknown type is treated as Python."""
        return self.kind or "taken for PythonLTS"

    def described(self) -> str:
        if not self.kind:
            return "not known (neither ARM nor --container-type says): treated as PythonLTS"
        return f"{self.kind} ({self.source})"

    def request_refusal(self) -> str | None:
        """R (a request to the session's app) exists in custom-container pools only."""
        if self.is_custom:
            return None
        return f"R sends requests to a custom container's app; this pool is {self.label}."

    def argv_refusal(self) -> str | None:
        if self.is_shell:
            return None
        return f"ctrl+t (argv mode) is for Shell pools; this pool is {self.label}."

    def key_description(self, action: str, description: str) -> str:
        """The footer's `description` of `action` (a method name), as this pool has it: ctrl+d
        says Stop in a custom container (the ↻ mark stays)."""
        return self._renamed(action, description, 0)

    def palette_title(self, action: str, title: str) -> str:
        """The palette's `title` of `action`, as this pool has it (ctrl+d stops sessions in a
        custom container)."""
        return self._renamed(action, title, 1)

    def _renamed(self, action: str, text: str, which: int) -> str:
        names = _CUSTOM_NAMES.get(action) if self.is_custom else None
        if names is None:
            return text
        if not text.endswith(TOUCH_MARK):
            return names[which]
        spacer = " " if text.endswith(f" {TOUCH_MARK}") else ""  # the palette's `Title ↻`
        return f"{names[which]}{spacer}{TOUCH_MARK}"

    def refusal(self, action: str) -> str | None:
        """Why `action` (a method name) does not apply to this pool; None when it does."""
        if self.is_custom:
            reason = _DATA_PLANE.get(action)
            return f"CustomContainer pool: {reason}" if reason else None
        if self.is_shell and action in _PYTHON_ONLY:
            return f"Shell pool: {_PYTHON_ONLY[action]}; this pool runs bash commands"
        if action == "toggle_argv":
            return self.argv_refusal()  # off (and out of the help) except in Shell pools
        return None
