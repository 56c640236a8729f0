"""Control characters in code, a result or a file preview are escaped before highlighting."""

from __future__ import annotations

import pytest
from textual.content import Content

from dstui.api.models import RemoteFile
from dstui.recording.run_history import RunRecord
from dstui.recording.timeline import TimelineEntry
from dstui.tui.screens.files_controller import preview_content
from dstui.tui.timeline_render import render_entry
from dstui.tui.traffic_render import render_detail
from dstui.tui.widgets.output_view import render_run
from tests.tui.traffic_fixtures import CHAT, _execute

CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
CLEAR = "\x1b[2J"
HOSTILE = f"x = 1{CLIPBOARD}\n{CLEAR}print(x)\n"


def _assert_escaped(shown: Content) -> None:
    plain = shown.plain
    assert "\x1b" not in plain and "\x07" not in plain
    assert "\\x1b]52;c;" in plain and "\\x1b[2J" in plain


def test_a_run_result_is_escaped() -> None:
    record = RunRecord(at="2026-01-15T09:58:03Z", code="1", status="Succeeded", result_text=HOSTILE)
    _assert_escaped(render_run(record, output_cap=1024))


@pytest.mark.parametrize("field", ["code", "result"])
def test_a_recorded_code_or_result_is_escaped(field: str) -> None:
    extra = {"result": HOSTILE} if field == "result" else {}
    exchange = _execute(1.0, CHAT, HOSTILE if field == "code" else "1", status=200, **extra)
    _assert_escaped(render_detail(exchange, masked=False))


def test_a_timeline_code_is_escaped() -> None:
    entry = TimelineEntry(
        at=1.0,
        sources=("proxy",),
        kind="execution",
        operation="execute",
        status="200",
        ok=True,
        code=HOSTILE,
    )
    _assert_escaped(render_entry(entry))


def test_a_file_preview_is_escaped() -> None:
    data = HOSTILE.encode()
    entry = RemoteFile(
        name="evil.py",
        is_dir=False,
        size=len(data),
        last_modified=None,
        content_type="text/x-python",
    )
    _assert_escaped(preview_content(entry, data))
