"""Command behaviour and output through `main`, against an in-memory client."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from dstui.api import ExecutionStatus
from tests.cli.fakes import IMAGE, FakeClient, FakeTerminal, Runner, make_execution


def test_sessions_list_table(run: Runner, fake: FakeClient) -> None:
    result = run("sessions", "list")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["IDENTIFIER", "CREATED", "LAST", "ACCESSED", "EXPIRES"]
    assert lines[1].startswith("sess-1 ")
    assert re.search(r"\d\dZ \(expires in 4m1[12]s\)$", lines[1])
    assert lines[2].startswith("sess-2 ")
    assert fake.calls == [("list_sessions_page", (), {"management": False})]
    assert result.err == ""


def test_sessions_list_notes_more_pages(run: Runner, fake: FakeClient) -> None:
    fake.next_link = "https://next"
    result = run("sessions", "list", "--management")
    assert "pass --all" in result.err
    assert fake.calls[0] == ("list_sessions_page", (), {"management": True})


def test_sessions_list_all_json(run: Runner, fake: FakeClient) -> None:
    result = run("sessions", "list", "--all", "--json")
    data = json.loads(result.out)
    assert [s["identifier"] for s in data] == ["sess-1", "sess-2"]
    assert data[1] == {
        "identifier": "sess-2",
        "created_at": data[0]["created_at"],
        "last_accessed_at": None,
        "expires_at": None,
        "etag": "etag-2",
    }
    assert data[0]["created_at"].endswith("Z")
    assert fake.calls == [("list_sessions", (), {"management": False})]
    assert fake.closed


def test_sessions_show(run: Runner) -> None:
    result = run("sessions", "show", "sess-1")
    assert result.code == 0
    assert "identifier:    sess-1" in result.out
    assert "expires in" in result.out


def test_delete_with_yes(run: Runner, fake: FakeClient) -> None:
    result = run("sessions", "delete", "sess-1", "--yes")
    assert result.code == 0
    assert fake.calls == [("delete_session", ("sess-1",), {})]


def test_delete_without_yes_refuses_when_stdin_is_not_a_terminal(
    run: Runner, fake: FakeClient
) -> None:
    result = run("sessions", "delete", "sess-1")
    assert result.code == 2
    assert "stdin is not a terminal" in result.err
    assert "hint: pass --yes" in result.err
    assert fake.calls == []


@pytest.mark.parametrize(("answer", "code", "deleted"), [("y\n", 0, True), ("\n", 1, False)])
def test_delete_asks_on_a_terminal(
    run: Runner,
    fake: FakeClient,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    deleted: bool,
) -> None:
    monkeypatch.setattr(sys, "stdin", FakeTerminal(answer))
    result = run("sessions", "delete", "sess-1")
    assert result.code == code
    assert "delete session sess-1 and its files? [y/N]" in result.err
    assert bool(fake.calls) is deleted


def test_stop(run: Runner, fake: FakeClient) -> None:
    result = run("sessions", "stop", "sess-1", "--json")
    assert json.loads(result.out) == {"stopped": "sess-1", "message": "stopped"}


def test_exec_success_prints_streams_and_result(run: Runner, fake: FakeClient) -> None:
    fake.execution = make_execution(stdout="out", stderr="warn\n", result=42)
    result = run("exec", "sess-1", "print(1)", "--timeout", "5")
    assert result.code == 0
    assert result.out == "out\n42\n"
    assert result.err == "warn\n"
    name, args, kwargs = fake.calls[0]
    assert (name, args) == ("execute", ("sess-1", "print(1)"))
    assert kwargs["timeout"] == 5
    assert kwargs["asynchronous"] is False


@pytest.mark.parametrize(
    "argv",
    [
        ("exec", "sess-1", "--timeout", "5", "print(1)"),
        ("exec", "sess-1", "--async", "--timeout", "5", "print(1)"),
        ("--json", "exec", "sess-1", "--timeout=5", "print(1)"),
    ],
)
def test_exec_options_may_come_before_the_code(
    run: Runner, fake: FakeClient, argv: tuple[str, ...]
) -> None:
    fake.execution = make_execution(stdout="1\n")
    result = run(*argv)
    assert result.code == 0, result.err
    name, args, kwargs = fake.calls[0]
    assert (name, args, kwargs["timeout"]) == ("execute", ("sess-1", "print(1)"), 5)
    assert kwargs["asynchronous"] is ("--async" in argv)


def test_exec_still_refuses_stray_arguments(run: Runner, fake: FakeClient) -> None:
    result = run("exec", "sess-1", "print(1)", "print(2)")
    assert result.code == 2
    assert "unrecognized arguments: print(2)" in result.err
    assert fake.calls == []


def test_exec_failure_exits_1(run: Runner, fake: FakeClient) -> None:
    fake.execution = make_execution(
        status=ExecutionStatus.FAILED, stdout="", stderr="ZeroDivisionError\n"
    )
    result = run("exec", "sess-1", "1/0")
    assert result.code == 1
    assert "ZeroDivisionError" in result.err
    assert "execution Failed" in result.err


def test_exec_notes_cut_output(run: Runner, fake: FakeClient) -> None:
    fake.execution = make_execution(stdout="x" * 10, stdout_truncated=True)
    result = run("exec", "sess-1", "...", "--output-max-length", "10")
    assert result.code == 0
    assert "note: stdout reached the 10-character cap" in result.err


def test_exec_saves_image(
    run: Runner, fake: FakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fake.execution = make_execution(stdout="", image=IMAGE)
    first = run("exec", "sess-1", "plot()")
    second = run("exec", "sess-1", "plot()")
    assert first.out == f"image saved to {tmp_path / 'dstui-exec-1.png'}\n"
    assert second.out == f"image saved to {tmp_path / 'dstui-exec-1-1.png'}\n"
    assert (tmp_path / "dstui-exec-1.png").read_bytes().startswith(b"\x89PNG")


def test_exec_json_is_the_whole_execution(run: Runner, fake: FakeClient) -> None:
    fake.execution = make_execution(status=ExecutionStatus.FAILED, result={"a": 1})
    result = run("exec", "sess-1", "x", "--json", "--async")
    assert result.code == 1
    data = json.loads(result.out)
    assert data["status"] == "Failed"
    assert data["result"] == {"a": 1}
    assert data["stdout"] == "hello\n"
    assert fake.calls[0][2]["asynchronous"] is True


def test_exec_reads_code_from_file_and_stdin(
    run: Runner, fake: FakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "s.py"
    script.write_text("print('file')", encoding="utf-8")
    assert run("exec", "sess-1", "-f", str(script)).code == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("print('stdin')"))
    assert run("exec", "sess-1", "-").code == 0
    assert [call[1][1] for call in fake.calls] == ["print('file')", "print('stdin')"]


def test_exec_needs_exactly_one_code_source(run: Runner, fake: FakeClient) -> None:
    both = run("exec", "sess-1", "x", "-f", "y.py")
    neither = run("exec", "sess-1")
    missing = run("exec", "sess-1", "-f", "/nonexistent/y.py")
    assert (both.code, neither.code, missing.code) == (2, 2, 2)
    assert "error: give the code either" in both.err
    assert "error: cannot read /nonexistent/y.py" in missing.err
    assert fake.calls == []


def test_files_ls_table_and_json(run: Runner) -> None:
    table = run("files", "ls", "sess-1")
    lines = table.out.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "SIZE", "MODIFIED"]
    assert lines[1].split()[:2] == ["sub/", "dir"]
    assert lines[2].split()[:4] == ["a.txt", "file", "5", "B"]
    data = json.loads(run("files", "ls", "sess-1", "--json").out)
    assert {entry["name"] for entry in data} == {"a.txt", "sub"}


def test_files_put_get_round_trip(
    run: Runner, fake: FakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(bytes(range(256)) * 4)
    put = run("files", "put", "sess-1", str(source), "--name", "copy.bin")
    assert put.code == 0
    assert "to /mnt/data/copy.bin" in put.err
    target = tmp_path / "out"
    target.mkdir()
    got = run("files", "get", "sess-1", "copy.bin", "-o", str(target))
    assert got.code == 0
    assert (target / "copy.bin").read_bytes() == source.read_bytes()
    again = run("files", "get", "sess-1", "copy.bin", "-o", str(target))
    assert again.code == 2
    assert "hint:" in again.err and "--force" in again.err
    forced = run("files", "get", "sess-1", "copy.bin", "-o", str(target), "--force", "--json")
    assert json.loads(forced.out)["size"] == 1024


def test_files_put_missing_local_file(run: Runner, tmp_path: Path) -> None:
    result = run("files", "put", "sess-1", str(tmp_path / "nope"))
    assert result.code == 2
    assert "does not exist" in result.err


def test_files_rm(run: Runner, fake: FakeClient) -> None:
    result = run("files", "rm", "sess-1", "a.txt", "--path", "/mnt/data/d")
    assert result.code == 0
    assert "deleted /mnt/data/d/a.txt" in result.err
    assert fake.calls == [("delete_file", ("sess-1", "a.txt"), {"path": "/mnt/data/d"})]


def test_pool_metadata(run: Runner) -> None:
    text = run("pool", "metadata")
    assert "runtimes: python 3.12.7" in text.out
    assert text.out.index("numpy") < text.out.index("pandas")
    data = json.loads(run("pool", "metadata", "--json").out)
    assert data["kernel"]["name"] == "python3"
    assert data["packages"][0] == {"name": "pandas", "version": "2.2.2"}


def test_files_get_into_missing_folder_is_refused(run: Runner, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "a.txt"
    result = run("files", "get", "sess-1", "a.txt", "-o", str(target))
    assert result.code == 2
    assert "does not exist" in result.err
    assert not target.parent.exists()
