"""The Files pane's flows, owned by the main screen: browse /mnt/data, upload, download
(atomic), delete, preview, copy a path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.content import Content
from textual.worker import Worker

from dstui.api.constants import MAX_UPLOAD_BYTES
from dstui.api.display import safe_local_name
from dstui.api.errors import (
    DestinationExistsError,
    DynamicSessionsError,
    NotFoundError,
    TransportError,
)
from dstui.api.models import RemoteFile
from dstui.tui.formatting import display_path, format_size
from dstui.tui.screens.controller import ScreenController
from dstui.tui.screens.file_dialogs import (
    ClashModal,
    PreviewModal,
    SaveAsModal,
    UploadModal,
    kept_name,
)
from dstui.tui.screens.modals import ConfirmModal, TextModal, confirm_then
from dstui.tui.widgets.files_pane import PARENT_KEY
from dstui.tui.widgets.output_view import shown_code

if TYPE_CHECKING:
    from dstui.tui.screens.base import PoolScreen

PREVIEW_MAX_BYTES = 256 * 1024
TAIL_READ_MAX_BYTES = 16 * 1024 * 1024  # the end of a bigger file is not read into memory
NO_FILE_API = "CustomContainer pool: it has no file API (R requests a path of its app)"
READ_ONLY_NO_CREATE = "read-only: not listing files, as that would create this session"


class FilesController(ScreenController):
    """The Files pane's flows; its state (the upload to offer again) belongs to the instance."""

    def __init__(self, screen: PoolScreen) -> None:
        super().__init__(screen)
        self.failed_upload: Path | None = None  # offered again by the next upload dialog

    def list_files(self, identifier: str, path: str) -> None:
        """List a directory; in --read-only, never for a session the pool does not have yet,
        since that first request would create it."""
        if self.screen.pool_type.is_custom:  # a path of the session's own app, not files
            self.screen.files.show_failure(NO_FILE_API)
            return
        row = self.screen.sessions.session(identifier)
        if self.screen.settings.read_only and row is not None and row.local:
            self.screen.files.set_note(READ_ONLY_NO_CREATE)
            self.screen.app.notify(READ_ONLY_NO_CREATE, severity="warning")
            return
        self.screen.facts.confirm_revival(
            identifier, "listing its files", lambda: self._list_files(identifier, path)
        )

    def _list_files(self, identifier: str, path: str) -> Worker[None]:
        return self.start(
            self._list_files_now(identifier, path),
            group="files-list",
            exclusive=True,
            description="Listing files",
        )

    async def _list_files_now(self, identifier: str, path: str) -> None:
        try:
            files = await self.screen.pool.list_files(identifier, path=path)
        except DynamicSessionsError as exc:
            self.screen.report_error("Listing files failed", exc)
            if self.screen.selected == identifier:
                self.screen.files.show_failure(self.screen.failed_note("listing files"))
            return
        self.screen.confirm_created(identifier)
        self.screen.facts.touched(identifier)
        if self.screen.selected == identifier:
            self.screen.files.show_listing(identifier, path, files)

    def _files_target(self) -> tuple[str, str] | None:
        identifier = self.screen.selected_or_hint()
        if identifier is None:
            return None
        return (
            identifier,
            self.screen.files.path if self.screen.files.identifier == identifier else "",
        )

    def refresh_files(self) -> None:
        target = self._files_target()
        if target is not None:
            self.list_files(*target)

    def open_entry(self) -> None:
        name = self.screen.files.highlighted_name()
        target = self._files_target()
        if name is None or target is None:
            return
        if name == PARENT_KEY:
            self.parent_directory()
            return
        entry = self.screen.files.entries.get(name)
        if entry is not None and entry.is_dir:
            self.list_files(target[0], f"{target[1]}/{name}".strip("/"))
        elif entry is not None:
            self.preview_file()

    def parent_directory(self) -> None:
        target = self._files_target()
        if target is None or not target[1]:
            return
        self.list_files(target[0], target[1].rpartition("/")[0])

    def _selected_file(self) -> tuple[str, str, RemoteFile] | None:
        """The file under the cursor; otherwise a hint on why there is none."""
        if self.screen.selected_or_hint() is None:
            return None
        entry = self.screen.files.highlighted_entry()
        if self.screen.files.identifier is None:
            self.screen.app.notify(
                "List the session's files first (4, then r).", severity="warning"
            )
        elif entry is None and self.screen.files.highlighted_name() != PARENT_KEY:
            self.screen.app.notify("No file here: u uploads one.", severity="warning")
        elif entry is None or entry.is_dir:
            self.screen.app.notify("That is a directory: enter opens it.", severity="warning")
        else:
            return self.screen.files.identifier, self.screen.files.path, entry
        return None

    def copy_file_path(self) -> None:
        path = self.screen.files.highlighted_path()
        if path is None:
            self.screen.app.notify(
                "No file under the cursor to copy the path of (4 lists the session's files).",
                severity="warning",
            )
            return
        self.screen.app.copy_to_clipboard(path)
        self.screen.report_info(f"Copied {path}")

    def upload_file(self) -> None:
        target = self._files_target()
        if target is None:
            return
        identifier, path = target

        def chosen(local: Path | None) -> None:
            if local is not None:
                self.screen.facts.confirm_revival(
                    identifier, "an upload", lambda: self.upload(identifier, path, local)
                )

        remote = f"/mnt/data/{path}" if path else "/mnt/data"
        modal = UploadModal(
            self.screen.settings.upload_start_dir,
            MAX_UPLOAD_BYTES,
            remote,
            initial=self.failed_upload,
        )
        self.screen.app.push_screen(modal, chosen)

    def _progress(self, verb: str, name: str) -> Callable[[int, int | None], None]:
        def update(done: int, total: int | None) -> None:
            size = format_size(total) if total is not None else "?"
            self.screen.files.show_progress(
                f"{verb} {name}: {format_size(done)} of {size}", done, total
            )

        return update

    def upload(self, identifier: str, path: str, local: Path) -> Worker[None]:
        return self.start(
            self._upload(identifier, path, local), group="transfer", description="Uploading"
        )

    async def _upload(self, identifier: str, path: str, local: Path) -> None:
        try:
            uploaded = await self.screen.pool.upload_file(
                identifier, local, path=path, progress=self._progress("Uploading", local.name)
            )
        except (DynamicSessionsError, OSError) as exc:
            self.screen.files.hide_progress()
            self.failed_upload = local  # offered again by the next upload dialog
            self.screen.report_error(f"Uploading {local.name} failed", exc)
            if isinstance(exc, TransportError) and self.screen.selected == identifier:
                # The answer was lost, not necessarily the file: show what the session holds.
                self.list_files(identifier, path)
            return
        self.screen.files.hide_progress()
        self.failed_upload = None
        self.screen.facts.touched(identifier)
        self.screen.report_info(f"Uploaded {uploaded.name} ({format_size(uploaded.size)})")
        if self.screen.selected == identifier:
            self.list_files(identifier, path)
        self.screen.files.set_note(f"Uploaded {uploaded.name} ({format_size(uploaded.size)})")

    def download_file(self) -> None:
        chosen = self._selected_file()
        if chosen is not None:
            self._download_to(
                *chosen, self.screen.settings.download_dir / safe_local_name(chosen[2].name)
            )

    def download_file_as(self) -> None:
        chosen = self._selected_file()
        if chosen is None:
            return

        def picked(dest: Path | None) -> None:
            if dest is not None:
                self._download_to(*chosen, dest)

        suggested = safe_local_name(chosen[2].name)
        self.screen.app.push_screen(
            SaveAsModal(suggested, self.screen.settings.download_dir), picked
        )

    def _download_to(self, identifier: str, path: str, entry: RemoteFile, dest: Path) -> None:
        """Download to dest; an existing file is never replaced without asking."""
        if not dest.exists():
            self.download(identifier, path, entry.name, dest, False)
            return
        try:
            other = kept_name(dest)
        except FileExistsError as exc:
            self.screen.report_error(f"Downloading {entry.name} failed", exc)
            return

        def decided(choice: str | None) -> None:
            if choice == "overwrite":
                self.download(identifier, path, entry.name, dest, True)
            elif choice == "keep-both":
                self.download(identifier, path, entry.name, other, False)
            elif choice == "save-as":
                self.download_file_as()

        self.screen.app.push_screen(ClashModal(dest, entry.name, other.name), decided)

    def download(
        self, identifier: str, path: str, name: str, dest: Path, overwrite: bool
    ) -> Worker[None]:
        work = self._download(identifier, path, name, dest, overwrite)
        return self.start(work, group="transfer", description="Downloading")

    async def _download(
        self, identifier: str, path: str, name: str, dest: Path, overwrite: bool
    ) -> None:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            saved = await self.screen.pool.download_file(
                identifier,
                name,
                dest,
                path=path,
                overwrite=overwrite,
                progress=self._progress("Downloading", name),
            )
        except DestinationExistsError as exc:  # appeared meanwhile: offer the choice next time
            self.screen.files.hide_progress()
            exc.hint = "Download it again to choose Overwrite, Keep both or Save as."
            self.screen.report_error(f"Downloading {name} failed", exc)
            return
        except (DynamicSessionsError, OSError) as exc:
            self.screen.files.hide_progress()
            self.screen.report_error(f"Downloading {name} failed", exc)
            return
        self.screen.files.hide_progress()
        self.screen.facts.touched(identifier)
        self.screen.files.set_note(f"Saved {name} to {display_path(saved.parent)}")
        self.screen.report_info(f"Saved {name} to {saved}")

    def delete_file(self) -> None:
        chosen = self._selected_file()
        if chosen is None:
            return
        identifier, path, entry = chosen
        modal = ConfirmModal(
            "Delete file", f"Delete {entry.name} from {self.screen.files.remote_dir()}?"
        )
        confirm_then(
            self.screen.app, modal, lambda: self._launch_delete(identifier, path, entry.name)
        )

    def _launch_delete(self, identifier: str, path: str, name: str) -> Worker[None]:
        work = self._delete_file(identifier, path, name)
        return self.start(work, group="files-op", description="Deleting file")

    async def _delete_file(self, identifier: str, path: str, name: str) -> None:
        try:
            await self.screen.pool.delete_file(identifier, name, path=path)
        except NotFoundError:
            # Already gone (e.g. an earlier attempt succeeded but its answer was lost).
            self.screen.report_info(f"{name} was already gone")
        except DynamicSessionsError as exc:
            self.screen.report_error(f"Deleting {name} failed", exc)
            return
        else:
            self.screen.report_info(f"Deleted {name}")
        self.screen.facts.touched(identifier)
        if self.screen.selected == identifier:
            self.list_files(identifier, path)

    def preview_file(self) -> None:
        chosen = self._selected_file()
        if chosen is not None:
            self.preview(*chosen)

    def preview(self, identifier: str, path: str, entry: RemoteFile) -> Worker[None]:
        return self.start(
            self._preview(identifier, path, entry), group="files-op", description="Reading file"
        )

    async def _preview(self, identifier: str, path: str, entry: RemoteFile) -> None:
        try:
            data = await self.screen.pool.read_file(
                identifier, entry.name, path=path, max_bytes=PREVIEW_MAX_BYTES
            )
        except DynamicSessionsError as exc:
            self.screen.report_error(f"Reading {entry.name} failed", exc)
            return
        body = preview_content(entry, data)
        if not looks_like_text(data):
            self.screen.app.push_screen(TextModal(entry.name, body, dialog_id="preview-dialog"))
            return

        async def read_end() -> tuple[Content, bool]:
            return await self._read_end(identifier, path, entry.name)

        self.screen.app.push_screen(PreviewModal(entry.name, body, read_end))

    async def _read_end(self, identifier: str, path: str, name: str) -> tuple[Content, bool]:
        """The last PREVIEW_MAX_BYTES of a text file (the service has no range reads, so
        the file is read whole, up to TAIL_READ_MAX_BYTES)."""
        try:
            data = await self.screen.pool.read_file(
                identifier, name, path=path, max_bytes=TAIL_READ_MAX_BYTES + 1
            )
        except DynamicSessionsError as exc:
            self.screen.report_error(f"Reading {name} failed", exc)
            return Content.styled(self.screen.failed_note(f"reading {name}"), "$text-error"), False
        self.screen.facts.touched(identifier)
        if len(data) > TAIL_READ_MAX_BYTES:
            note = (
                f"{name} is over {format_size(TAIL_READ_MAX_BYTES)}: too large to read its end "
                "here. d downloads it."
            )
            return Content.styled(note, "$warning"), False
        end = data[-PREVIEW_MAX_BYTES:]
        text = end.decode("utf-8", "replace")
        if len(end) < len(data) and "\n" in text:
            text = text.partition("\n")[2]  # start at a whole line, when there is one
        stamp = self.screen.stamp()
        marker = f"✂ the last {format_size(len(end))} of {format_size(len(data))}, read {stamp}"
        body = Content("\n").join([Content.styled(marker, "$warning"), shown_code(text, path=name)])
        return body, True


def looks_like_text(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data) - 3  # only a character cut at the preview's end
    return True


def preview_content(entry: RemoteFile, data: bytes) -> Content:
    """Text with syntax highlighting by file name; anything binary shows size and type only."""
    is_text = looks_like_text(data)
    text = data.decode("utf-8", "replace") if is_text else ""
    if not is_text:
        return Content.styled(
            f"Binary file: {format_size(entry.size)}, {entry.content_type or 'unknown type'}.\n"
            "Press d to download it.",
            "$text-muted",
        )
    body = shown_code(text, path=entry.name)
    if entry.size is not None and entry.size > len(data):
        body = Content("\n").join(
            [
                body,
                Content.styled(f"✂ preview shows the first {format_size(len(data))}", "$warning"),
            ]
        )
    return body
