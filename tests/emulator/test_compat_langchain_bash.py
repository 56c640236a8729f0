"""LangChain's SessionsBashTool (from PyPI, unmodified) against a Shell-mode emulator over https.

It sends `{"shellCommand": ...}` with api-version 2025-02-02-preview, reads the exit code from
`status`, uploads with `path=/mnt/data` and deletes with `DELETE /session`.
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
def test_sessions_bash_tool_runs_unmodified(
    make_emulator: Callable[..., EmulatorServer], monkeypatch: pytest.MonkeyPatch, sandbox: str
) -> None:
    server = make_emulator(tls=True, container_type="Shell", sandbox=sandbox)
    assert server.ca_file is not None and server.token is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
    token = server.token
    tool = sessions_module.SessionsBashTool(
        pool_management_endpoint=server.endpoint, access_token_provider=lambda: token
    )
    assert json.loads(tool.invoke("echo hello")) == {
        "stdout": "hello\n",
        "stderr": "",
        "exitCode": 0,
    }
    failed = json.loads(tool.invoke("```bash\nls no-such-file; exit 4\n```"))
    assert failed["exitCode"] == 4 and "no-such-file" in failed["stderr"]

    uploaded = tool.upload_file(data=io.BytesIO(b"a,b\n1,2\n"), remote_file_path="table.csv")
    assert (uploaded.filename, uploaded.size_in_bytes) == ("table.csv", 8)
    counted = json.loads(tool.invoke("wc -l < table.csv && sort -r table.csv > sorted.csv"))
    assert (counted["stdout"], counted["exitCode"]) == ("2\n", 0)
    assert sorted(f.filename for f in tool.list_files()) == ["sorted.csv", "table.csv"]
    assert tool.download_file(remote_file_path="sorted.csv").read() == b"a,b\n1,2\n"

    first_session = tool.session_id
    tool.delete_session()  # DELETE /session (2025-10-02-preview) on a background thread
    context = ssl.create_default_context(cafile=str(server.ca_file))
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.endpoint, verify=context, headers=headers) as raw:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = raw.get("/session", params={"api-version": NEW, "identifier": first_session})
            if found.status_code == 400:
                break
            time.sleep(0.05)
    assert found.json()["error"]["code"] == "SessionWithIdentifierNotFound"
    assert json.loads(tool.invoke("ls"))["stdout"] == ""  # a new session, empty /mnt/data
