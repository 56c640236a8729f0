"""The explorer follows the pool's type: --container-type, or what the first answers say;
Python-only keys say plainly that they do not apply to a Shell pool (fake pools, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.widgets import Input, TextArea

from dstui.api.errors import BadRequestError
from dstui.api.fake_pool import FakePool
from dstui.recording.run_history import RunRecord
from dstui.tui.pool_type import PoolType, parse_container_type, type_from_error
from dstui.tui.screens.container_request import ContainerRequestScreen
from dstui.tui.widgets.chrome import TopBar
from dstui.tui.widgets.output_view import render_run
from tests.tui.pilot_helpers import main_screen, run_snippet, settle
from tests.tui.pool_type_helpers import typed_app

SIZE = (120, 36)


def last_message(app: Any) -> str:
    return list(app._notifications)[-1].message


def test_the_command_line_spelling_is_the_arm_one() -> None:
    assert parse_container_type("shell") == "Shell"
    assert parse_container_type("customcontainer") == "CustomContainer"
    with pytest.raises(ValueError, match="one of PythonLTS, Shell, CustomContainer"):
        parse_container_type("java")


def test_refusals_name_the_type_they_reveal() -> None:
    custom = BadRequestError("no", status=400, code="DynamicApisNotAllowed")
    shell = BadRequestError(
        "This is a Shell session pool: send a shell command, not code.",
        status=400,
        code="SessionPropertiesMissing",
    )
    wrapping = BadRequestError("properties missing", status=400, code="SessionPropertiesMissing")
    assert type_from_error(custom) == "CustomContainer"
    assert type_from_error(shell) == "Shell"
    assert type_from_error(wrapping) is None  # the body-shape retry case says nothing
    given = PoolType.initial("PythonLTS", "Shell")
    assert (given.kind, given.source) == ("PythonLTS", "--container-type")
    assert not given.learn(custom, "the list")  # the user's word wins over an answer
    unknown = PoolType.initial(None, None)
    assert unknown.learn(custom, "the session list") and unknown.is_custom


async def test_shell_pool_runs_the_buffer_as_a_command_line(workdir: Path) -> None:
    pool = FakePool(container_type="Shell")
    app = typed_app(pool, container_type="Shell")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert main.code.border_title == "3 Shell"
        assert "Shell" in str(main.query_one(TopBar).render())
        await run_snippet(pilot, "echo hi; exit 3")
        record = main.runs.last_results[main.selected or ""]
        assert record.exit_code == 3 and "hi" in record.stdout
        shown = str(main.query_one("#output").render())
        assert "exit 3" in shown and "hi" in shown
        assert [type(code).__name__ for _, code, _ in pool.runs] == ["ShellCommand"]
        await pilot.press("escape", "v")
        await settle(pilot)
        assert "Shell pool: variables need a Python kernel" in last_message(app)


async def test_python_code_to_an_unknown_shell_pool_turns_the_pane_into_a_command_line(
    workdir: Path,
) -> None:
    pool = FakePool(container_type="Shell")
    app = typed_app(pool)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert main.code.border_title == "3 Code"
        await run_snippet(pilot, "print(1)")
        assert main.pool_type.kind == "Shell" and main.pool_type.source == "learned from a run"
        assert main.code.border_title == "3 Shell"
        await run_snippet(pilot, "echo again")
        record = main.runs.last_results[main.selected or ""]
        assert record.exit_code == 0 and "again" in record.stdout


async def test_a_custom_container_pool_has_no_list_no_runs_and_a_request_pane(
    workdir: Path,
) -> None:
    pool = FakePool(container_type="CustomContainer")
    app = typed_app(pool, container_type="CustomContainer")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert "no data-plane session list" in main.sessions.failure
        await pilot.press("3", "ctrl+r")
        await settle(pilot)
        assert not pool.runs
        await pilot.press("escape", "o", *"web-1", "enter")
        await settle(pilot)
        assert main.selected == "web-1"
        await pilot.press("R")
        await settle(pilot)
        await pilot.press(*"/api/x?page=2", "enter")
        await settle(pilot)
        shown = str(app.screen.query_one("#response").render())
        assert "200" in shown and '"path": "/api/x"' in shown and "x-fake-app" in shown
        await pilot.press("escape", "1", "ctrl+d")
        await settle(pilot)
        await pilot.press(*"1")
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot)
        assert "Stopped 1 session" in last_message(app)


async def test_a_get_sends_no_body_and_the_answer_line_keeps_the_query(workdir: Path) -> None:
    pool = FakePool(container_type="CustomContainer")
    app = typed_app(pool, container_type="CustomContainer")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(ContainerRequestScreen(pool, "web-1"))
        await settle(pilot)
        app.screen.query_one("#request-body", TextArea).text = '{"name": "typed"}'
        app.screen.query_one("#request-path", Input).value = "/hello?x=1"
        await pilot.press("enter")
        await settle(pilot)
        shown = str(app.screen.query_one("#response").render())
        assert "GET /hello?x=1" in shown
        assert '"bodyBytes": 0' in shown and "the body was not sent: GET carries none" in shown
        app.screen.query_one("#request-method", Input).value = "POST"
        await pilot.press("enter")
        await settle(pilot)
        shown = str(app.screen.query_one("#response").render())
        assert "POST /hello?x=1" in shown and '"bodyBytes": 17' in shown
        assert "not sent" not in shown


async def test_the_request_panes_title_shows_the_identifier_as_text_never_markup(
    workdir: Path,
) -> None:
    pool = FakePool(container_type="CustomContainer")
    app = typed_app(pool, container_type="CustomContainer")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(ContainerRequestScreen(pool, "web-[/]1[bold]"))  # no MarkupError
        await settle(pilot)
        title = app.screen.query_one("#request-dialog").border_title
        assert title is not None
        assert Content.from_markup(title).plain == "Request to web-[/]1[bold]'s app"


async def test_a_401_suggests_the_doctor_which_needs_a_connection(workdir: Path) -> None:
    from dstui.api.errors import AuthenticationError

    failure = AuthenticationError("the token was rejected", status=401)
    pool = FakePool(failures={"list_sessions_page": failure})
    app = typed_app(pool)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert "H runs the auth doctor" in main.status.error
        await pilot.press("H")
        await settle(pilot)
        assert "needs a real connection" in last_message(app)


async def test_argv_mode_runs_without_bash_and_says_why_a_bad_split_fails(workdir: Path) -> None:
    pool = FakePool(container_type="Shell")
    app = typed_app(pool, container_type="Shell")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await pilot.press("3", "ctrl+t")
        assert main.code.argv
        await run_snippet(pilot, "echo 'two words'")
        _, command, _ = pool.runs[-1]
        assert getattr(command, "argv", None) == ("echo", "two words")
        await run_snippet(pilot, "echo 'unclosed")
        record = main.runs.last_results[main.selected or ""]
        assert record.status == "Error" and "the argv cannot be split" in (record.error or "")
        assert len(pool.runs) == 1  # nothing was sent


async def test_argv_mode_is_only_for_shell_pools(workdir: Path) -> None:
    app = typed_app(FakePool())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3", "ctrl+t")
        await settle(pilot)
        assert not main_screen(app).code.argv
        assert "ctrl+t (argv mode) is for Shell pools" in last_message(app)


def test_the_doctor_aims_at_the_open_pool_and_holds_the_emulator_token_only_in_its_env() -> None:
    from dstui.tui.doctor_source import emulator_source

    source = emulator_source("http://127.0.0.1:9", "2025-10-02-preview", "s3cret-token")
    assert "s3cret-token" not in repr(source)
    inputs = source.inputs("http://127.0.0.1:10/subscriptions/s/resourceGroups/g/sessionPools/p")
    assert inputs.endpoint is not None and inputs.endpoint.startswith("http://127.0.0.1:10/")
    assert inputs.source.auth_kind == "token" and inputs.source.token == "s3cret-token"
    assert inputs.arm_check is None  # no ARM for the embedded emulator


def test_a_profile_may_give_the_pool_type(tmp_path: Path) -> None:
    from dstui.config import ConfigError, load_config, resolve_connection

    config_file = tmp_path / "config.toml"
    config_file.write_text(
        'default_profile = "box"\n[profiles.box]\nendpoint = "http://127.0.0.1:9"\n'
        'container_type = "Shell"\n',
        encoding="utf-8",
    )
    connection = resolve_connection(config=load_config(config_file), environ={})
    assert connection.container_type == "Shell"
    config_file.write_text('[profiles.box]\ncontainer_type = "shell"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="one of PythonLTS, Shell, CustomContainer"):
        load_config(config_file)


async def test_a_shell_pool_picked_from_arm_opens_on_a_command_line(workdir: Path) -> None:
    from dstui.tui.pool_directory import demo_directory

    directory = demo_directory()
    app = typed_app(FakePool(), container_type="CustomContainer")  # the first pool's flag only
    app.pools = directory
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert main_screen(app).pool_type.is_custom
        listing = await directory.list_pools()
        shellbox = next(pool for pool in listing.pools if pool.name == "shellbox")
        assert app.open_pool(shellbox)
        await settle(pilot)
        main = main_screen(app)
        assert (main.pool_type.kind, main.pool_type.source) == ("Shell", "ARM")
        assert main.code.border_title == "3 Shell"
        assert "· Shell" in str(main.query_one(TopBar).render())


@pytest.mark.parametrize("exit_code", [0, None], ids=["shell", "python"])
def test_program_output_shows_control_characters_escaped_never_raw(exit_code: int | None) -> None:
    record = RunRecord(
        at="2026-01-15T09:58:03Z",
        code="ls --color",
        status="Succeeded",
        stdout="\x1b[31mred\x1b[0m\ta\n50%\r100%\n",
        stderr="\x1b]0;title\x07oops\n",
        exit_code=exit_code,
    )
    shown = render_run(record, output_cap=1024).plain
    assert "\x1b" not in shown and "\r" not in shown and "\x07" not in shown
    assert "\\x1b[31mred\\x1b[0m" in shown and "50%\\r100%" in shown
    assert "\\x1b]0;title\\x07oops" in shown
    assert "\t" not in shown and "\\t" not in shown  # tabs are laid out as spaces


async def test_the_fake_custom_container_pool_refuses_what_the_service_refuses() -> None:
    pool = FakePool(container_type="CustomContainer")
    for call in (
        pool.get_pool_metadata(),
        pool.list_sessions_page(),
        pool.list_files("web-1"),
        pool.read_file("web-1", "a.txt"),
    ):
        with pytest.raises(BadRequestError) as caught:
            await call
        assert caught.value.code == "DynamicApisNotAllowed"
        assert "custom-container pool" in caught.value.hint
    assert type_from_error(caught.value) == "CustomContainer"
    assert (await pool.list_sessions_page(management=True)).sessions  # .management/ answers


async def test_the_fake_shell_pool_describes_bash_not_python() -> None:
    metadata = await FakePool(container_type="Shell").get_pool_metadata()
    assert [runtime.name for runtime in metadata.runtimes] == ["bash"]
    assert metadata.packages == () and metadata.kernel is None


async def test_the_package_count_heads_the_package_list_below_the_scrolled_details(
    workdir: Path,
) -> None:
    app = typed_app(FakePool())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "m")
        await settle(pilot)
        pane = main_screen(app).query_one("#metadata-pane")
        order = [child.id for child in pane.children]
        assert order == ["metadata-scroll", "package-count", "package-search", "package-table"]
        count = pane.query_one("#package-count").render()
        assert str(count) == "17 preinstalled packages:"


@pytest.mark.parametrize("known", [True, False], ids=["given", "learned"])
async def test_m_in_a_custom_container_pool_says_there_is_no_metadata_calmly(
    workdir: Path, known: bool
) -> None:
    pool = FakePool(container_type="CustomContainer")
    app = typed_app(pool, container_type="CustomContainer" if known else None)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2", "m")
        await settle(pilot)
        main = main_screen(app)
        assert main.pool_type.is_custom
        summary = str(main.query_one("#pool-summary").render())
        assert "CustomContainer pools have no /metadata" in summary
        assert not any("failed" in n.message for n in app._notifications)
