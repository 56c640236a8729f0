"""`--sandbox none`: code that uses the absolute path /mnt/data still reaches its session's folder.

The file contract is the same as under bubblewrap: uploads are visible to code at
/mnt/data/<name>, and what code writes there is listed and downloadable.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from dstui.emulator import EmulatorServer
from dstui.emulator.kernel_side import mnt_data
from tests.emulator.conftest import NEW, execute_raw


@pytest.fixture
async def unsandboxed(
    make_emulator: Callable[..., EmulatorServer],
) -> AsyncIterator[tuple[EmulatorServer, httpx.AsyncClient]]:
    server = make_emulator(sandbox="none", auth=False)
    assert server.sandbox == "none"
    async with httpx.AsyncClient(base_url=server.endpoint, timeout=60) as client:
        yield server, client


def params(identifier: str, **extra: str) -> dict[str, str]:
    return {"api-version": NEW, "identifier": identifier, **extra}


async def result_of(client: httpx.AsyncClient, identifier: str, code: str) -> str:
    body = (await execute_raw(client, identifier, code)).json()
    assert body["status"] == "Succeeded", body["result"]["stderr"]
    value = body["result"]["executionResult"]
    assert isinstance(value, str)
    return value


async def test_the_whole_file_contract_under_sandbox_none(
    unsandboxed: tuple[EmulatorServer, httpx.AsyncClient],
) -> None:
    _, client = unsandboxed
    ident = "contract-none"
    upload = await client.post(
        "/files", params=params(ident), files={"file": ("input.csv", b"a,b\n1,2\n")}
    )
    assert upload.status_code == 200, upload.text
    nested = await client.post(
        "/files", params=params(ident, path="in"), files={"file": ("deep.txt", b"deep")}
    )
    assert nested.status_code == 200, nested.text
    code = (
        "import json\n"
        "rows = open('/mnt/data/input.csv').read().splitlines()\n"
        "deep = open('/mnt/data/in/deep.txt').read()\n"
        "with open('/mnt/data/report.csv', 'w') as out:\n"
        "    out.write('\\n'.join(reversed(rows)))\n"
        "json.dumps([rows, deep])"
    )
    assert json.loads(await result_of(client, ident, code)) == [["a,b", "1,2"], "deep"]
    listing = (await client.get("/files", params=params(ident))).json()["value"]
    assert {(e["name"], e["type"]) for e in listing} == {
        ("input.csv", "File"),
        ("in", "Directory"),
        ("report.csv", "File"),
    }
    download = await client.get("/files/report.csv/content", params=params(ident))
    assert (download.status_code, download.content) == (200, b"1,2\na,b")


async def test_python_file_functions_see_mnt_data_like_an_agent_uses_it(
    unsandboxed: tuple[EmulatorServer, httpx.AsyncClient],
) -> None:
    server, client = unsandboxed
    ident = "functions-none"
    code = """
import glob, json, os, pathlib, shutil
from PIL import Image
os.chdir('/mnt/data')  # what AutoGen's executor does first
seen = {'cwd': os.getcwd(), 'path_cwd': str(pathlib.Path.cwd())}
pathlib.Path('/mnt/data/notes').mkdir()
pathlib.Path('/mnt/data/notes/a.txt').write_text('A')
os.makedirs('/mnt/data/x/y', exist_ok=True)
shutil.copy('/mnt/data/notes/a.txt', '/mnt/data/x/y/b.txt')
shutil.move('/mnt/data/x/y/b.txt', '/mnt/data/b.txt')
os.rename('/mnt/data/b.txt', '/mnt/data/c.txt')
os.replace('/mnt/data/c.txt', '/mnt/data/d.txt')
shutil.copytree('/mnt/data/notes', '/mnt/data/copy')
shutil.rmtree('/mnt/data/copy')
os.rmdir('/mnt/data/x/y')
open('/mnt/data/gone.txt', 'w').close()
os.remove('/mnt/data/gone.txt')
Image.new('RGB', (3, 2), 'red').save('/mnt/data/red.png')
with open('/mnt/data/d.txt', 'ab') as f:
    f.write(b'!')
os.utime('/mnt/data/d.txt', (0, 0))
os.chmod('/mnt/data/d.txt', 0o600)
import socket
listener = socket.socket(socket.AF_UNIX)
listener.bind('/mnt/data/x/s.sock')
seen['socket'] = os.path.exists('/mnt/data/x/s.sock')
import subprocess
seen['subprocess_cwd'] = subprocess.run(['ls'], cwd='/mnt/data/notes', capture_output=True,
                                        text=True).stdout.split()
