"""The project's client on the old shape (2024-02-02-preview) against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dstui.api import ExecutionStatus, NotFoundError, SessionsClient, StaticTokenProvider
from dstui.emulator import EmulatorServer
from tests.emulator.conftest import OLD
from tests.emulator_fixtures import retry_without_waiting


@pytest.fixture
async def old_client(emulator: EmulatorServer) -> AsyncIterator[SessionsClient]:
    assert emulator.token is not None
    async with SessionsClient(
        emulator.endpoint,
        api_version=OLD,
        auth=StaticTokenProvider(emulator.token),
        retry=retry_without_waiting(),
    ) as client:
        yield client


async def test_old_shape_round_trip(old_client: SessionsClient, ident: str, tmp_path: Path) -> None:
    assert old_client.legacy
    ran = await old_client.execute(ident, "value = 6 * 7\nprint('old')\nvalue")
    assert (ran.status, ran.stdout, ran.result) == (ExecutionStatus.SUCCEEDED, "old\n", 42)
    failed = await old_client.execute(ident, "raise ValueError('bad')")
    assert failed.status is ExecutionStatus.FAILED and "ValueError: bad" in failed.stderr
    local = tmp_path / "notes.md"
    local.write_text("# notes\n")
    uploaded = await old_client.upload_file(ident, local)
    assert (uploaded.name, uploaded.size) == ("notes.md", 8)
    assert [f.name for f in await old_client.list_files(ident)] == ["notes.md"]
    assert (await old_client.get_file(ident, "notes.md")).size == 8
    assert await old_client.read_file(ident, "notes.md") == b"# notes\n"
    await old_client.delete_file(ident, "notes.md")
    with pytest.raises(NotFoundError):
        await old_client.read_file(ident, "notes.md")
    assert (await old_client.execute(ident, "value")).result == 42
