"""Every action behind a dstui key, in one table: what the bindings, the footer, the help, the
command palette, the `--read-only` filter, the `[tui.keymap]` check and the README's key table
are all derived from.

An action's `run` is the method name on the main screen (`run_code` → `action_run_code`),
optionally with arguments (`focus_pane(2)`) or a namespace (`app.quit`). Bound in a pane, it is
sent to the screen (`screen.run_code`), so a pane needs no handler of its own. A view with its
own screen (Traffic, Timeline, Variables) is a target too: its keys are that screen's bindings,
its handlers that screen's methods, and its keys clash only with each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

# Where an action's key is bound. GLOBAL keys are on the main screen, reachable from any pane.
GLOBAL = "everywhere"
SESSIONS = "Sessions"
METADATA = "Metadata"
CODE = "Code"
FILES = "Files"
MAIN_TARGETS = (GLOBAL, SESSIONS, METADATA, CODE, FILES)  # the main screen and its panes
TRAFFIC = "Traffic"
TIMELINE = "Timeline"
VARIABLES = "Variables"
PICKER = "Pool picker"
ACROSS = "Across pools"
VIEW_TARGETS = (TRAFFIC, TIMELINE, VARIABLES, PICKER, ACROSS)  # screens of their own
TARGETS = MAIN_TARGETS + VIEW_TARGETS
TOUCH_MARK = "↻"  # the action sends a request naming a session (resets its cooldown)


@dataclass(frozen=True, slots=True)
class Action:
    id: str  # the binding id, as `[tui.keymap]` names it
    run: str  # the screen's action: `run_code`, `focus_pane(1)`, `app.quit`
    keys: str  # Textual key names, comma-separated
    label: str  # the footer's word (without ↻)
    help: str  # one line for the palette, the help screen and the README
    where: tuple[str, ...] = (GLOBAL,)
    touches_session: bool = False
    read_only: str | None = None  # set: the action changes something; why --read-only hides it
    emulator_only: str | None = None  # set: only with the embedded emulator; why not elsewhere
    palette: str | None = None  # the palette's title; None: not in the palette
    show: bool = True  # in the footer
    priority: bool = False  # works while typing in the editor or a field

    @property
    def name(self) -> str:
        """The action's method name (`focus_pane(1)` → `focus_pane`, `app.quit` → `quit`)."""
        return self.run.split("(")[0].rpartition(".")[2]

    @property
    def description(self) -> str:
        return self.label + TOUCH_MARK if self.touches_session else self.label

    @property
    def palette_title(self) -> str | None:
        if self.palette is None or not self.touches_session:
            return self.palette
        return f"{self.palette} {TOUCH_MARK}"

    def binding(self, target: str) -> Binding:
        namespaced = "." in self.run.split("(")[0]
        on_screen = target == GLOBAL or target in VIEW_TARGETS
        action = self.run if on_screen or namespaced else f"screen.{self.run}"
        return Binding(
            self.keys,
            action,
            self.description,
            show=self.show,
            id=self.id,
            priority=self.priority,
        )


_READ_ONLY_RUNS = "runs disabled"


def _also_on_q(action_id: str, view: str, run: str, label: str) -> Action:
    """A view's escape action bound to q as well, kept out of its footer."""
    return Action(action_id, run, "q", label, f"{label}, as esc", where=(view,), show=False)


