"""ShellCommand through SessionsClient against the real emulator in Shell mode, and the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dstui.api import (
    BadRequestError,
    Execution,
    ExecutionStatus,
    MalformedResponseError,
    RequestValidationError,
    RunOptions,
    SessionsClient,
    ShellCommand,
    StaticTokenProvider,
    new_identifier,
)
from dstui.api.fake_pool import FakePool
from dstui.emulator import EmulatorServer
from tests.emulator_fixtures import retry_without_waiting


@pytest.fixture
async def shell_client(shell_emulator: EmulatorServer) -> AsyncIterator[SessionsClient]:
    assert shell_emulator.token is not None
    async with SessionsClient(
        shell_emulator.endpoint,
        auth=StaticTokenProvider(shell_emulator.token),
        retry=retry_without_waiting(),
    ) as client:
        yield client


async def test_command_line_argv_and_stdin(shell_client: SessionsClient) -> None:
    identifier = new_identifier()
    failed = await shell_client.execute(identifier, ShellCommand("echo out; echo err >&2; exit 5"))
    assert (failed.exit_code, failed.status) == (5, ExecutionStatus.FAILED)
    assert (failed.stdout, failed.stderr, failed.result) == ("out\n", "err\n", None)

    argv = ShellCommand(argv=("tr", "a-z", "A-Z"), stdin="quiet words\n")
    loud = await shell_client.execute(identifier, argv)
    assert (loud.exit_code, loud.succeeded, loud.stdout) == (0, True, "QUIET WORDS\n")


async def test_asynchronous_command_is_polled_to_its_exit_code(
    shell_client: SessionsClient,
) -> None:
    polled: list[ExecutionStatus] = []
    finished = await shell_client.execute(
        new_identifier(),
        ShellCommand("sleep 0.4; exit 2"),
        RunOptions(asynchronous=True, output_max_length=100),
        on_poll=lambda e: polled.append(e.status),
    )
    assert finished.exit_code == 2
    assert polled and polled[0] is ExecutionStatus.RUNNING


async def test_python_code_in_a_shell_pool_is_refused_by_the_pool(
    shell_client: SessionsClient,
) -> None:
    with pytest.raises(BadRequestError) as refused:
        await shell_client.execute(new_identifier(), "print(1)")
    assert refused.value.code == "SessionPropertiesMissing"


async def test_a_shell_command_in_a_python_pool_is_refused(
    emulator_client: SessionsClient,
) -> None:
    with pytest.raises(BadRequestError) as refused:
        await emulator_client.execute(new_identifier(), ShellCommand("ls"))
    assert refused.value.code == "SessionRequestNotSupported"


async def test_old_api_versions_refuse_before_sending() -> None:
    fake_endpoint = "http://127.0.0.1:9"  # nothing listens: the check must come first
    async with SessionsClient(fake_endpoint, api_version="2024-02-02-preview") as client:
        with pytest.raises(RequestValidationError, match="2024-10-02-preview"):
            await client.execute("some-session", ShellCommand("ls"))
    async with SessionsClient(fake_endpoint) as client:
        with pytest.raises(RequestValidationError, match="Jupyter"):
            await client.execute(
                "some-session", ShellCommand("ls"), RunOptions(jupyter_format=True)
            )


@pytest.mark.parametrize(
    "make",
    [
        lambda: ShellCommand(),
        lambda: ShellCommand("ls", argv=("ls",)),
        lambda: ShellCommand("   "),
        lambda: ShellCommand(argv=()),
        lambda: ShellCommand(argv=("",)),
        lambda: ShellCommand("echo \x00"),
    ],
)
def test_malformed_commands_are_refused(make: object) -> None:
    with pytest.raises(RequestValidationError):
        make()  # type: ignore[operator]


def test_body_fields() -> None:
    assert ShellCommand("ls -a").body_fields() == {"shellCommand": "ls -a"}
    assert ShellCommand(argv=("ls", "-a"), stdin="x").body_fields() == {
        "execCommandAndArgs": ["ls", "-a"],
        "stdin": "x",
    }


async def test_fake_pool_follows_the_pool_type() -> None:
    shell = FakePool(session_count=1, container_type="Shell")
    identifier = (await shell.list_sessions())[0].identifier
    done = await shell.execute(identifier, ShellCommand("echo hi; exit 3"))
    assert (done.exit_code, done.stdout, done.status) == (3, "hi\n", ExecutionStatus.FAILED)
    piped = await shell.execute(identifier, ShellCommand("cat", stdin="in\n"))
    assert (piped.exit_code, piped.stdout) == (0, "in\n")
    with pytest.raises(BadRequestError, match="Shell session pool"):
        await shell.execute(identifier, "print(1)")
    python = FakePool(session_count=1)
    with pytest.raises(BadRequestError, match="Shell session pool"):
        await python.execute(identifier, ShellCommand("ls"))


@pytest.mark.parametrize("status", ["²", "٣", "9" * 5000, "0x1", "--1"])
def test_a_status_that_only_looks_like_an_exit_code_is_malformed(status: str) -> None:
    body = {"id": "e", "identifier": "i", "status": status, "result": {"stdout": "", "stderr": ""}}
    with pytest.raises(MalformedResponseError, match="unknown execution status"):
        Execution.from_json(body)


def test_exit_codes_are_read_from_ascii_digits() -> None:
    for status, code, outcome in (("0", 0, ExecutionStatus.SUCCEEDED), (" 137 ", 137, None)):
        execution = Execution.from_json({"id": "e", "identifier": "i", "status": status})
        assert execution.exit_code == code
        assert execution.status is (outcome or ExecutionStatus.FAILED)
