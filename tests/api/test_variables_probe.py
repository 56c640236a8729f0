"""The variables probe against the real emulator kernel, and its parser on odd output."""

from __future__ import annotations

import importlib.util
import time

import pytest

from dstui.api import SessionsClient, StaticTokenProvider, new_identifier
from dstui.api.variables_probe import (
    PER_VALUE_S,
    REPR_CHARS,
    ProbeError,
    VariableRow,
    new_marker,
    parse_probe_output,
    probe_code,
    probe_variables,
)
from dstui.emulator import EmulatorServer
from tests.emulator_fixtures import retry_without_waiting

SETUP = """
import os, collections
numbers = [1, 2, 3]
table = {"a": 1, "b": [1, 2]}
name = "hello"
point = (1.5, 2.5)
tags = {"x", "y"}
count = 7
nothing = None
_private = 3
queue = collections.deque([1, 2])
def helper():
    return 1
class Thing:
    pass
41 + 1
"""


def by_name(rows: tuple[VariableRow, ...]) -> dict[str, VariableRow]:
    return {row.name: row for row in rows}


async def result_of(client: SessionsClient, identifier: str, code: str) -> object:
    execution = await client.execute(identifier, code)
    assert execution.succeeded, execution.stderr
    return execution.result


async def test_user_globals_with_type_length_size_and_repr(
    emulator_client: SessionsClient,
) -> None:
    identifier = new_identifier()
    assert await result_of(emulator_client, identifier, SETUP) == 42
    report = await probe_variables(emulator_client, identifier)
    rows = by_name(report.rows)
    assert set(rows) == {
        "numbers", "table", "name", "point", "tags", "count", "nothing", "_private", "queue"
    }  # fmt: skip
    assert (rows["numbers"].type_name, rows["numbers"].length) == ("list", 3)
    assert rows["numbers"].repr == "[1, 2, 3]"
    assert (rows["table"].type_name, rows["table"].extent) == ("dict", "2")
    assert (rows["name"].type_name, rows["name"].repr) == ("str", "'hello'")
    assert rows["queue"].type_name == "collections.deque"
    assert rows["count"].length is None and rows["count"].extent == ""
    assert all(row.size_bytes and row.size_bytes > 0 for row in rows.values())
    # A list counts its items' sizes too, so it outweighs its bare shell.
    assert rows["numbers"].size_bytes is not None and rows["numbers"].size_bytes > 56 + 3 * 8
    assert report.counts["module"] >= 2 and report.counts["function"] >= 1
    assert report.counts["class"] >= 1 and report.hidden >= 5
    assert not report.truncated and report.timed_out == 0

    everything = by_name((await probe_variables(emulator_client, identifier, show_all=True)).rows)
    assert everything["os"].category == "module"
    assert everything["helper"].category == "function"
    assert everything["Thing"].category == "class"
    for ipython_name in ("In", "Out", "_", "_i1", "exit", "get_ipython", "__name__"):
        assert everything[ipython_name].category == "ipython", ipython_name
    assert everything["numbers"].category == "variable"


async def test_ipythons_own_open_is_an_ipython_name_but_a_users_open_is_a_function(
    emulator_client: SessionsClient,
) -> None:
    identifier = new_identifier()
    assert await result_of(emulator_client, identifier, "1") == 1
    fresh = await probe_variables(emulator_client, identifier, show_all=True)
    assert "function" not in fresh.counts
    assert by_name(fresh.rows)["open"].category == "ipython"
    await result_of(emulator_client, identifier, "def open(path):\n    return path\n0")
    mine = await probe_variables(emulator_client, identifier)
    assert mine.counts.get("function") == 1


async def test_probe_leaves_underscore_and_the_namespace_alone(
    emulator_client: SessionsClient,
) -> None:
    identifier = new_identifier()
    await result_of(
        emulator_client,
        identifier,
        "import re\nkept = [1]\nkept_id = id(kept)\nbefore = set(globals())\n'last value'",
    )
    for show_all in (False, True):
        await probe_variables(emulator_client, identifier, show_all=show_all)
    assert await result_of(emulator_client, identifier, "_") == "last value"
    new_names = await result_of(
        emulator_client,
        identifier,
        "sorted(n for n in set(globals()) - before - {'before'} "
        "if not re.fullmatch(r'_i\\d+|_\\d+', n))",
    )
    assert new_names == "[]"  # only IPython's input history (_i<N>) grew
    assert await result_of(emulator_client, identifier, "id(kept) == kept_id and kept == [1]")
    # Cells 2 and 3 were the probes: they left no output behind.
    assert await result_of(emulator_client, identifier, "sorted(Out)") == "[1, 4, 5, 6]"


