"""`dstui emulator --container-type / --container-command / --target-port`."""

from __future__ import annotations

import pytest

from dstui.emulator import EmulatorConfig
from dstui.emulator.cli import build_parser, config_from_args, container_problem, main


def parsed(*argv: str) -> EmulatorConfig:
    return config_from_args(build_parser().parse_args(list(argv)))


def test_defaults_and_choices() -> None:
    config = parsed()
    assert (config.container_type, config.container_command) == ("PythonLTS", None)
    custom = parsed(
        "--container-type", "CustomContainer", "--container-command", "app", "--target-port", "80"
    )
    assert container_problem(custom) is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--container-type", "NodeLTS"])
    # Any case, as dstui's own --container-type takes it.
    assert parsed("--container-type", "shell").container_type == "Shell"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--container-type", "CustomContainer"), "needs --container-command and --target-port"),
        (("--target-port", "80"), "need --container-type CustomContainer"),
        (("--container-type", "Shell", "--container-command", "x"), "need --container-type"),
        (
            (
                "--container-type",
                "CustomContainer",
                "--container-command",
                " ",
                "--target-port",
                "1",
            ),
            "is empty",
        ),
    ],
)
def test_inconsistent_options_are_refused_before_starting(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--quiet"]) == 2
    assert message in capsys.readouterr().err
