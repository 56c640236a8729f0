"""The across-pools rows, the fake ARM, the pool directory and where the app starts (units)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from dstui.api.errors import RequestValidationError
from dstui.api.fake_arm import FakeArm, FakePoolSpec
from dstui.api.fake_pool import DEMO_NOW, FakePool, frozen_clock
from dstui.api.models import Session
from dstui.api.prune import PruneCriteria
from dstui.config import Connection
from dstui.tui.across_rows import MARK, AcrossRows, LazyTable
from dstui.tui.launch import LaunchOptions
from dstui.tui.pool_directory import (
    PoolDirectory,
    demo_directory,
    drafts_dir,
    has_session_list,
    pool_header,
    pool_key,
)
from dstui.tui.pool_properties import capacity_warning
from dstui.tui.screens.cleanup_modal import parse_minutes_or_duration
from dstui.tui.startup import PICK_A_POOL, resolve_pool


def session(name: str, idle_s: float | None, expires_in_s: float = 60) -> Session:
    accessed = None if idle_s is None else DEMO_NOW - timedelta(seconds=idle_s)
    expires = DEMO_NOW + timedelta(seconds=expires_in_s)
    return Session(name, DEMO_NOW - timedelta(hours=1), accessed, expires, None)


def test_rows_are_keyed_by_pool_so_one_identifier_in_two_pools_is_two_rows() -> None:
    rows = AcrossRows(DEMO_NOW)
    rows.add_page(0, "agents", [session("same", 10)])
    rows.add_page(1, "batch", [session("same", 10)])
    again = rows.add_page(0, "agents", [session("same", 10)])  # a page repeated: no new row
    assert again == [] and len(rows) == 2 and rows.session_count == 2
    assert [str(cell) for cell in rows.cells_for("1/same")][:3] == [" ", "batch", "same"]


def test_a_session_twice_in_one_page_is_one_row_the_first() -> None:
    rows = AcrossRows(DEMO_NOW)
    first, twin = session("twin", 10), session("twin", 99)
    fresh = rows.add_page(0, "agents", [first, session("other", 5), twin])
    assert [row.key for row in fresh] == ["0/twin", "0/other"]
    assert rows.by_key["0/twin"].session is first and rows.session_count == 2


def test_the_lazy_table_takes_each_key_once_in_order() -> None:
    rows = AcrossRows(DEMO_NOW)
    table = LazyTable(rows.cells_for)
    table.add_keys(["0/a", "0/b", "0/a"])
    table.add_keys(["0/b", "0/c"])
    assert table.row_keys() == ["0/a", "0/b", "0/c"]
    assert [table.row_index(key) for key in ("0/a", "0/b", "0/c")] == [0, 1, 2]


def test_the_filter_matches_the_pool_name_or_the_identifier() -> None:
    rows = AcrossRows(DEMO_NOW)
    rows.add_page(0, "agents", [session("alpha", 1), session("beta", 1)])
    rows.add_page(1, "batch", [session("gamma", 1)])
    rows.add_note(2, "webapp", "CustomContainer: no list")
    assert [r.key for r in rows.matching("BATCH")] == ["1/gamma"]
    assert [r.key for r in rows.matching("alp")] == ["0/alpha"]
    assert [r.key for r in rows.matching("web")] == ["2/\0note"]
    assert len(rows.matching("  ")) == 4


def test_the_idle_selection_never_guesses_a_missing_timestamp() -> None:
    rows = AcrossRows(DEMO_NOW)
    rows.add_page(0, "agents", [session("old", 3600), session("new", 30), session("?", None)])
    rows.add_note(1, "webapp", "no list")
    chosen, undated = rows.select(PruneCriteria(idle_longer_than=timedelta(minutes=30)), DEMO_NOW)
    assert chosen == ["0/old"] and undated == 1
    span = rows.idle_span(["0/old", "0/new"], DEMO_NOW)
    assert span == (timedelta(seconds=30), timedelta(hours=1))
    rows.marks.add("0/old")
    assert rows.cells_for("0/old")[0] == MARK
    rows.remove({"0/old"})
    assert "0/old" not in rows.by_key and rows.marks == set() and rows.session_count == 2


@pytest.mark.parametrize(
    ("text", "seconds"), [("30", 1800), ("90s", 90), ("2h", 7200), (" 1d ", 86400), ("", None)]
)
def test_cleanup_durations(text: str, seconds: int | None) -> None:
    parsed = parse_minutes_or_duration(text)
    assert (parsed.total_seconds() if parsed else None) == seconds


def test_a_bad_cleanup_duration_says_what_to_type() -> None:
    with pytest.raises(ValueError, match=re.escape("e.g. 30, 30m, 2h, 1d")):
        parse_minutes_or_duration("soon")


def test_capacity_warning_from_eighty_percent() -> None:
    assert capacity_warning(79, False, 100) is None
    assert capacity_warning(80, False, 100) == (
        "80 of 100 sessions in use (80%): users meet 429 (too many sessions) at 100"
    )
    assert (capacity_warning(300, True, 300) or "").startswith("at least 300 of 300")
    assert capacity_warning(5, False, None) is None


async def test_fake_arm_answers_like_arm_and_names_a_refusing_subscription() -> None:
    arm = FakeArm(failing_subscriptions=[1])
    listing = await arm.list_pools_everywhere()
    assert {p.name for p in listing.pools} == {"agents", "notebooks", "shellbox", "webapp"}
    ((failed, error),) = listing.failures
    assert failed == listing.subscriptions[1].subscription_id and error.status == 403
    webapp = next(p for p in listing.pools if p.name == "webapp")
    assert not has_session_list(webapp)
    assert webapp.custom_container is not None and webapp.custom_container.target_port == 8080
    assert pool_header(webapp) == "webapp · dstui-apps · northeurope"
    assert await arm.get_pool(webapp.id) == webapp


async def test_a_pool_without_an_endpoint_cannot_be_opened() -> None:
    arm = FakeArm([FakePoolSpec("young", "rg", "westus2", provisioning_state="InProgress")])
    (pool,) = (await arm.list_pools_everywhere()).pools
    directory = PoolDirectory(arm, lambda endpoint, _pool: FakePool(endpoint=endpoint))
    object.__setattr__(pool, "pool_management_endpoint", None)
    with pytest.raises(RequestValidationError, match="no poolManagementEndpoint") as caught:
        directory.open(pool)
    assert "InProgress" in (caught.value.hint or "")


async def test_the_demo_keeps_its_fake_pools_across_switches() -> None:
    directory = demo_directory(frozen_clock)
    pools = (await directory.list_pools()).pools
    first = directory.open(pools[0])
    await directory.release(first)
    assert directory.open(pools[0]) is first
    assert isinstance(first, FakePool) and not first.closed


def test_drafts_of_a_picked_pool_are_its_own() -> None:
    data = Path("data")
    assert drafts_dir(data, "") == data / "drafts"
    one, other = drafts_dir(data, "/subscriptions/a/x"), drafts_dir(data, "/subscriptions/b/x")
    assert one != other and one.parent == data / "drafts" and "/" not in one.name


async def test_arm_without_an_endpoint_starts_on_the_picker() -> None:
    connection = Connection(None, "2025-10-02-preview", "token", None, None, None)
    directory = demo_directory(frozen_clock)
    options = LaunchOptions(None, arm=lambda: directory.arm, arm_connection=connection)
    with resolve_pool(options) as resolved:
        assert resolved.pool is None and resolved.label == PICK_A_POOL
        assert resolved.pools is not None
        assert resolved.pools._arm is None  # ARM's client is built when the picker asks
        assert resolved.pools.arm is directory.arm
        assert resolved.identity == "auth token"
    keys = {pool_key(p) for p in (await directory.list_pools()).pools}
    assert len(keys) == 5
