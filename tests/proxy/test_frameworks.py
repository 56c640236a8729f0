"""A framework client from PyPI through the proxy, unmodified: LangChain's tool over the
proxy's https (`--tls`), in front of the emulator; the recording read back by `dstui trace`."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable

import pytest

from dstui.cli import main
from dstui.emulator import EmulatorServer
from dstui.proxy import ProxyServer
from tests.proxy.conftest import recording_bytes, wait_for_rows

sessions_module = pytest.importorskip(
    "langchain_azure_dynamic_sessions",
    reason="needs the compat extra: pip install 'dstui[compat]'",
)

pytestmark = pytest.mark.compat


def test_langchain_tool_through_the_tls_proxy(
    emulator: EmulatorServer,
    make_proxy: Callable[..., ProxyServer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proxy = make_proxy(emulator.endpoint, tls=True)
    assert proxy.endpoint.startswith("https://") and proxy.ca_file is not None
    assert emulator.token is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(proxy.ca_file))
    token = emulator.token
    tool = sessions_module.SessionsPythonREPLTool(
        pool_management_endpoint=proxy.endpoint, access_token_provider=lambda: token
    )
    content = json.loads(tool.invoke("x = 6 * 7\nprint('hello')\nx"))
    assert content == {"result": 42, "stdout": "hello\n", "stderr": ""}
    data = b"a,b\n1,2\n"
    uploaded = tool.upload_file(data=io.BytesIO(data), remote_file_path="table.csv")
    assert (uploaded.filename, uploaded.size_in_bytes) == ("table.csv", 8)
    assert tool.download_file(remote_file_path="table.csv").read() == data

    assert proxy.store is not None
    wait_for_rows(proxy.store, 3)
    record = str(proxy.store.path)
    assert main(["trace", "--record", record, "--identifier", tool.session_id, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["operation"] for r in rows] == ["execute", "upload", "download"]
    run, upload, download = rows
    assert run["path"] == "/code/execute" and run["api_version"] == "2024-02-02-preview"
    assert run["code"] == "x = 6 * 7\nprint('hello')\nx"
    assert (run["execution_status"], run["stdout"], run["result"]) == ("Success", "hello\n", "42")
    checksum = hashlib.sha256(data).hexdigest()
    assert (upload["file_name"], upload["file_size"], upload["file_sha256"]) == (
        "table.csv",
        8,
        checksum,
    )
    assert (download["file_size"], download["file_sha256"]) == (8, checksum)
    assert token.encode() not in recording_bytes(proxy.store.path)
