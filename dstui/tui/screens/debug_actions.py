"""The main screen's live-debugging views: Traffic (t), a session's Timeline (T), Variables
(v ↻) and Export (X ↻). Each opens its own screen; what the user picks there (code to load, a
session to go to) comes back as a TrafficOutcome and is applied here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dstui.recording.run_history import RunRecord
from dstui.tui.recording_sources import RecordingSource, TrafficOutcome, sources_under
from dstui.tui.screens.controller import ScreenController

# The views are imported when first opened: the first page of sessions needs none of them.
if TYPE_CHECKING:
    from dstui.api.session_export import ExportResult
    from dstui.api.variables_probe import VariablesReport

TRAFFIC_POLL_S = 0.5
TIMELINE_POLL_S = 2.0


class DebugViews(ScreenController):
    """Opens the debugging views for the screen's pool and applies what they hand back."""

    def recording_sources(self) -> list[RecordingSource]:
        return sources_under(self.screen.settings.data_dir)

    def session_listed(self, identifier: str) -> bool:
        """The loaded list has the session (one only named by the user does not count)."""
        row = self.screen.sessions.session(identifier)
        return row is not None and not row.local

    def _runs_of(self, identifier: str) -> Sequence[RunRecord]:
        return self.screen.history.runs(identifier)

    def _poll_s(self, live: float) -> float:
        return 0.0 if self.screen.settings.test_mode else live

    def open_traffic(self) -> None:
        from dstui.tui.screens.traffic import TrafficScreen

        settings = self.screen.settings
        self.screen.app.push_screen(
            TrafficScreen(
                self.recording_sources(),
                poll_s=self._poll_s(TRAFFIC_POLL_S),
                session_listed=self.session_listed,
                runs=self._runs_of,
                har_dir=settings.download_dir,
                clock=settings.clock,
                pool_origin=self.screen.pool.endpoint,
            ),
            self.apply_outcome,
        )

    def open_timeline(self) -> None:
        from dstui.tui.screens.timeline import TimelineScreen

        identifier = self.screen.selected_or_hint()
        if identifier is None:
            return
        self.screen.app.push_screen(
            TimelineScreen(
                identifier,
                self.recording_sources(),
                in_pool=self.session_listed(identifier),
                runs=self._runs_of,
                poll_s=self._poll_s(TIMELINE_POLL_S),
            ),
            self.apply_outcome,
        )

    def apply_outcome(self, outcome: TrafficOutcome | None) -> None:
        """Go to the session in the list; with code, load it into that session's editor (the
        draft stays one ctrl+z away)."""
        if outcome is None:
            return
        screen = self.screen
        if outcome.recorded_at is not None and outcome.code is not None:
            self._load_foreign_code(outcome.code, outcome.exchange_id, outcome.recorded_at)
            return
        identifier = outcome.identifier
        listed = identifier is not None and screen.sessions.move_to(identifier)
        if identifier is not None and outcome.code is None and not listed:
            screen.app.notify(f"{identifier} is not in the loaded session list.", markup=False)
            return
        where = ""
        if identifier is not None and not listed:
            # Code goes with the session it ran in, never the one highlighted before: that
            # session becomes a local row, as `o` opens one, without a request.
            screen.sessions.add_local(identifier)
            where = f" of {identifier}, which the loaded list does not have; ctrl+r runs it there"
        if identifier is not None:
            screen.select(identifier)
        if outcome.code is None:
            screen.set_focus(screen.sessions.table)
            return
        screen.code.load_code(outcome.code)
        screen.set_focus(screen.code.editor)
        source = f"#{outcome.exchange_id}" if outcome.exchange_id else "the timeline"
        screen.report_info(f"Loaded the code of {source} into the editor{where}; ctrl+z undoes.")

    def _load_foreign_code(self, code: str, exchange_id: int | None, origin: str) -> None:
        """Code recorded at another endpoint: its session is not this pool's, so no row is
        added for it; the code goes into the current session's editor and runs there."""
        screen = self.screen
        screen.code.load_code(code)
        screen.set_focus(screen.code.editor)
        here = screen.selected
        target = (
            f"the editor of {here}; ctrl+r runs it here"
            if here
            else "the editor; pick a session of this pool to run it"
        )
        screen.report_info(
            f"#{exchange_id} was recorded at {origin}, not this pool: loaded into {target}; "
            "ctrl+z undoes."
        )

    def open_variables(self) -> None:
        from dstui.api.variables_probe import probe_variables
        from dstui.tui.screens.variables import VariablesModal

        screen = self.screen
        identifier = screen.selected_or_hint()
        if identifier is None:
            return

        async def probe(show_all: bool) -> VariablesReport:
            report = await probe_variables(screen.pool, identifier, show_all=show_all)
            screen.confirm_created(identifier)
            screen.facts.touched(identifier)
            return report

        screen.facts.confirm_revival(
            identifier,
            "the variables probe",
            lambda: screen.app.push_screen(VariablesModal(identifier, probe)),
        )

    def export_session(self) -> None:
        from dstui.tui.screens.export import ExportModal, result_text

        screen = self.screen
        identifier = screen.selected_or_hint()
        if identifier is None:
            return
        folder = screen.settings.download_dir
        # As a download would; if it cannot be made, the dialog names the missing directory.
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)

        def exported(result: ExportResult | None) -> None:
            if result is not None:
                screen.facts.touched(identifier)
                screen.report_info(result_text(result))

        screen.facts.confirm_revival(
            identifier,
            "an export",
            lambda: screen.app.push_screen(ExportModal(screen.pool, identifier, folder), exported),
        )