# In footer order within each pane; the palette lists them in this order.
ACTIONS: tuple[Action, ...] = (
    # -- Sessions --------------------------------------------------------------------------
    Action(
        "open-files",
        "open_files",
        "enter",
        "Files",
        "Open the highlighted session's files (pane 4 lists /mnt/data)",
        where=(SESSIONS,),
        touches_session=True,
        palette="Open the session's files",
        show=False,
    ),
    Action(
        "filter-sessions",
        "filter_sessions",
        "slash",
        "Filter",
        "Filter the loaded rows by identifier",
        where=(SESSIONS,),
        palette="Filter sessions",
    ),
    Action(
        "refresh-sessions",
        "refresh_sessions",
        "r",
        "Refresh",
        "Reload the session list (names no session); the cursor stays on its session",
        where=(SESSIONS,),
        palette="Refresh sessions",
    ),
    Action(
        "mark-session",
        "toggle_mark",
        "space",
        "Mark",
        "Mark / unmark the session; marked rows are deleted together",
        where=(SESSIONS,),
        palette="Mark / unmark session",
    ),
    Action(
        "copy-identifier",
        "copy_identifier",
        "c",
        "Copy id",
        "Copy the session identifier to the clipboard",
        where=(SESSIONS,),
        palette="Copy session identifier",
    ),
    Action(
        "delete-session",
        "delete_sessions",
        "ctrl+d",
        "Delete",
        "Delete the session, or the marked ones (asks first; with marks, type their count); "
        "in a CustomContainer pool, stop them",
        where=(SESSIONS,),
        touches_session=True,
        read_only="session delete disabled",
        palette="Delete selected or marked sessions",
    ),
    Action(
        "load-more",
        "load_more",
        "ctrl+l",
        "More",
        "Fetch the next page of the list (it also loads at the end of the list)",
        where=(SESSIONS,),
        palette="Load more sessions",
        show=False,
    ),
    # -- Metadata (fetch-session is bound in both; clear-filter below is Sessions') ------
    Action(
        "pool-metadata",
        "pool_metadata",
        "m",
        "Pool metadata",
        "Pool metadata: runtimes, searchable packages, kernel, endpoint (names no session)",
        where=(METADATA,),
        palette="Pool metadata",
    ),
    Action(
        "fetch-session",
        "fetch_session",
        "i",
        "Fetch",
        "Fetch live details (GET /session: resets the cooldown, never re-creates a session)",
        where=(SESSIONS, METADATA),
        touches_session=True,
        palette="Fetch selected session",
    ),
    Action(
        "clear-filter",
        "clear_filter",
        "escape",
        "Clear filter",
        "Clear the filter (or leave the zoom)",
        where=(SESSIONS,),
        show=False,
    ),
    # -- Code (the output below the editor) ------------------------------------------------
    Action(
        "copy-output",
        "copy_output",
        "y",
        "Copy output",
        "Copy the shown run's output (stdout and result) to the clipboard",
        where=(CODE,),
        palette="Copy the run's output",
    ),
    # -- Files -----------------------------------------------------------------------------
    Action(
        "open-entry",
        "open_entry",
        "enter",
        "Open dir",
        "Open the directory, or preview the file",
        where=(FILES,),
        touches_session=True,
        show=False,
    ),
    Action(
        "parent-directory",
        "parent_directory",
        "backspace",
        "Up",
        "Go up one directory",
        where=(FILES,),
        touches_session=True,
        palette="Parent directory",
    ),
    Action(
        "upload-file",
        "upload_file",
        "u",
        "Upload",
        "Upload a file into the current directory",
        where=(FILES,),
        touches_session=True,
        read_only="upload disabled",
        palette="Upload file",
    ),
    Action(
        "download-file",
        "download_file",
        "d",
        "Download",
        "Download to the download folder (atomic; a name clash asks: overwrite, keep both, "
        "save as)",
        where=(FILES,),
        touches_session=True,
        palette="Download file",
    ),
    Action(
        "download-file-as",
        "download_file_as",
        "D",
        "Save as",
        "Download to a place you pick",
        where=(FILES,),
        touches_session=True,
        palette="Download file as…",
        show=False,
    ),
    Action(
        "delete-file",
        "delete_file",
        "ctrl+d",
        "Delete",
        "Delete the file (asks first)",
        where=(FILES,),
        touches_session=True,
        read_only="file delete disabled",
        palette="Delete file",
    ),
    Action(
        "preview-file",
        "preview_file",
        "p",
        "Preview",
        "Preview the file: text highlighted, binary by size and type",
        where=(FILES,),
        touches_session=True,
        palette="Preview file",
    ),
    Action(
        "refresh-files",
        "refresh_files",
        "r",
        "List",
        "List /mnt/data of the selected session again",
        where=(FILES,),
        touches_session=True,
        palette="List files",
    ),
    Action(
        "copy-file-path",
        "copy_file_path",
        "y",
        "Copy path",
        "Copy the file's full path (/mnt/data/…) to the clipboard",
        where=(FILES,),
        palette="Copy the file's path",
        show=False,
    ),
    Action(
        "watch-files",
        "watch_files",
        "w",
        "Watch",
        "Watch the directory: list it every 5 s (`[tui] watch_interval_s`), marking new (+) "
        "and changed (~) files; stops on w, on leaving the pane or at the session's expiry",
        where=(FILES,),
        touches_session=True,
        palette="Watch files (list every few seconds)",
        show=False,
    ),
    Action(
        "export-session",
        "export_session",
        "X",
        "Export",
        "Export all of /mnt/data as one .tar.gz or .zip (streamed, atomic, with progress)",
        where=(SESSIONS, FILES),
        touches_session=True,
        palette="Export the session's files",
        show=False,
    ),
    # -- everywhere (the main screen) ------------------------------------------------------
    Action(
        "run-code",
        "run_code",
        "ctrl+r",
        "Run",
        "Run the buffer or the selection in the target named above the output (asks first if "
        "the session expired or was deleted: the run would create a new, empty one)",
        touches_session=True,
        read_only=_READ_ONLY_RUNS,
        palette="Run code",
        priority=True,
    ),
    Action(
        "run-code-alt",
        "run_code",
        "f5",
        "Run",
        "Run the buffer or the selection (as ctrl+r)",
        touches_session=True,
        read_only=_READ_ONLY_RUNS,
        show=False,
        priority=True,
    ),
    Action(
        "cancel-run",
        "cancel_run",
        "f4",
        "Stop waiting",
        "Stop waiting for the run (the service has no cancel call: the run goes on)",
        read_only=_READ_ONLY_RUNS,
        palette="Stop waiting for the run",
        show=False,
        priority=True,
    ),
    Action(
        "toggle-async",
        "toggle_async",
        "f6",
        "Async mode",
        "Async mode: poll the execution instead of waiting for it",
        read_only=_READ_ONLY_RUNS,
        palette="Toggle async mode",
        show=False,
        priority=True,
    ),
    Action(
        "toggle-argv",
        "toggle_argv",
        "ctrl+t",
        "argv mode",
        "Shell pools: run the buffer as an argv, split like a shell but run without one "
        "(execCommandAndArgs), instead of a bash command line",
        read_only=_READ_ONLY_RUNS,
        palette="Toggle argv mode (Shell pools)",
        show=False,
        priority=True,
    ),
    Action(
        "run-history",
        "recall_history",
        "f3",
        "Run history",
        "Load a previous run of this session (the draft stays one ctrl+z away)",
        read_only=_READ_ONLY_RUNS,
        palette="Recall a previous run",
        show=False,
        priority=True,
    ),
    Action(
        "interrupt-kernel",
        "interrupt_kernel",
        "f12",
        "Interrupt",
        "Interrupt the kernel (embedded emulator only: POST /x-dstui/interruptKernel, not a "
        "service call; elsewhere the key says so)",
        touches_session=True,
        read_only=_READ_ONLY_RUNS,
        emulator_only=(
            "interrupt: only with the embedded emulator (dstui with no endpoint); "
            "the service has no interrupt call"
        ),
        palette="Interrupt the kernel",
        show=False,
        priority=True,
    ),
    Action(
        "fetch-stopped-run",
        "fetch_stopped_run",
        "f2",
        "Fetch stopped run",
        "Fetch the result of a run f4 stopped waiting for, once it has finished",
        touches_session=True,
        palette="Fetch a stopped run's result",
        show=False,
        priority=True,
    ),
    Action(
        "new-session",
        "new_session",
        "n",
        "New",
        "New session: a generated, editable identifier; its first request creates it",
        read_only="new sessions disabled",
        palette="New session",
    ),
    Action(
        "open-session",
        "open_session",
        "o",
        "Open",
        "Open any identifier (GET /session)",
        touches_session=True,
        palette="Open session by identifier",
    ),
    # Pools from ARM (issue 13): dstui/tui/screens/pool_actions.py.
    Action(
        "pool-picker",
        "pool_picker",
        "P",
        "Pools",
        "Pool picker: the session pools ARM lists; enter opens one (a new client and a fresh "
        "screen: nothing of the old pool is kept)",
        palette="Pool picker (ARM)",
        show=False,
    ),
    Action(
        "across-pools",
        "across_pools",
        "A",
        "All pools",
        "Sessions of every pool at once, with a pool column; idle cleanup selects and "
        "deletes the sessions idle longer than N minutes",
        palette="Sessions across pools, idle cleanup",
        show=False,
    ),
    # Pool types and the auth doctor (issue 13): dstui/tui/screens/container_actions.py.
    Action(
        "container-request",
        "container_request",
        "R",
        "Request",
        "Custom-container pools: send a request (method, path, body) to the selected "
        "session's own app; shows its status, headers and body",
        touches_session=True,
        palette="Request a path of the session's app (custom container)",
        show=False,
    ),
    Action(
        "doctor",
        "doctor",
        "H",
        "Doctor",
        "Auth doctor: endpoint, credential, token claims, access and the ARM role, each with "
        "its fix (r runs it again; never shows a token)",
        palette="Auth doctor",
        show=False,
    ),
    # Live debugging (issue 12): each opens its own view (dstui/tui/screens/debug_actions.py).
    Action(
        "traffic",
        "traffic",
        "t",
        "Traffic",
        "Traffic: the recording of the proxy, the embedded emulator or dstui's own requests, "
        "live; filter, detail, curl, enter loads an execution's code",
        palette="Traffic (recorded requests, live)",
        show=False,
    ),
    Action(
        "timeline",
        "timeline",
        "T",
        "Timeline",
        "Timeline of the selected session: what was run in it, in order, from the recordings "
        "and the run history (reads files only)",
        palette="Timeline of the selected session",
        show=False,
    ),
    Action(
        "variables",
        "variables",
        "v",
        "Variables",
        "Variables: the kernel's user globals (one probe statement; it appears in the "
        "kernel's history)",
        touches_session=True,
        read_only=_READ_ONLY_RUNS,
        palette="Variables in the session",
        show=False,
    ),
    Action(
        "maximize-pane",
        "toggle_maximize",
        "z",
        "Zoom",
        "Zoom the focused pane; z or esc restores it",
        palette="Zoom focused pane",
    ),
    Action(
        "messages",
        "messages",
        "e",
        "Messages",
        "Messages: every toast so far; errors with hint, status, request and operation id",
        palette="Messages",
    ),
    Action(
        "help",
        "help",
        "question_mark",
        "Help",
        "The keys of the focused pane and the global ones",
        palette="Keys",
    ),
    Action(
        "quit",
        "app.quit",
        "q",
        "Quit",
        "Quit (asks first while a run or a transfer is in flight)",
    ),
    Action(
        "focus-sessions",
        "focus_pane(1)",
        "1",
        "Sessions",
        "Focus the Sessions pane",
        palette="Focus sessions",
        show=False,
    ),
    Action(
        "focus-metadata",
        "focus_pane(2)",
        "2",
        "Metadata",
        "Focus the Metadata pane",
        palette="Focus metadata",
        show=False,
    ),
    Action(
        "focus-code",
        "focus_pane(3)",
        "3",
        "Code",
        "Focus the Code pane (the editor)",
        palette="Focus code",
        show=False,
    ),
    Action(
        "focus-files",
        "focus_pane(4)",
        "4",
        "Files",
        "Focus the Files pane",
        palette="Focus files",
        show=False,
    ),
    Action("focus-next", "next_pane(1)", "tab", "Next", "Focus the next widget", show=False),
    Action(
        "focus-previous",
        "next_pane(-1)",
        "shift+tab",
        "Previous",
        "Focus the previous widget",
        show=False,
    ),
    Action(
        "command-palette",
        "app.command_palette",
        "colon",
        "Commands",
        "The command palette (ctrl+p works everywhere)",
        show=False,
    ),
    # -- The debugging views' own keys (screens/traffic.py, timeline.py, variables.py) ------
    Action(
        "traffic-back",
        "back",
        "escape",
        "Back",
        "Back to the explorer (from the filter: back to the list)",
        where=(TRAFFIC,),
    ),
    Action(
        "traffic-filter",
        "focus_filter",
        "slash",
        "Filter",
        "Filter by identifier, operation and status: `id:ID op:execute status:4xx`, or bare words",
        where=(TRAFFIC,),
    ),
    Action(
        "traffic-copy-curl",
        "copy_curl",
        "c",
        "curl",
        'Copy the exchange as curl (the token as "$DSTUI_TOKEN", never its value)',
        where=(TRAFFIC,),
        show=False,  # the hint under the filter names it; the footer is full at 80
    ),
    Action(
        "traffic-go-to-session",
        "go_to_session",
        "g",
        "Go to",
        "Go to the exchange's session in the list",
        where=(TRAFFIC,),
    ),
    Action(
        "traffic-timeline",
        "timeline",
        "T",
        "Timeline",
        "Timeline of the exchange's session",
        where=(TRAFFIC,),
    ),
    Action(
        "traffic-export-har",
        "export_har",
        "h",
        "HAR",
        "Write the rows shown as a HAR 1.2 file in the download folder",
        where=(TRAFFIC,),
    ),
    Action(
        "traffic-switch-source",
        "switch_source",
        "s",
        "Source",
        "Switch the recording: the proxy's and the emulator's, or dstui's own requests",
        where=(TRAFFIC,),
    ),
    Action(
        "traffic-toggle-mask",
        "toggle_mask",
        "m",
        "Mask",
        "Show session identifiers whole, or masked again",
        where=(TRAFFIC,),
    ),
    _also_on_q("traffic-quit", TRAFFIC, "back", "Back"),
    Action(
        "timeline-back",
        "back",
        "escape",
        "Back",
        "Back to the explorer (or to Traffic, when opened there)",
        where=(TIMELINE,),
    ),
    Action(
        "timeline-go-to-session",
        "go_to_session",
        "g",
        "Go to session",
        "Go to the session in the list",
        where=(TIMELINE,),
    ),
    Action(
        "timeline-reload",
        "reload",
        "r",
        "Reload",
        "Read the recordings and the run history again (reads files only)",
        where=(TIMELINE,),
    ),
    _also_on_q("timeline-quit", TIMELINE, "back", "Back"),
    Action(
        "variables-close",
        "close",
        "escape",
        "Close",
        "Close the variables view",
        where=(VARIABLES,),
    ),
    Action(
        "variables-toggle-all",
        "toggle_all",
        "a",
        "All names",
        "Probe again with modules, functions and IPython's names shown (or hidden again)",
        where=(VARIABLES,),
        touches_session=True,
        read_only=_READ_ONLY_RUNS,
    ),
    Action(
        "variables-probe-again",
        "probe",
        "r",
        "Probe again",
        "Run the variables probe again",
        where=(VARIABLES,),
        touches_session=True,
        read_only=_READ_ONLY_RUNS,
    ),
    _also_on_q("variables-quit", VARIABLES, "close", "Close"),
    # -- The pool picker and the across-pools view (screens/pool_picker.py, across_pools.py) -
    Action(
        "picker-open", "open_pool", "enter", "Open", "Open the highlighted pool", where=(PICKER,)
    ),
    Action(
        "picker-refresh",
        "refresh",
        "r",
        "Refresh",
        "List the pools again (asks ARM only)",
        where=(PICKER,),
    ),
    Action(
        "picker-across",
        "across_pools",
        "A",
        "All pools",
        "The sessions of every listed pool in one table",
        where=(PICKER,),
    ),
    Action(
        "picker-back",
        "back",
        "escape",
        "Back",
        "Back to the pool open under the picker",
        where=(PICKER,),
    ),
    Action("picker-quit", "app.quit", "q", "Quit", "Quit dstui", where=(PICKER,)),
    Action(
        "across-filter",
        "filter",
        "slash",
        "Filter",
        "Filter the rows by pool or identifier",
        where=(ACROSS,),
    ),
    Action("across-mark", "toggle_mark", "space", "Mark", "Mark / unmark the row", where=(ACROSS,)),
    Action(
        "across-select-idle",
        "select_idle",
        "I",
        "Select idle",
        "Mark the sessions idle (or expiring) longer than you say",
        where=(ACROSS,),
    ),
    Action(
        "across-delete",
        "delete_selected",
        "ctrl+d",
        "Delete selected",
        "Delete the marked sessions in every pool (asks first; type their count)",
        where=(ACROSS,),
        read_only="session delete disabled",
    ),
    Action("across-unmark", "clear_marks", "u", "Unmark all", "Unmark every row", where=(ACROSS,)),
    Action(
        "across-reload",
        "reload",
        "r",
        "Reload",
        "List every pool's sessions again (names no session)",
        where=(ACROSS,),
    ),
    Action(
        "across-open-pool",
        "open_pool",
        "enter",
        "Open pool",
        "Open the row's pool, on the row's session",
        where=(ACROSS,),
    ),
    Action(
        "across-back",
        "back",
        "escape",
        "Back",
        "Clear the filter, or back to the pool picker",
        where=(ACROSS,),
    ),
)

