"""A real framework client from PyPI, unmodified, against the emulator over https.

LangChain's SessionsPythonREPLTool speaks the old shape (2024-02-02-preview) and deletes
sessions with `DELETE /session` (2025-10-02-preview).
"""

from __future__ import annotations

import io
import json
import ssl
import time
from collections.abc import Callable

import httpx
import pytest

from dstui.emulator import EmulatorServer
from tests.emulator.conftest import NEW

sessions_module = pytest.importorskip(
    "langchain_azure_dynamic_sessions",
    reason="needs the compat extra: pip install 'dstui[compat]'",
)

pytestmark = pytest.mark.compat


@pytest.mark.parametrize("sandbox", ["auto", "none"])
def test_sessions_python_repl_tool_runs_unmodified(
    make_emulator: Callable[..., EmulatorServer], monkeypatch: pytest.MonkeyPatch, sandbox: str
) -> None:
    server = make_emulator(tls=True, ready_sessions=1, sandbox=sandbox)
    assert server.ca_file is not None and server.token is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
    token = server.token
    tool = sessions_module.SessionsPythonREPLTool(
        pool_management_endpoint=server.endpoint, access_token_provider=lambda: token
    )
    content = json.loads(tool.invoke("import math\nx = 6 * 7\nprint('hello')\nx"))
    assert content == {"result": 42, "stdout": "hello\n", "stderr": ""}
    failed = tool.execute("1/0")
    assert failed["status"] == "Failure" and "ZeroDivisionError" in failed["stderr"]

    uploaded = tool.upload_file(data=io.BytesIO(b"a,b\n1,2\n"), remote_file_path="table.csv")
    assert (uploaded.filename, uploaded.size_in_bytes) == ("table.csv", 8)
    assert [f.filename for f in tool.list_files()] == ["table.csv"]
    assert tool.download_file(remote_file_path="table.csv").read() == b"a,b\n1,2\n"
    assert json.loads(tool.invoke("open('/mnt/data/table.csv').read()"))["result"] == "a,b\n1,2\n"

    first_session = tool.session_id
    tool.delete_session()  # DELETE /session on a background thread
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(
        base_url=server.endpoint,
        verify=ssl.create_default_context(cafile=str(server.ca_file)),
        headers=headers,
    ) as raw:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = raw.get("/session", params={"api-version": NEW, "identifier": first_session})
            if found.status_code == 400:
                break
            time.sleep(0.05)
    assert found.json()["error"]["code"] == "SessionWithIdentifierNotFound"
    assert tool.session_id != first_session
