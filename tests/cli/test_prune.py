"""`dstui sessions prune` end to end: two real emulators (two pools) over HTTP, sessions
backdated in the emulator's own state so that some are idle."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from dstui.api import SessionsClient, StaticTokenProvider
from dstui.api.prune import PoolTarget, PruneCriteria, PruneOutcome, delete_candidates, scan_pools
from dstui.common.clock import utc_now
from tests.cli.conftest import MainRunner
from tests.cli.harness import FakeTerminal
from tests.emulator_fixtures import retry_without_waiting

TOKEN = "prune-test-token"


async def _open_sessions(server: Any, identifiers: list[str]) -> None:
    """A file listing opens a session without starting a kernel."""
    async with SessionsClient(server.endpoint, auth=StaticTokenProvider(TOKEN)) as client:
        await asyncio.gather(*(client.list_files(identifier) for identifier in identifiers))


def _backdate(server: Any, identifier: str, minutes: float) -> None:
    session = server.state.pool.sessions[identifier]
    session.last_accessed_at = utc_now() - timedelta(minutes=minutes)


def _alive(server: Any) -> set[str]:
    return set(server.state.pool.sessions)


@pytest.fixture
def pools(make_emulator: Callable[..., Any]) -> tuple[Any, Any]:
    """Two pools with three sessions each; `*-old-*` idle for an hour, `*-new` fresh."""
    first, second = (make_emulator(token=TOKEN, cooldown_s=86400.0) for _ in range(2))
    for server, name in ((first, "a"), (second, "b")):
        identifiers = [f"{name}-old-1", f"{name}-old-2", f"{name}-new"]
        asyncio.run(_open_sessions(server, identifiers))
        for identifier in identifiers[:2]:
            _backdate(server, identifier, 60)
    return first, second


@pytest.fixture
def prune(run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, pools: tuple[Any, Any]) -> Any:
    monkeypatch.setenv("DSTUI_TOKEN", TOKEN)
    first, second = pools

    def run(*args: str) -> Any:
        pool_args = ("--pool", first.endpoint, "--pool", second.endpoint)
        return run_main("sessions", "prune", "--auth", "token", *pool_args, *args)

    return run


def test_dry_run_selects_the_idle_sessions_of_both_pools(prune: Any, pools: Any) -> None:
    result = prune("--idle", "30m", "--dry-run", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["dry_run"] is True
    chosen = sorted(s["identifier"] for s in report["sessions"])
    assert chosen == ["a-old-1", "a-old-2", "b-old-1", "b-old-2"]
    assert all(s["outcome"] is None and s["idle_s"] >= 3600 for s in report["sessions"])
    assert [p["listed"] for p in report["pools"]] == [3, 3]
    assert all(len(_alive(server)) == 3 for server in pools)


def test_yes_deletes_and_reports_each_session(prune: Any, pools: Any) -> None:
    result = prune("--idle", "30m", "--yes")
    assert result.code == 0, result.err
    assert result.out.count("deleted") == 4
    assert "4 of 6 sessions in 2 pools selected; 4 deleted, 0 gone, 0 failed" in result.err
    assert _alive(pools[0]) == {"a-new"} and _alive(pools[1]) == {"b-new"}


def test_without_a_terminal_it_refuses(prune: Any, pools: Any) -> None:
    result = prune("--idle", "30m")
    assert result.code == 2
    assert "stdin is not a terminal" in result.err and "--yes" in result.err
    assert all(len(_alive(server)) == 3 for server in pools)


def test_a_terminal_must_type_the_count(
    prune: Any, pools: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", FakeTerminal("yes\n"))
    refused = prune("--idle", "30m")
    assert refused.code == 1 and "Type 4 to confirm" in refused.err and "aborted" in refused.err
    assert "idle 1h00m to 1h00m" in refused.err
    assert all(len(_alive(server)) == 3 for server in pools)
    monkeypatch.setattr(sys, "stdin", FakeTerminal("4\n"))
    assert prune("--idle", "30m").code == 0
    assert all(len(_alive(server)) == 1 for server in pools)


def test_expiring_after_and_idle_together_narrow_the_choice(prune: Any, pools: Any) -> None:
    # Every session expires about a day from its last access: none is 2 days away.
    result = prune("--idle", "30m", "--expiring-after", "2d", "--dry-run", "--json")
    assert json.loads(result.out)["sessions"] == []
    later = prune("--expiring-after", "12h", "--dry-run", "--json")
    assert len(json.loads(later.out)["sessions"]) == 6


def test_a_failing_pool_is_reported_and_the_others_pruned(
    run_main: MainRunner,
    monkeypatch: pytest.MonkeyPatch,
    pools: Any,
    make_emulator: Callable[..., Any],
) -> None:
    locked = make_emulator(token="another-token")
    monkeypatch.setenv("DSTUI_TOKEN", TOKEN)
    result = run_main(
        "sessions", "prune", "--auth", "token", "--idle", "30m", "--yes",
        "--pool", pools[0].endpoint, "--pool", locked.endpoint,
    )  # fmt: skip
    assert result.code == 1
    assert f"{locked.endpoint}: listing failed after 0 sessions" in result.err
    assert "401" in result.err and TOKEN not in result.err
    assert _alive(pools[0]) == {"a-new"}


def test_no_criteria_and_bad_durations_are_usage_errors(prune: Any) -> None:
    assert "--idle AGE" in prune("--dry-run").err
    bad = prune("--idle", "30")
    assert bad.code == 2 and "not a duration" in bad.err
    for huge in ("99999999999d", "400000h"):
        too_long = prune("--expiring-after", huge, "--dry-run")
        assert too_long.code == 2 and "at most 366 days" in too_long.err, too_long.err
        assert "Traceback" not in too_long.err


async def test_a_session_gone_before_its_deletion_is_reported_gone(
    make_emulator: Callable[..., Any],
) -> None:
    server = make_emulator(token=TOKEN)
    await _open_sessions(server, ["gone-soon", "kept-alive"])
    _backdate(server, "gone-soon", 10)
    async with SessionsClient(
        server.endpoint, auth=StaticTokenProvider(TOKEN), retry=retry_without_waiting()
    ) as client:
        targets = [PoolTarget("pool", client)]
        criteria = PruneCriteria(idle_longer_than=timedelta(minutes=5))
        scan = await scan_pools(targets, criteria)
        assert [c.session.identifier for c in scan.candidates] == ["gone-soon"]
        await client.delete_session("gone-soon")
        results = await delete_candidates(targets, scan.candidates)
    assert [r.outcome for r in results] == [PruneOutcome.GONE]


def test_sessions_without_last_access_are_kept() -> None:
    from dstui.api import Session

    undated = Session("x-undated", utc_now(), None, None, None)
    assert PruneCriteria(idle_longer_than=timedelta(0)).matches(undated, utc_now()) is None


def test_pool_names_are_resolved_through_arm(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dstui.emulator import EmulatorConfig, EmulatorServer
    from dstui.emulator.arm_pools import ArmPoolSpec

    pools = [ArmPoolSpec(name="alpha"), ArmPoolSpec(name="gamma", resource_group="other")]
    config = EmulatorConfig(token=TOKEN, ready_sessions=0, cooldown_s=86400.0)
    with EmulatorServer(config, arm_pools=pools) as server:
        for hosted in server.hosted:
            name = hosted.spec.name
            asyncio.run(_open_sessions(hosted, [f"{name}-old", f"{name}-new"]))
            _backdate(hosted, f"{name}-old", 60)
        monkeypatch.setenv("DSTUI_TOKEN", TOKEN)
        result = run_main(
            "sessions", "prune", "--auth", "token", "--idle", "30m", "--yes", "--json",
            "--pool", "alpha", "--pool", "gamma", "--arm-endpoint", server.arm_endpoint,
        )  # fmt: skip
        assert result.code == 0, result.err
        report = json.loads(result.out)
        assert [(s["pool"], s["identifier"], s["outcome"]) for s in report["sessions"]] == [
            ("alpha", "alpha-old", "deleted"),
            ("gamma", "gamma-old", "deleted"),
        ]
        assert [set(h.state.pool.sessions) for h in server.hosted] == [{"alpha-new"}, {"gamma-new"}]
        unknown = run_main(
            "sessions", "prune", "--auth", "token", "--idle", "30m", "--dry-run",
            "--pool", "nosuch", "--arm-endpoint", server.arm_endpoint,
        )  # fmt: skip
        assert unknown.code == 2 and "no session pool called 'nosuch'" in unknown.err


@pytest.fixture
def custom_pool() -> Any:
    """A custom-container pool behind ARM, with one idle and one fresh session (their apps
    never started: listing and stopping them goes through /.management/* only)."""
    from dstui.emulator import EmulatorConfig, EmulatorServer
    from dstui.emulator.arm_pools import ArmPoolSpec

    spec = ArmPoolSpec(
        name="webapp", container_type="CustomContainer", target_port=8080, container_command="true"
    )
    config = EmulatorConfig(token=TOKEN, ready_sessions=0, cooldown_s=86400.0)
    with EmulatorServer(config, arm_pools=[spec]) as server:
        hosted = server.hosted[0]
        for identifier in ("web-old", "web-new"):
            hosted.state.pool.open(identifier)
        _backdate(hosted, "web-old", 60)
        yield server


@pytest.mark.parametrize("named", [True, False], ids=["type-from-arm", "type-from-answer"])
def test_custom_container_sessions_are_stopped_not_deleted(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, custom_pool: Any, named: bool
) -> None:
    hosted = custom_pool.hosted[0]
    monkeypatch.setenv("DSTUI_TOKEN", TOKEN)
    pool = "webapp" if named else hosted.endpoint
    result = run_main(
        "sessions", "prune", "--auth", "token", "--idle", "30m", "--yes", "--json",
        "--pool", pool, "--arm-endpoint", custom_pool.arm_endpoint,
    )  # fmt: skip
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["pools"][0]["custom_container"] is True
    assert report["pools"][0]["error"] is None and report["pools"][0]["listed"] == 2
    assert [(s["identifier"], s["action"], s["outcome"]) for s in report["sessions"]] == [
        ("web-old", "stop", "stopped")
    ]
    assert set(hosted.state.pool.sessions) == {"web-new"}


def test_the_container_type_flag_overrides_what_arm_says(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, custom_pool: Any
) -> None:
    """Told it is a Python pool, prune uses the session list, which this pool refuses."""
    monkeypatch.setenv("DSTUI_TOKEN", TOKEN)
    result = run_main(
        "--container-type", "PythonLTS", "sessions", "prune", "--auth", "token", "--idle", "30m",
        "--dry-run", "--json", "--pool", "webapp", "--arm-endpoint", custom_pool.arm_endpoint,
    )  # fmt: skip
    assert result.code == 1
    pool = json.loads(result.out)["pools"][0]
    assert pool["custom_container"] is False and "custom-container pool" in pool["error"]
    assert set(custom_pool.hosted[0].state.pool.sessions) == {"web-old", "web-new"}
