"""The one fake backend: the seams the CLI and TUI tests steer it through."""

from __future__ import annotations

from pathlib import Path

import pytest

from dstui.api import (
    DestinationExistsError,
    ExecutionStatus,
    RateLimitedError,
    RunOptions,
)
from dstui.api.fake_pool import FakePool, demo_identifier

FIRST = demo_identifier(0)


async def test_fail_next_fails_one_call_only() -> None:
    pool = FakePool(session_count=1)
    pool.fail_next("get_session", RateLimitedError("slow down", status=429))
    with pytest.raises(RateLimitedError, match="slow down"):
        await pool.get_session(FIRST)
    assert (await pool.get_session(FIRST)).identifier == FIRST
    assert pool.calls == [("get_session", FIRST)] * 2


async def test_runs_are_recorded_with_their_options() -> None:
    pool = FakePool()
    options = RunOptions(timeout=5, operation_id="op-7", asynchronous=True)
    polled: list[ExecutionStatus] = []
    execution = await pool.execute(
        FIRST, "print('hi')", options, on_poll=lambda e: polled.append(e.status)
    )
    assert (execution.id, execution.status, execution.stdout) == (
        "op-7",
        ExecutionStatus.SUCCEEDED,
        "hi\n",
    )
    assert polled and set(polled) == {ExecutionStatus.RUNNING}
    assert pool.runs == [(FIRST, "print('hi')", options)]


async def test_the_run_timeout_is_the_one_in_the_options() -> None:
    pool = FakePool()
    late = await pool.execute(FIRST, "import time\ntime.sleep(3)", RunOptions(timeout=2))
    assert late.status is ExecutionStatus.FAILED and "timed out" in late.stderr


async def test_closing_through_the_context_manager() -> None:
    async with FakePool() as pool:
        assert not pool.closed
    assert pool.closed


async def test_download_into_a_folder_takes_the_remote_name(tmp_path: Path) -> None:
    pool = FakePool()
    saved = await pool.download_file(FIRST, "data.csv", tmp_path)
    assert saved == tmp_path / "data.csv"
    assert saved.read_bytes().startswith(b"region,sales")
    with pytest.raises(DestinationExistsError):
        await pool.download_file(FIRST, "data.csv", tmp_path)
    again = await pool.download_file(FIRST, "data.csv", tmp_path, overwrite=True)
    assert again == saved


async def test_deleting_a_folder_drops_everything_below_it() -> None:
    pool = FakePool(session_count=1)
    await pool.delete_file(FIRST, "outputs")
    listing = await pool.list_files(FIRST, recursive=True)
    assert all(f.name != "outputs" and not f.directory.startswith("outputs") for f in listing)
    assert "run.log" in {f.name for f in listing}  # a sibling folder is untouched
