"""curl and HAR exports: exact requests with the token as a variable, valid HAR 1.2."""

from __future__ import annotations

import shlex

import pytest

from dstui.recording import Exchange
from dstui.recording.export import ExportError, curl_command, har_log


def execution(**fields: object) -> Exchange:
    values: dict[str, object] = {
        "id": 7,
        "started": 1_800_000_000.25,
        "source": "dstui",
        "method": "POST",
        "path": "/executions",
        "query": "api-version=2025-10-02-preview&identifier=it's",
        "origin": "https://pool.example.com",
        "operation": "execute",
        "status": 200,
        "duration_ms": 12.5,
        "bytes_sent": 40,
        "request_headers": {"content-type": "application/json", "user-agent": "x"},
        "response_headers": {"content-type": "application/json"},
        "request_body": '{"code": "print(\'$HOME\')"}',
        "response_body": '{"status": "Succeeded"}',
    }
    values.update(fields)
    return Exchange(**values)  # type: ignore[arg-type]


def test_curl_is_exact_and_names_the_token_variable() -> None:
    command = curl_command(execution())
    words = shlex.split(command.replace("\\\n", ""))
    assert words[:5] == [
        "curl",
        "-sS",
        "-X",
        "POST",
        "https://pool.example.com/executions?api-version=2025-10-02-preview&identifier=it's",
    ]
    assert words[words.index("--data-binary") + 1] == '{"code": "print(\'$HOME\')"}'
    assert '-H "Authorization: Bearer $DSTUI_TOKEN"' in command
    assert "user-agent" not in command


def test_curl_for_files_and_refusals() -> None:
    upload = execution(
        request_headers={"content-type": "multipart/form-data; boundary=b"},
        request_body=None,
        file_name="in/data.csv",
        operation="upload",
        path="/files",
    )
    assert "-F 'file=@data.csv;filename=data.csv'" in curl_command(upload)
    with pytest.raises(ExportError, match="larger than"):
        curl_command(execution(body_cut=True))
    with pytest.raises(ExportError, match="not recorded"):
        curl_command(execution(request_body=None, request_headers={}))


def test_curl_quotes_an_odd_method_and_sends_the_token_only_to_loopback_emulators() -> None:
    words = shlex.split(curl_command(execution(method="GET;id")).replace("\\\n", ""))
    assert words[3] == "GET;id"
    local = execution(source="emulator", origin="http://[::1]:8123")
    assert curl_command(local).split()[4].startswith("'http://[::1]:8123/")
    for origin in ("http://evil.example", "https://10.0.0.5:8443", ""):
        with pytest.raises(ExportError):
            curl_command(execution(source="emulator", origin=origin))


def test_har_has_the_required_fields() -> None:
    har = har_log([execution(), execution(id=8, status=None, error="the client went away")])
    log = har["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "dstui"
    first, second = log["entries"]
    assert first["startedDateTime"] == "2027-01-15T08:00:00.250Z"
    for key in ("method", "url", "httpVersion", "cookies", "headers", "queryString"):
        assert key in first["request"]
    assert first["request"]["postData"]["text"] == '{"code": "print(\'$HOME\')"}'
    assert {"name": "identifier", "value": "it's"} in first["request"]["queryString"]
    assert first["response"]["content"]["text"] == '{"status": "Succeeded"}'
    assert second["response"]["status"] == 0 and "went away" in second["comment"]
    for entry in log["entries"]:
        assert set(entry["timings"]) >= {"send", "wait", "receive"}
        assert entry["request"]["headersSize"] == -1
