"""Sandboxing: with bubblewrap a session sees only its own /mnt/data, no host homes, no network."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dstui.emulator import EmulatorServer
from tests.emulator.conftest import execute_raw

MakeEmulator = Callable[..., EmulatorServer]


async def run(client: httpx.AsyncClient, identifier: str, code: str) -> object:
    body = (await execute_raw(client, identifier, code)).json()
    assert body["status"] == "Succeeded", body["result"]["stderr"]
    return body["result"]["executionResult"]


def probe_connect(port: int) -> str:
    return (
        "import socket\ntry:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n"
        "    outcome = 'connected'\n"
        "except OSError as exc:\n"
        "    outcome = type(exc).__name__\noutcome"
    )


@pytest.mark.sandbox
async def test_sessions_cannot_see_each_other_or_the_host(
    emulator: EmulatorServer, raw: httpx.AsyncClient, ident: str, tmp_path: Path
) -> None:
    assert emulator.sandbox == "bwrap"
    other = f"{ident}-b"
    await run(raw, ident, "open('/mnt/data/secret.txt', 'w').write('only A')")
    assert emulator.state is not None
    a_dir = emulator.state.pool.sessions[ident].container.data_dir
    assert (a_dir / "secret.txt").read_text() == "only A"
    host_marker = tmp_path / "host-marker.txt"
    host_marker.write_text("host")
    seen = await run(
        raw,
        other,
        "import os\n"
        f"checks = [os.listdir('/mnt/data'), os.path.exists({str(a_dir)!r}),\n"
        f"          os.path.exists({str(host_marker)!r}), os.listdir('/home'),\n"
        "          os.path.exists(os.path.expanduser('~/.azure')), os.getcwd()]\n"
        "checks",
    )
    assert seen == "[[], False, False, [], False, '/mnt/data']"
    host_root_entries = {e for e in os.listdir("/root") if not e.startswith((".pyenv", ".ipython"))}
    inside_root = await run(raw, other, "sorted(os.listdir('/root'))")
    assert isinstance(inside_root, str)
    assert not any(repr(entry) in inside_root for entry in host_root_entries)
    hidden = await run(
        raw, other, "open('/etc/shadow').read() if os.path.exists('/etc/shadow') else ''"
    )
    assert hidden == ""


@pytest.mark.sandbox
async def test_own_pid_namespace_and_environment(raw: httpx.AsyncClient, ident: str) -> None:
    inside = await run(
        raw,
        ident,
        "import os\npids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "[len(pids) < 10, os.getppid() < 10, 'DSTUI' in str(os.environ)]",
    )
    assert inside == "[True, True, False]"
    assert str(os.getpid()) not in str(await run(raw, ident, "sorted(os.listdir('/proc'))"))


@pytest.mark.sandbox
async def test_no_network_without_egress(
    emulator: EmulatorServer, raw: httpx.AsyncClient, ident: str
) -> None:
    port = httpx.URL(emulator.endpoint).port
    assert port is not None
    outcome = await run(raw, ident, probe_connect(port))
    assert outcome != "connected"


@pytest.mark.sandbox
async def test_egress_gives_network(make_emulator: MakeEmulator, ident: str) -> None:
    server = make_emulator(egress=True, auth=False)
    port = httpx.URL(server.endpoint).port
    assert port is not None
    async with httpx.AsyncClient(base_url=server.endpoint, timeout=60) as client:
        assert await run(client, ident, probe_connect(port)) == "connected"


@pytest.mark.sandbox
def test_bwrap_mode_is_enforced(make_emulator: MakeEmulator) -> None:
    assert make_emulator(sandbox="bwrap").sandbox == "bwrap"


async def test_without_sandbox_there_is_a_loud_warning(
    make_emulator: MakeEmulator, ident: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="dstui.emulator"):
        server = make_emulator(sandbox="none", auth=False)
    assert server.sandbox == "none"
    assert "NOT isolated" in caplog.text
    async with httpx.AsyncClient(base_url=server.endpoint, timeout=60) as client:
        await run(client, ident, "open('here.txt', 'w').write('cwd')")
        listing = (
            await client.get(
                "/files", params={"api-version": "2025-10-02-preview", "identifier": ident}
            )
        ).json()
    assert [entry["name"] for entry in listing["value"]] == ["here.txt"]