async def test_hostile_values_cost_one_field_not_the_probe(
    emulator_client: SessionsClient,
) -> None:
    identifier = new_identifier()
    await result_of(
        emulator_client,
        identifier,
        """
import time
class RaisingRepr:
    def __repr__(self):
        raise RuntimeError("no")
class SleepingRepr:
    def __repr__(self):
        time.sleep(3)
        return "late"
class LyingSize:
    def __sizeof__(self):
        return -5
class HugeSize:
    def __sizeof__(self):
        return 10 ** 30
class BadLen:
    def __len__(self):
        raise ValueError("no length")
class BadClass:
    @property
    def __class__(self):
        raise RuntimeError("class")
raising, sleeping, lying, huge_size = RaisingRepr(), SleepingRepr(), LyingSize(), HugeSize()
bad_len, bad_class = BadLen(), BadClass()
big_text = "x" * 20_000_000
long_list = list(range(1_000_000))
None
""",
    )
    started = time.monotonic()
    report = await probe_variables(emulator_client, identifier)
    assert time.monotonic() - started < 10
    rows = by_name(report.rows)
    assert rows["raising"].repr == "<repr failed: RuntimeError>"
    assert rows["sleeping"].timed_out and rows["sleeping"].repr is None
    assert report.timed_out == 1 and rows["sleeping"].type_name == "SleepingRepr"
    assert rows["lying"].size_bytes is None
    assert rows["huge_size"].size_bytes is None  # beyond any real object: not shown as a size
    assert rows["bad_len"].length is None and rows["bad_len"].repr is not None
    assert rows["bad_class"].type_name == "BadClass"
    assert rows["big_text"].length == 20_000_000
    assert rows["big_text"].repr is not None and len(rows["big_text"].repr) <= REPR_CHARS
    assert rows["big_text"].repr.endswith("…")
    assert rows["long_list"].length == 1_000_000
    assert rows["long_list"].repr is not None and len(rows["long_list"].repr) <= REPR_CHARS
    assert PER_VALUE_S < 3  # the sleeping repr was abandoned, not waited for


async def test_many_variables_are_cut_and_said_so(emulator_client: SessionsClient) -> None:
    identifier = new_identifier()
    await result_of(
        emulator_client, identifier, "for i in range(1500): globals()[f'v{i:04}'] = 'x' * 100"
    )
    report = await probe_variables(emulator_client, identifier)
    assert report.truncated
    assert 0 < len(report.rows) <= 400
    assert report.counts["variable"] >= 1500


async def test_array_shape_and_nbytes_when_numpy_is_already_imported(
    emulator_client: SessionsClient,
) -> None:
    """A stand-in numpy module (the venv has no numpy) takes the same path as the real one."""
    identifier = new_identifier()
    await result_of(
        emulator_client,
        identifier,
        """
import sys, types
fake = types.ModuleType("numpy")
class ndarray:
    __module__ = "numpy"
    shape = (3, 4)
    nbytes = 96
    def __repr__(self):
        return "array(...)"
fake.ndarray = ndarray
sys.modules["numpy"] = fake
matrix = ndarray()
del sys, types, fake
""",
    )
    row = by_name((await probe_variables(emulator_client, identifier)).rows)["matrix"]
    assert (row.type_name, row.shape, row.extent, row.size_bytes) == (
        "numpy.ndarray",
        (3, 4),
        "3×4",
        96,
    )


@pytest.mark.skipif(importlib.util.find_spec("numpy") is None, reason="numpy not installed")
async def test_real_numpy_array(emulator_client: SessionsClient) -> None:
    identifier = new_identifier()
    await result_of(emulator_client, identifier, "import numpy as np\nm = np.zeros((5, 2))")
    row = by_name((await probe_variables(emulator_client, identifier)).rows)["m"]
    assert (row.type_name, row.shape, row.size_bytes) == ("numpy.ndarray", (5, 2), 80)


