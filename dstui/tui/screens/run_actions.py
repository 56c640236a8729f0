"""The Code pane's actions: run the buffer in the selected session, show and keep the result."""

from __future__ import annotations

import asyncio
import pprint
import time
from datetime import UTC
from functools import cached_property

from textual import work

from dstui.api.constants import DEFAULT_OUTPUT_MAX_LENGTH
from dstui.api.errors import DynamicSessionsError
from dstui.api.models import Execution
from dstui.tui.errors import describe_error
from dstui.tui.history import RunHistory, RunRecord
from dstui.tui.screens.base import PoolScreen
from dstui.tui.screens.modals import HistoryModal
from dstui.tui.widgets.output_view import render_run, render_running

RUN_FAILED = "Run failed"
IMAGE_MAX_COLUMNS = 64
IMAGE_MAX_ROWS = 12


class RunActions(PoolScreen):
    _run_started = 0.0
    _polls = 0

    @cached_property
    def history(self) -> RunHistory:
        return RunHistory(self.settings.data_dir / "history")

    def action_run_code(self) -> None:
        identifier = self.selected_or_hint()
        if identifier is None:
            return
        timeout = self.code.timeout_seconds()
        if timeout is None:
            self.app.notify(
                "The timeout must be a whole number of seconds, 1–220.", severity="error"
            )
            return
        code = self.code.code_to_run()
        if not code.strip():
            self.app.notify("Nothing to run: the editor is empty.", severity="warning")
            return
        if self._group_running("execute"):
            self.app.notify("A run is in progress (f4 cancels it).", severity="warning")
            return
        self.run_code(identifier, code, timeout, self.code.asynchronous)

    @work(group="execute", exit_on_error=False, description="Running code")
    async def run_code(self, identifier: str, code: str, timeout: int, asynchronous: bool) -> None:
        self._run_started = time.perf_counter()
        self._polls = 0
        ticker = None
        if not self.settings.test_mode:
            # Quick runs paint their result directly; slower ones show a running line.
            ticker = self.set_interval(
                0.2, lambda: self._show_running(identifier, asynchronous), name="run-ticker"
            )

        def polled(_: Execution) -> None:
            self._polls += 1
            self._show_running(identifier, asynchronous)

        at = self.settings.clock().astimezone(UTC).isoformat(timespec="seconds")

        def failed(status: str, error: str) -> RunRecord:
            elapsed = self._elapsed_ms()
            return RunRecord(
                at=at,
                code=code,
                status=status,
                elapsed_ms=elapsed,
                asynchronous=asynchronous,
                error=error,
            )

        try:
            execution = await self.pool.execute(
                identifier,
                code,
                timeout=timeout,
                output_max_length=DEFAULT_OUTPUT_MAX_LENGTH,
                asynchronous=asynchronous,
                on_poll=polled,
            )
        except asyncio.CancelledError:
            note = "Canceled here; the pool may still finish the run in the session."
            self._finish_run(identifier, failed("Canceled", note))
            raise
        except DynamicSessionsError as exc:
            self._finish_run(identifier, failed("Error", describe_error(exc)))
            self.report_error(RUN_FAILED, exc)
            return
        finally:
            if ticker is not None:
                ticker.stop()
        record = self._record(at, code, execution, asynchronous)
        self._finish_run(identifier, record)
        self.clear_error(RUN_FAILED)
        self.confirm_created(identifier)

    def _elapsed_ms(self) -> float | None:
        if self.settings.test_mode:
            return None  # wall time would make snapshots differ run to run
        return (time.perf_counter() - self._run_started) * 1000

    def _show_running(self, identifier: str, asynchronous: bool) -> None:
        elapsed = (
            0.0 if self.settings.test_mode else (time.perf_counter() - self._run_started) * 1000
        )
        self.code.show_output(render_running(identifier, elapsed, self._polls, asynchronous))

    def _record(self, at: str, code: str, execution: Execution, asynchronous: bool) -> RunRecord:
        image_path: str | None = None
        if execution.image is not None:
            image_path = self._save_image(execution)
        result = execution.result
        if result is None or result == "":
            result_text = ""
        elif isinstance(result, str):
            result_text = result
        else:
            result_text = pprint.pformat(result, width=60)
        return RunRecord(
            at=at,
            code=code,
            status=execution.status.value,
            duration_ms=execution.duration_ms,
            elapsed_ms=self._elapsed_ms(),
            stdout=execution.stdout,
            stderr=execution.stderr,
            result_text=result_text,
            stdout_truncated=execution.stdout_truncated,
            stderr_truncated=execution.stderr_truncated,
            image_path=image_path,
            asynchronous=asynchronous,
            timings=dict(execution.timings),
        )

    def _save_image(self, execution: Execution) -> str | None:
        assert execution.image is not None
        fmt = "".join(ch for ch in execution.image.format.lower() if ch.isalnum())[:8] or "png"
        name = "".join(ch for ch in execution.id if ch.isalnum() or ch in "-_")[:64] or "image"
        target = self.settings.data_dir / "images" / f"{name}.{fmt}"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(execution.image.data())
        except (OSError, DynamicSessionsError) as exc:
            self.report_error("Saving the image failed", exc)
            return None
        return str(target)

    def _image_box(self) -> tuple[int, int]:
        """Columns × rows for an inline image: the output area's width, at most 64 × 12."""
        return (max(min(self.code.size.width - 4, IMAGE_MAX_COLUMNS), 8), IMAGE_MAX_ROWS)

    def _finish_run(self, identifier: str, record: RunRecord) -> None:
        self.code.show_output(render_run(record, DEFAULT_OUTPUT_MAX_LENGTH, self._image_box()))
        # Paint the output first; the history file is written right after.
        self.call_after_refresh(self._save_run, identifier, record)

    def _save_run(self, identifier: str, record: RunRecord) -> None:
        try:
            self.history.append(identifier, record)
        except OSError as exc:
            self.report_error("Saving the run history failed", exc)

    def action_cancel_run(self) -> None:
        if self._group_running("execute"):
            self.workers.cancel_group(self, "execute")

    def action_toggle_async(self) -> None:
        self.code.toggle_async()

    def action_recall_history(self) -> None:
        identifier = self.selected_or_hint()
        if identifier is None:
            return
        runs = self.history.runs(identifier)
        if not runs:
            self.app.notify("No runs recorded for this session yet.", markup=False)
            return

        def chosen(index: int | None) -> None:
            if index is None or not 0 <= index < len(runs):
                return
            record = runs[index]
            self.code.editor.text = record.code
            self.code.show_output(render_run(record, DEFAULT_OUTPUT_MAX_LENGTH, self._image_box()))

        self.app.push_screen(HistoryModal(identifier, runs), chosen)
