"""Formatters (injected clock), run history, previews and the demo pool's contract."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dstui.api.errors import DestinationExistsError, PayloadTooLargeError, SessionNotFoundError
from dstui.api.fake_pool import DEMO_NOW, FakePool
from dstui.api.models import ExecutionStatus, RemoteFile
from dstui.api.protocol import SessionPoolAPI
from dstui.recording.run_history import MAX_RUNS_PER_SESSION, RunHistory, RunRecord
from dstui.tui.formatting import (
    counted,
    display_path,
    format_age,
    format_countdown,
    format_duration,
    format_expiry,
    format_idle,
    format_size,
    pool_label,
)
from dstui.tui.screens.files_controller import preview_content
from dstui.tui.widgets.chrome import TopBar


def test_countdown_and_age_use_the_given_now() -> None:
    assert format_countdown(DEMO_NOW + timedelta(seconds=295), DEMO_NOW) == "4m55s"
    assert format_countdown(DEMO_NOW - timedelta(seconds=1), DEMO_NOW) == "expired"
    assert format_countdown(None, DEMO_NOW) == "—"
    assert format_age(DEMO_NOW - timedelta(hours=2, minutes=3), DEMO_NOW) == "2h03m ago"
    assert format_duration(3 * 86400 + 4 * 3600) == "3d04h"
    # The idle column fits six cells: a session touched this instant is "0s", not "just now".
    assert format_idle(DEMO_NOW - timedelta(milliseconds=300), DEMO_NOW) == "0s"
    assert format_idle(DEMO_NOW - timedelta(seconds=102), DEMO_NOW) == "1m42s"
    assert format_idle(None, DEMO_NOW) == "—"
    # The metadata pane's sentence form: never "in expired".
    assert format_expiry(DEMO_NOW + timedelta(seconds=295), DEMO_NOW) == "in 4m55s"
    assert format_expiry(DEMO_NOW - timedelta(seconds=80), DEMO_NOW) == "expired 1m20s ago"
    assert format_expiry(None, DEMO_NOW) == "—"


def test_counted_nouns_agree_with_their_number() -> None:
    assert [counted(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    assert counted(1, "directory", "directories") == "1 directory"
    assert counted(3, "directory", "directories") == "3 directories"


def test_display_path_shortens_the_home_directory() -> None:
    home = Path.home()
    assert display_path(home / "Downloads" / "dstui") == "~/Downloads/dstui"
    assert display_path(home) == "~"
    assert display_path(Path("/srv/data")) == "/srv/data"


def test_sizes() -> None:
    assert format_size(None) == "—"
    assert format_size(512) == "512 B"
    assert format_size(4096) == "4.0 KiB"
    assert format_size(128 * 1024 * 1024) == "128.0 MiB"


ARM_ENDPOINT = (
    "https://westus2.dynamicsessions.io/subscriptions/00000000-0000-0000-0000-000000000000"
    "/resourceGroups/rg-agents/sessionPools/code-pool"
)


def test_pool_label_names_pool_group_and_region() -> None:
    assert pool_label(ARM_ENDPOINT) == "code-pool · rg-agents · westus2"
    assert pool_label(ARM_ENDPOINT.replace("sessionPools", "sessionpools")) == (
        "code-pool · rg-agents · westus2"
    )
    assert pool_label("https://eastus.dynamicsessions.io/subscriptions/s/sessionPools/p") == (
        "p · eastus"
    )
    assert pool_label("http://127.0.0.1:8123/") == "127.0.0.1:8123"
    assert pool_label("https://pools.example/x/y") == "pools.example/x/y"


async def test_header_drops_version_then_identity_then_shortens_the_pool_name() -> None:
    from textual.app import App, ComposeResult

    class Header(App[None]):
        def compose(self) -> ComposeResult:
            yield TopBar(
                pool_label(ARM_ENDPOINT), "2025-10-02-preview", "ops@contoso.com", emulator=False
            )

    app = Header()
    shown: dict[int, str] = {}
    async with app.run_test(size=(150, 3)) as pilot:
        bar = app.query_one(TopBar)
        bar.loaded = "300 sessions loaded · more available"
        for width in (150, 120, 90, 60):
            await pilot.resize_terminal(width, 3)
            await pilot.pause()
            shown[width] = bar.render().plain
            assert len(shown[width]) <= width - 2  # inside the bar's one-cell padding
            assert shown[width].endswith(" │ 300 sessions loaded · more available")
    assert shown[150] == (
        "dstui │ code-pool · rg-agents · westus2 │ api 2025-10-02-preview │ ops@contoso.com"
        " │ 300 sessions loaded · more available"
    )
    # Too narrow for everything: the api-version goes first, then the identity, and only then
    # is the pool's name (which says prod or dev) shortened.
    assert shown[120] == (
        "dstui │ code-pool · rg-agents · westus2 │ ops@contoso.com"
        " │ 300 sessions loaded · more available"
    )
    assert (
        shown[90]
        == "dstui │ code-pool · rg-agents · westus2 │ 300 sessions loaded · more available"
    )
    assert shown[60] == "dstui │ code-pool … │ 300 sessions loaded · more available"


def test_history_is_per_session_capped_and_hides_identifiers(tmp_path: Path) -> None:
    history = RunHistory(tmp_path)
    for index in range(MAX_RUNS_PER_SESSION + 5):
        history.append(
            "secret-session", RunRecord(at=f"{index}", code=f"print({index})", status="Succeeded")
        )
    history.append("other", RunRecord(at="x", code="1", status="Failed"))
    runs = history.runs("secret-session")
    assert len(runs) == MAX_RUNS_PER_SESSION
    assert runs[-1].code == f"print({MAX_RUNS_PER_SESSION + 4})"
    assert [r.status for r in history.runs("other")] == ["Failed"]
    assert not any("secret" in p.name for p in tmp_path.iterdir())
    assert not list(tmp_path.glob("*.tmp"))


def test_unreadable_history_counts_as_empty(tmp_path: Path) -> None:
    history = RunHistory(tmp_path)
    history.append("s1", RunRecord(at="a", code="1", status="Succeeded"))
    next(tmp_path.glob("*.json")).write_text("{not json")
    assert history.runs("s1") == []


def _file(name: str, size: int, content_type: str) -> RemoteFile:
    return RemoteFile(name, False, size, DEMO_NOW, content_type)


def test_preview_highlights_text_and_describes_binary() -> None:
    text = preview_content(_file("a.py", 12, "text/x-python"), b"print('hi')\n")
    assert "print('hi')" in text.plain and text.spans
    binary = preview_content(_file("m.bin", 4096, "application/octet-stream"), bytes(range(256)))
    assert "Binary file: 4.0 KiB, application/octet-stream" in binary.plain
    cut = preview_content(_file("big.txt", 10_000, "text/plain"), b"abc")
    assert "first 3 B" in cut.plain


def test_demo_pool_implements_the_protocol() -> None:
    assert isinstance(FakePool(), SessionPoolAPI)


async def test_demo_pool_pages_and_touches_like_the_service(tmp_path: Path) -> None:
    pool = FakePool(session_count=650)
    pages = [page async for page in pool.iter_session_pages()]
    assert [len(p.sessions) for p in pages] == [300, 300, 50]
    assert pages[-1].next_link is None
    with pytest.raises(SessionNotFoundError):
        await pool.get_session("brand-new")
    execution = await pool.execute("brand-new", "print(1)")
    assert execution.status is ExecutionStatus.SUCCEEDED and execution.stdout == "1\n"
    created = await pool.get_session("brand-new")
    assert created.expires_at == DEMO_NOW + timedelta(seconds=300)


async def test_demo_pool_files_round_trip(tmp_path: Path) -> None:
    pool = FakePool()
    local = tmp_path / "up.txt"
    local.write_text("payload")
    await pool.upload_file("s-0001", local, path="outputs")
    names = [f.name for f in await pool.list_files("s-0001", path="/mnt/data/outputs")]
    assert "up.txt" in names
    dest = tmp_path / "down.txt"
    await pool.download_file("s-0001", "up.txt", dest, path="outputs")
    assert dest.read_text() == "payload"
    with pytest.raises(DestinationExistsError):
        await pool.download_file("s-0001", "up.txt", dest, path="outputs")
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(128 * 1024 * 1024 + 1)
    with pytest.raises(PayloadTooLargeError):
        await pool.upload_file("s-0001", big)
