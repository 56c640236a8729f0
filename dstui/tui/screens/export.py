"""Export a session: all of /mnt/data as one .tar.gz or .zip, with progress; atomic (nothing is
left at the destination if it fails or is cancelled). Each listing and download touches the
session (↻)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static

from dstui.api.display import escape_controls
from dstui.api.errors import DynamicSessionsError
from dstui.api.protocol import SessionPoolAPI
from dstui.api.session_export import (
    ExportProgress,
    ExportResult,
    default_archive_name,
    export_session,
    resolve_archive_path,
)
from dstui.common.units import format_bytes
from dstui.tui.errors import describe_error


def progress_text(step: ExportProgress) -> str:
    total = f" of {format_bytes(step.bytes_total)}" if step.bytes_total is not None else ""
    current = f" · {escape_controls(step.current)}" if step.current else ""
    return (
        f"{step.files_done}/{step.files_total} files · {format_bytes(step.bytes_done)}{total}"
        f"{current}"
    )


def result_text(result: ExportResult) -> str:
    skipped = len(result.skipped)
    extra = f"; {skipped} names skipped (unsafe in an archive)" if skipped else ""
    return (
        f"Exported {result.files} files and {result.directories} directories "
        f"({format_bytes(result.bytes)}) to {result.path}{extra}"
    )


class ExportModal(ModalScreen[ExportResult | None]):
    """Asks where (a .tar.gz/.tgz/.zip file or a directory), then exports with progress."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="export-cancel"),
    ]
    DEFAULT_CSS = """
    ExportModal { align: center middle; }
    #export-dialog {
        width: 80%; max-width: 100; height: auto; border: round $primary;
        background: $surface; padding: 0 1;
    }
    #export-help, #export-status { height: auto; margin-top: 1; }
    #export-status.-error { color: $text-error; }
    #export-progress { margin-top: 1; }
    """

    def __init__(self, pool: SessionPoolAPI, identifier: str, folder: Path) -> None:
        super().__init__(id="export")
        self.pool = pool
        self.identifier = identifier
        self.folder = folder
        self.overwrite_asked: Path | None = None  # the path the user was warned about
        self.result: ExportResult | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog") as dialog:
            dialog.border_title = Content(f"Export {escape_controls(self.identifier)} ↻")
            dialog.border_subtitle = "enter exports · esc cancels"
            yield Static(
                "All of /mnt/data, recursively, into one archive (.tar.gz, .tgz or .zip; a "
                "directory gets ID.tar.gz). Written beside it, then moved into place.",
                id="export-help",
            )
            yield Input(
                value=str(self.folder / default_archive_name(self.identifier)), id="export-path"
            )
            yield ProgressBar(id="export-progress", show_eta=False)
            yield Static("", id="export-status", markup=False)

    def on_mount(self) -> None:
        self.query_one("#export-progress", ProgressBar).display = False
        self.query_one("#export-path", Input).focus()

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#export-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._export_running():
            return
        text = event.value.strip()
        output = Path(text) if text else None
        try:
            target = resolve_archive_path(output, self.identifier, overwrite=True)
        except DynamicSessionsError as exc:
            self._status(describe_error(exc), error=True)
            return
        overwrite = target.exists()
        if overwrite and self.overwrite_asked != target:
            self.overwrite_asked = target
            self._status(f"{target} exists: press enter again to replace it.", error=True)
            return
        self.query_one("#export-path", Input).disabled = True
        self.export(target, overwrite)

    def _export_running(self) -> bool:
        return any(w.group == "export" and w.is_running for w in self.workers)

    @work(group="export", exclusive=True, exit_on_error=False, description="Exporting session")
    async def export(self, target: Path, overwrite: bool) -> None:
        bar = self.query_one("#export-progress", ProgressBar)
        bar.display = True
        self._status(f"Listing {escape_controls(self.identifier)}'s files…")

        def progressed(step: ExportProgress) -> None:
            if step.bytes_total:
                bar.update(total=step.bytes_total, progress=step.bytes_done)
            else:
                bar.update(total=max(step.files_total, 1), progress=step.files_done)
            self._status(progress_text(step))

        try:
            result = await export_session(
                self.pool, self.identifier, target, overwrite=overwrite, progress=progressed
            )
        except DynamicSessionsError as exc:
            self.query_one("#export-path", Input).disabled = False
            self._status(f"Export failed, nothing written: {describe_error(exc)}", error=True)
            return
        self.result = result
        self.dismiss(result)

    def action_cancel(self) -> None:
        if self._export_running():
            self.workers.cancel_group(self, "export")
            self.app.notify("Export cancelled: nothing was written.", markup=False)
        self.dismiss(None)
