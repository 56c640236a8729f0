"""Command behaviour and output through `main`, against the in-memory FakePool."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from dstui.api import PermissionDeniedError, RunOptions
from dstui.api.fake_pool import FakePool, demo_identifier
from tests.cli.harness import FakeTerminal, Runner

FIRST = demo_identifier(0)
SECOND = demo_identifier(1)


def test_sessions_list_table(run: Runner, fake: FakePool) -> None:
    result = run("sessions", "list")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["IDENTIFIER", "CREATED", "LAST", "ACCESSED", "EXPIRES"]
    assert lines[1].startswith(f"{FIRST} ")
    assert lines[1].endswith("Z (expires in 4m55s)")
    assert lines[2].startswith(f"{SECOND} ")
    assert fake.calls == [("list_sessions_page", None)]
    assert fake.listed_with_management == [False]
    assert result.err == ""


def test_sessions_list_notes_more_pages(run: Runner, fake: FakePool) -> None:
    fake.page_size = 1
    result = run("sessions", "list", "--management")
    assert "pass --all" in result.err
    assert fake.listed_with_management == [True]


def test_sessions_list_all_json(run: Runner, fake: FakePool) -> None:
    fake.page_size = 1
    result = run("sessions", "list", "--all", "--json")
    data = json.loads(result.out)
    assert [s["identifier"] for s in data] == [FIRST, SECOND]
    assert set(data[1]) == {"identifier", "created_at", "last_accessed_at", "expires_at", "etag"}
    assert data[0]["created_at"].endswith("Z")
    assert fake.calls == [("list_sessions_page", None)] * 2
    assert fake.closed


def test_sessions_show(run: Runner) -> None:
    result = run("sessions", "show", FIRST)
    assert result.code == 0
    assert f"identifier:    {FIRST}" in result.out
    assert "expires in" in result.out


def test_delete_with_yes(run: Runner, fake: FakePool) -> None:
    result = run("sessions", "delete", FIRST, "--yes")
    assert result.code == 0
    assert fake.calls == [("delete_session", FIRST)]
    listed = run("sessions", "list", "--json")
    assert [s["identifier"] for s in json.loads(listed.out)] == [SECOND]


def test_delete_without_yes_refuses_when_stdin_is_not_a_terminal(
    run: Runner, fake: FakePool
) -> None:
    result = run("sessions", "delete", FIRST)
    assert result.code == 2
    assert "stdin is not a terminal" in result.err
    assert "hint: pass --yes" in result.err
    assert fake.calls == []


@pytest.mark.parametrize(("answer", "code", "deleted"), [("y\n", 0, True), ("\n", 1, False)])
def test_delete_asks_on_a_terminal(
    run: Runner,
    fake: FakePool,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    deleted: bool,
) -> None:
    monkeypatch.setattr(sys, "stdin", FakeTerminal(answer))
    result = run("sessions", "delete", FIRST)
    assert result.code == code
    assert f"delete session {FIRST} and its files? [y/N]" in result.err
    assert bool(fake.calls) is deleted


def test_a_refused_delete_is_a_message_and_the_next_one_works(run: Runner, fake: FakePool) -> None:
    fake.fail_next("delete_session", PermissionDeniedError("not allowed here", status=403))
    refused = run("sessions", "delete", FIRST, "--yes")
    assert refused.code != 0
    assert "not allowed here" in refused.err and "Traceback" not in refused.err
    assert run("sessions", "delete", FIRST, "--yes").code == 0
    assert fake.calls == [("delete_session", FIRST)] * 2


def test_stop(run: Runner, fake: FakePool) -> None:
    result = run("sessions", "stop", FIRST, "--json")
    assert json.loads(result.out) == {
        "stopped": FIRST,
        "message": f"Session {FIRST} in session pool demo-pool stopped.",
    }


def test_exec_success_prints_output_and_result(run: Runner, fake: FakePool) -> None:
    code = "print('out')\n42"
    result = run("exec", FIRST, code, "--timeout", "5")
    assert result.code == 0
    assert result.out == "out\n42\n"
    assert result.err == ""
    [(identifier, sent, options)] = fake.runs
    assert (identifier, sent) == (FIRST, code)
    assert options.timeout == 5
    assert options.asynchronous is False


@pytest.mark.parametrize(
    "argv",
    [
        ("exec", FIRST, "--timeout", "5", "print(1)"),
        ("exec", FIRST, "--async", "--timeout", "5", "print(1)"),
        ("--json", "exec", FIRST, "--timeout=5", "print(1)"),
    ],
)
def test_exec_options_may_come_before_the_code(
    run: Runner, fake: FakePool, argv: tuple[str, ...]
) -> None:
    result = run(*argv)
    assert result.code == 0, result.err
    [(identifier, sent, options)] = fake.runs
    assert (identifier, sent, options.timeout) == (FIRST, "print(1)", 5)
    assert options.asynchronous is ("--async" in argv)


def test_exec_passes_every_option(run: Runner, fake: FakePool) -> None:
    argv = ("--timeout", "7", "--output-max-length", "99", "--operation-id", "op-1", "--async")
    assert run("exec", FIRST, "1", *argv).code == 0
    assert fake.runs[0][2] == RunOptions(
        timeout=7, output_max_length=99, operation_id="op-1", asynchronous=True
    )


def test_exec_still_refuses_stray_arguments(run: Runner, fake: FakePool) -> None:
    result = run("exec", FIRST, "print(1)", "print(2)")
    assert result.code == 2
    assert "unrecognized arguments: print(2)" in result.err
    assert fake.calls == []


def test_exec_failure_exits_1(run: Runner) -> None:
    result = run("exec", FIRST, "1/0")
    assert result.code == 1
    assert "ZeroDivisionError" in result.err
    assert "execution Failed" in result.err


def test_exec_notes_cut_output(run: Runner) -> None:
    result = run("exec", FIRST, "print('x' * 10000)", "--output-max-length", "10")
    assert result.code == 0
    assert len(result.out) == 11
    assert "note: stdout reached the 10-character cap" in result.err


def test_exec_saves_image(run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = run("exec", FIRST, "plt.show()", "--operation-id", "plot-1")
    second = run("exec", FIRST, "plt.show()", "--operation-id", "plot-1")
    assert first.out == f"image saved to {tmp_path / 'dstui-plot-1.png'}\n"
    assert second.out == f"image saved to {tmp_path / 'dstui-plot-1-1.png'}\n"
    assert (tmp_path / "dstui-plot-1.png").read_bytes().startswith(b"\x89PNG")


def test_exec_json_is_the_whole_execution(run: Runner, fake: FakePool) -> None:
    result = run("exec", FIRST, "1/0", "--json", "--async")
    assert result.code == 1
    data = json.loads(result.out)
    assert data["status"] == "Failed"
    assert data["identifier"] == FIRST
    assert "ZeroDivisionError" in data["stderr"]
    assert fake.runs[0][2].asynchronous is True
    assert ("get_execution", FIRST) in fake.calls  # an asynchronous start is polled to its end


def test_exec_reads_code_from_file_and_stdin(
    run: Runner, fake: FakePool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "s.py"
    script.write_text("print('file')", encoding="utf-8")
    assert run("exec", FIRST, "-f", str(script)).code == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("print('stdin')"))
    assert run("exec", FIRST, "-").code == 0
    assert [code for _, code, _ in fake.runs] == ["print('file')", "print('stdin')"]


def test_exec_needs_exactly_one_code_source(run: Runner, fake: FakePool) -> None:
    both = run("exec", FIRST, "x", "-f", "y.py")
    neither = run("exec", FIRST)
    missing = run("exec", FIRST, "-f", "/nonexistent/y.py")
    assert (both.code, neither.code, missing.code) == (2, 2, 2)
    assert "error: give the code either" in both.err
    assert "error: cannot read /nonexistent/y.py" in missing.err
    assert fake.calls == []


def test_files_ls_table_and_json(run: Runner) -> None:
    table = run("files", "ls", FIRST)
    rows = [line.split() for line in table.out.splitlines()]
    assert rows[0] == ["NAME", "TYPE", "SIZE", "MODIFIED"]
    assert rows[1][:3] == ["logs/", "dir", "-"]
    assert ["data.csv", "file", "39", "B"] in [row[:4] for row in rows]
    data = json.loads(run("files", "ls", FIRST, "--json").out)
    assert {"data.csv", "outputs", "logs"} <= {entry["name"] for entry in data}


def test_files_put_get_round_trip(run: Runner, tmp_path: Path) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(bytes(range(256)) * 4)
    put = run("files", "put", FIRST, str(source), "--name", "copy.bin")
    assert put.code == 0
    assert "to /mnt/data/copy.bin" in put.err
    target = tmp_path / "out"
    target.mkdir()
    got = run("files", "get", FIRST, "copy.bin", "-o", str(target))
    assert got.code == 0
    assert (target / "copy.bin").read_bytes() == source.read_bytes()
    again = run("files", "get", FIRST, "copy.bin", "-o", str(target))
    assert again.code == 2
    assert "hint:" in again.err and "--force" in again.err
    forced = run("files", "get", FIRST, "copy.bin", "-o", str(target), "--force", "--json")
    assert json.loads(forced.out)["size"] == 1024


def test_files_put_missing_local_file(run: Runner, tmp_path: Path) -> None:
    result = run("files", "put", FIRST, str(tmp_path / "nope"))
    assert result.code == 2
    assert "does not exist" in result.err


def test_files_rm(run: Runner, fake: FakePool) -> None:
    result = run("files", "rm", FIRST, "run.log", "--path", "/mnt/data/logs")
    assert result.code == 0
    assert "deleted /mnt/data/logs/run.log" in result.err
    assert fake.calls == [("delete_file", FIRST)]
    left = run("files", "ls", FIRST, "--path", "/mnt/data/logs")
    assert "no files in /mnt/data/logs" in left.err


def test_pool_metadata(run: Runner) -> None:
    text = run("pool", "metadata")
    assert "runtimes: python 3.12.7" in text.out
    assert text.out.index("numpy") < text.out.index("pandas")
    data = json.loads(run("pool", "metadata", "--json").out)
    assert data["kernel"]["name"] == "ipykernel"
    assert data["packages"][0] == {"name": "beautifulsoup4", "version": "4.12.3"}


def test_files_get_into_missing_folder_is_refused(run: Runner, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "data.csv"
    result = run("files", "get", FIRST, "data.csv", "-o", str(target))
    assert result.code == 2
    assert "does not exist" in result.err
    assert not target.parent.exists()


@pytest.mark.parametrize("source", ["argument", "stdin"])
def test_exec_refuses_code_that_is_not_utf8(
    run: Runner, fake: FakePool, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    # Bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape).
    code = "print('\udcff\udcfe')"
    if source == "stdin":
        monkeypatch.setattr(sys, "stdin", io.StringIO(code))
    result = run("exec", FIRST, code if source == "argument" else "-")
    assert result.code == 2
    assert "is not UTF-8 text" in result.err and "Traceback" not in result.err
    assert fake.calls == []
