"""dstui's own requests, recorded as they are sent: `dstui log` shows them from a later run,
`--curl` gives a command that really runs, and the token is nowhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dstui.api.validation import new_identifier
from dstui.cli import main
from dstui.emulator import EmulatorServer
from dstui.recording import own_requests_path
from tests.proxy.conftest import recording_bytes


@pytest.fixture
def pointed_at(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    assert emulator.token is not None
    monkeypatch.setenv("DSTUI_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("DSTUI_TOKEN", emulator.token)
    return emulator


def log_rows(capsys: pytest.CaptureFixture[str], *options: str) -> list[dict[str, Any]]:
    assert main(["log", "--json", *options]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_log_shows_earlier_runs_and_curl_replays_them(
    pointed_at: EmulatorServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    identifier = new_identifier("own")
    assert main(["exec", identifier, "print('hi')\n6 * 7"]) == 0
    assert main(["files", "ls", identifier]) == 0
    assert main(["files", "get", identifier, "absent.txt", "-o", str(tmp_path / "x")]) == 2
    capsys.readouterr()

    rows = log_rows(capsys, "-n", "3")
    assert [r["operation"] for r in rows] == ["execute", "list-files", "download"]
    run, listing, missing = rows
    assert run["source"] == "dstui" and run["code"] == "print('hi')\n6 * 7"
    assert (run["status"], run["stdout"], run["result"]) == (200, "hi\n", "42")
    assert run["request_id"] and "x-ms-overall-execution-time" in run["timing"]
    assert listing["status"] == 200 and listing["bytes_received"] > 0
    assert missing["status"] == 404 and missing["error_code"]

    assert main(["log"]) == 0
    text = capsys.readouterr().out
    assert identifier not in text  # masked unless asked
    assert "execute" in text and "print('hi')" in text

    assert main(["log", "--curl", str(run["id"])]) == 0
    command = capsys.readouterr().out
    assert pointed_at.token not in command  # type: ignore[operator]
    replay = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DSTUI_TOKEN": pointed_at.token or ""},
    )
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout)["result"]["stdout"] == "hi\n"

    har = tmp_path / "own.har"
    assert main(["log", "--har", str(har)]) == 0
    token = (pointed_at.token or "").encode()
    assert token not in har.read_bytes()
    assert token not in recording_bytes(own_requests_path())
    assert own_requests_path().stat().st_mode & 0o777 == 0o600


def test_request_log_can_be_turned_off(
    pointed_at: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DSTUI_REQUEST_LOG", "off")
    assert main(["exec", new_identifier("quiet"), "1"]) == 0
    assert not own_requests_path().exists()
    assert main(["log"]) == 0
    assert "no requests dstui sent yet" in capsys.readouterr().err


def test_trace_reports_user_mistakes_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not sqlite" * 200)
    assert main(["trace", "--record", str(junk)]) == 2
    assert "cannot use the recording" in capsys.readouterr().err
    own = own_requests_path()
    own.parent.mkdir(parents=True, exist_ok=True)
    assert main(["trace", "--record", str(tmp_path / "absent.sqlite3")]) == 0
    assert "does not exist" in capsys.readouterr().err
    from dstui.recording import RecordingStore

    RecordingStore(tmp_path / "empty.sqlite3").close()
    assert main(["trace", "--record", str(tmp_path / "empty.sqlite3"), "--curl", "5"]) == 2
    assert "no exchange #5" in capsys.readouterr().err
    assert main(["trace", "--record", str(tmp_path / "empty.sqlite3"), "--status", "x"]) == 2
    assert "unknown status filter" in capsys.readouterr().err


def test_follow_waits_for_the_recording_and_prints_new_rows(tmp_path: Path) -> None:
    """`dstui trace --follow` started before anything records: it waits for the file, then
    prints each exchange as a JSON line soon after it is written."""
    from dstui.recording import Exchange, RecordingStore

    record = tmp_path / "later.sqlite3"
    follower = subprocess.Popen(
        [sys.executable, "-m", "dstui", "trace", "--record", str(record), "--follow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stderr is not None
        assert "waiting for" in follower.stderr.readline()
        with RecordingStore(record) as store:
            for n in range(3):
                store.add(
                    Exchange(started=time.time(), source="proxy", method="GET", path=f"/p{n}")
                )
        assert follower.stdout is not None
        raw_lines = [follower.stdout.readline() for _ in range(3)]
        lines = [json.loads(line) for line in raw_lines if line]
    finally:
        follower.send_signal(signal.SIGINT)
        _, err = follower.communicate(timeout=30)
    assert [line["path"] for line in lines] == ["/p0", "/p1", "/p2"], err
    assert follower.returncode == 0 and "Traceback" not in err