async def test_probe_never_imports_numpy_or_pandas(emulator_client: SessionsClient) -> None:
    identifier = new_identifier()
    await result_of(emulator_client, identifier, "x = 1")
    await probe_variables(emulator_client, identifier, show_all=True)
    loaded = await result_of(
        emulator_client,
        identifier,
        "import sys as _s\n[m for m in ('numpy', 'pandas') if m in _s.modules]",
    )
    assert loaded == "[]"


async def test_probe_on_the_legacy_api_shape(emulator: EmulatorServer) -> None:
    assert emulator.token is not None
    async with SessionsClient(
        emulator.endpoint,
        auth=StaticTokenProvider(emulator.token),
        api_version="2024-02-02-preview",
        retry=retry_without_waiting(),
    ) as client:
        identifier = new_identifier()
        await result_of(client, identifier, "values = [1, 2]")
        rows = by_name((await probe_variables(client, identifier)).rows)
    assert rows["values"].length == 2


async def test_a_spoofed_answer_line_is_ignored(emulator_client: SessionsClient) -> None:
    identifier = new_identifier()
    spoof = 'dstui-variables/1:0000 {"rows":[{"name":"fake"}],"counts":{}}'
    await result_of(
        emulator_client,
        identifier,
        f"class Loud:\n    def __repr__(self):\n        print({spoof!r})\n        return 'L'\n"
        "loud = Loud()",
    )
    rows = by_name((await probe_variables(emulator_client, identifier)).rows)
    assert "fake" not in rows and rows["loud"].repr == "L"


# the parser on its own


def test_parser_refuses_missing_malformed_and_cut_answers() -> None:
    marker = new_marker()
    with pytest.raises(ProbeError, match="no answer line"):
        parse_probe_output("hello\n", marker)
    with pytest.raises(ProbeError, match="cut at"):
        parse_probe_output("x" * 50, marker, truncated=True)
    with pytest.raises(ProbeError, match="not valid JSON"):
        parse_probe_output(f'{marker} {{"rows": [', marker)
    with pytest.raises(ProbeError, match="not a JSON object"):
        parse_probe_output(f"{marker} [1, 2]", marker)
    with pytest.raises(ProbeError, match="failed in the kernel: KeyError"):
        parse_probe_output(f'{marker} {{"error": "KeyError: x"}}', marker)
    with pytest.raises(ProbeError, match="malformed"):
        parse_probe_output(f'{marker} {{"rows": [{{"name": 5}}]}}', marker)


def test_parser_tolerates_odd_field_values() -> None:
    marker = new_marker()
    line = (
        f'{marker} {{"rows": [{{"name": "a\\ud800", "type": 3, "category": "weird", '
        f'"shape": ["x"], "length": true, "size": "big", "repr": "{"r" * 500}"}}], '
        f'"counts": {{"variable": 1, "module": "many"}}, "timed_out": "no"}}'
    )
    report = parse_probe_output("noise\n" + line + "\n", marker)
    row = report.rows[0]
    assert row.name == "a\ufffd"  # a lone surrogate cannot reach a terminal
    assert (row.type_name, row.category, row.shape, row.length) == ("3", "variable", None, None)
    assert row.size_bytes is None and row.repr is not None and len(row.repr) <= REPR_CHARS + 1
    assert report.counts == {"variable": 1} and report.timed_out == 0


def test_parser_survives_a_hostile_answer_line() -> None:
    """A server (or the user's code) can print anything after a guessed marker."""
    marker = new_marker()
    with pytest.raises(ProbeError, match="not valid JSON"):
        parse_probe_output(f"{marker} " + "[" * 100_000, marker)
    for elapsed in ("1" + "0" * 400, "-5", "1e400"):
        report = parse_probe_output(f'{marker} {{"rows": [], "elapsed_ms": {elapsed}}}', marker)
        assert report.elapsed_ms == 0.0


def test_probe_code_is_one_statement_with_no_assignment() -> None:
    import ast

    tree = ast.parse(probe_code(show_all=True))
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr)