listener.close()
os.remove('/mnt/data/x/s.sock')
seen.update(
    listing=sorted(os.listdir('/mnt/data')),
    scandir=sorted(e.name for e in os.scandir('/mnt/data') if e.is_file()),
    walk=[(top, sorted(dirs), sorted(files)) for top, dirs, files in os.walk('/mnt/data/notes')],
    glob=sorted(glob.glob('/mnt/data/**/*.txt', recursive=True)),
    size=os.stat('/mnt/data/d.txt').st_size,
    mtime=os.path.getmtime('/mnt/data/d.txt'),
    image=list(Image.open('/mnt/data/red.png').size),
    exists=[os.path.exists('/mnt/data'), os.path.isdir('/mnt/data/notes'),
            os.access('/mnt/data/d.txt', os.R_OK), pathlib.Path('/mnt/data/red.png').is_file()],
    resolved=str(pathlib.Path('notes/a.txt').resolve()),
    abspath=os.path.abspath('d.txt'),
)
json.dumps(seen)
"""
    seen = json.loads(await result_of(client, ident, code))
    assert seen == {
        "cwd": "/mnt/data",
        "path_cwd": "/mnt/data",
        "socket": True,
        "subprocess_cwd": ["a.txt"],
        "listing": ["d.txt", "notes", "red.png", "x"],
        "scandir": ["d.txt", "red.png"],
        "walk": [["/mnt/data/notes", [], ["a.txt"]]],
        "glob": ["/mnt/data/d.txt", "/mnt/data/notes/a.txt"],
        "size": 2,
        "mtime": 0,
        "image": [3, 2],
        "exists": [True, True, True, True],
        "resolved": "/mnt/data/notes/a.txt",
        "abspath": "/mnt/data/d.txt",
    }
    assert server.state is not None
    data_dir = server.state.pool.sessions[ident].container.data_dir
    assert (data_dir / "d.txt").read_text() == "A!"
    assert (data_dir / "red.png").stat().st_size > 0


async def test_mnt_data_reaches_only_the_sessions_own_folder(
    unsandboxed: tuple[EmulatorServer, httpx.AsyncClient],
) -> None:
    _, client = unsandboxed
    await result_of(client, "owner-a", "open('/mnt/data/a-only.txt', 'w').write('a'); ''")
    seen = await result_of(
        client,
        "owner-b",
        "import os, json\n"
        "json.dumps([os.listdir('/mnt/data'), os.path.exists('/mnt/data/a-only.txt'),\n"
        "            os.path.exists('/mnt/data/../data/a-only.txt'),\n"
        "            os.path.exists('/mnt/data2/a-only.txt'), os.getcwd()])",
    )
    assert json.loads(seen) == [[], False, False, False, "/mnt/data"]


def interpreter_with(module: str) -> str | None:
    """This interpreter or the one the venv was made from, if it can import `module`."""
    for python in dict.fromkeys([sys.executable, getattr(sys, "_base_executable", "")]):
        probe = [python, "-c", f"import {module}"] if python else []
        if probe and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
            return python
    return None


NUMPY_THROUGH_THE_MAPPING = """
import json, os, runpy, sys
runpy.run_path(sys.argv[1])["install"](sys.argv[2])
import numpy as np
a = np.arange(6).reshape(2, 3)
np.save('/mnt/data/a.npy', a)
np.savetxt('/mnt/data/a.txt', a)
np.savez('/mnt/data/a.npz', a=a)
a.tofile('/mnt/data/a.bin')
memmap = np.memmap('/mnt/data/m.dat', dtype='int64', mode='w+', shape=(3,))
memmap[:] = 1
memmap.flush()
print(json.dumps([int(np.load('/mnt/data/a.npy').sum()), float(np.loadtxt('/mnt/data/a.txt').sum()),
                  int(np.load('/mnt/data/a.npz')['a'].sum()),
                  int(np.fromfile('/mnt/data/a.bin', dtype=a.dtype).sum())]))
"""


def test_numpy_writes_and_reads_mnt_data_through_the_mapping(tmp_path: Path) -> None:
    """The kernel-side mapping (stdlib only) as a kernel runs it, in an interpreter with numpy."""
    python = interpreter_with("numpy")
    if python is None:
        pytest.skip("numpy is not installed in this interpreter or its base")
    host = tmp_path / "session"
    host.mkdir()
    done = subprocess.run(
        [python, "-c", NUMPY_THROUGH_THE_MAPPING, mnt_data.__file__, str(host)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [15, 15.0, 15, 15]
    assert sorted(p.name for p in host.iterdir()) == ["a.bin", "a.npy", "a.npz", "a.txt", "m.dat"]


DOUBLE_SLASHES = """
import json, os, runpy, sys
runpy.run_path(sys.argv[1])["install"](sys.argv[2])
open('//mnt//data//twice.txt', 'w').write('x')
print(json.dumps([os.path.exists('//mnt/data/twice.txt'), sorted(os.listdir('///mnt/data/'))]))
"""


def test_repeated_slashes_reach_the_same_folder(tmp_path: Path) -> None:
    """The kernel treats `//mnt//data` as Linux does: the same folder as /mnt/data."""
    host = tmp_path / "session"
    host.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", DOUBLE_SLASHES, mnt_data.__file__, str(host)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [True, ["twice.txt"]]
    assert (host / "twice.txt").read_text() == "x"