_BY_NAME: dict[str, Action] = {}
for _action in ACTIONS:
    if any(target in MAIN_TARGETS for target in _action.where):
        _BY_NAME.setdefault(_action.name, _action)


def keys_meet(scope: str, other: str) -> bool:
    """Whether a key bound in `scope` and one bound in `other` can be pressed in one place:
    a view's keys meet only its own; the main screen's reach every pane."""
    if scope in VIEW_TARGETS or other in VIEW_TARGETS:
        return scope == other
    return GLOBAL in (scope, other) or scope == other


def bindings_for(target: str) -> list[BindingType]:
    """The Textual bindings of one target, in the registry's order."""
    return [action.binding(target) for action in ACTIONS if target in action.where]


def binding_scopes() -> dict[str, list[BindingType]]:
    """Every remappable binding by where it is reachable (GLOBAL: from any pane)."""
    return {target: bindings_for(target) for target in TARGETS}


def action_named(name: str) -> Action | None:
    """The main screen's registry entry for a method name (`run_code`), namespace and
    arguments ignored."""
    return _BY_NAME.get(name.split("(")[0].rpartition(".")[2])


def touches_session(name: str) -> bool:
    action = action_named(name)
    return action is not None and action.touches_session


def read_only_reason(name: str) -> str | None:
    """Why the action is off in `--read-only`; None when it changes nothing."""
    action = action_named(name)
    return action.read_only if action is not None else None


def emulator_only_reason(name: str) -> str | None:
    action = action_named(name)
    return action.emulator_only if action is not None else None


def palette_actions() -> list[Action]:
    return [action for action in ACTIONS if action.palette is not None]
