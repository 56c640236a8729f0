"""`dstui pools list|show` and a profile naming its pool by ARM id, end to end over real HTTP
against `dstui emulator --arm` (the demo pools)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dstui.emulator import EmulatorServer
from dstui.emulator.arm_pools import DEMO_SUBSCRIPTION_ID, EMULATOR_SUBSCRIPTION_ID
from tests.arm_fixtures import arm_emulator  # noqa: F401 - a fixture
from tests.cli.conftest import MainRunner
from tests.cli.harness import Outcome

SUB = EMULATOR_SUBSCRIPTION_ID
AGENTS_ID = (
    f"/subscriptions/{SUB}/resourceGroups/dstui-demo/providers/Microsoft.App/sessionPools/agents"
)


@pytest.fixture
def cli(
    run_main: MainRunner,
    arm_emulator: EmulatorServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> MainRunner:
    """`main` with the emulator's ARM endpoint and token in the environment, no pool endpoint."""
    assert arm_emulator.token is not None
    monkeypatch.setenv("DSTUI_ARM_ENDPOINT", arm_emulator.arm_endpoint)
    monkeypatch.setenv("DSTUI_TOKEN", arm_emulator.token)
    monkeypatch.setenv("DSTUI_CONFIG", str(tmp_path / "absent.toml"))
    return run_main


def ok(result: Outcome) -> Outcome:
    assert result.code == 0, result.err
    return result


def test_pools_list_across_subscriptions(cli: MainRunner) -> None:
    table = ok(cli("pools", "list")).out.splitlines()
    assert table[0].split() == [
        "NAME",
        "RESOURCE",
        "GROUP",
        "LOCATION",
        "TYPE",
        "STATE",
        "MAX",
        "SESSIONS",
        "SUBSCRIPTION",
    ]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert set(rows) == {"agents", "notebooks", "shellbox", "webapp", "batch"}
    assert rows["shellbox"][1:4] == ["dstui-demo", "eastus", "Shell"]
    assert rows["batch"][-1] == DEMO_SUBSCRIPTION_ID


def test_pools_list_json_by_subscription_and_group(cli: MainRunner) -> None:
    data = json.loads(ok(cli("pools", "list", "--subscription", SUB, "--json")).out)
    assert [p["name"] for p in data["pools"]] == ["webapp", "agents", "notebooks", "shellbox"]
    assert data["failures"] == []
    agents = data["pools"][1]
    assert agents["maxConcurrentSessions"] == 100
    assert agents["poolManagementEndpoint"].endswith(
        "/resourceGroups/dstui-demo/sessionPools/agents"
    )
    grouped = json.loads(ok(cli("pools", "list", "--resource-group", "dstui-batch", "--json")).out)
    assert [p["name"] for p in grouped["pools"]] == ["batch"]
    assert grouped["failures"] == []  # the group exists in one subscription only: not a failure


def test_pools_show_text_and_json(cli: MainRunner) -> None:
    text = ok(cli("pools", "show", "webapp")).out
    assert "container type:  CustomContainer" in text
    assert "target port:     8080" in text
    assert "cooldown:        3600 s" in text
    data = json.loads(
        ok(cli("pools", "show", "agents", "--resource-group", "dstui-demo", "--json")).out
    )
    assert data["id"] == AGENTS_ID
    assert data["egress"] == "EgressDisabled"


def test_pools_errors_are_messages(cli: MainRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = cli("pools", "show", "ghost")
    assert missing.code == 2
    assert "no session pool called 'ghost'" in missing.err
    assert "Traceback" not in missing.err
    as_json = json.loads(cli("pools", "show", "ghost", "--json").err)
    assert as_json["error"]["status"] == 404
    monkeypatch.setenv("DSTUI_TOKEN", "a-token-arm-does-not-accept")
    refused = cli("pools", "list")
    assert refused.code == 2
    assert "the token its start-up banner printed" in refused.err  # the emulator's 401
    assert "a-token-arm-does-not-accept" not in refused.err


def test_a_profile_names_its_pool_by_arm_id(
    cli: MainRunner,
    arm_emulator: EmulatorServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'default_profile = "agents"\n[profiles.agents]\n'
        f'pool = "{AGENTS_ID}"\narm_endpoint = "{arm_emulator.arm_endpoint}"\n'
    )
    monkeypatch.setenv("DSTUI_CONFIG", str(config))
    monkeypatch.delenv("DSTUI_ARM_ENDPOINT")  # the profile's arm_endpoint is used
    shown = ok(cli("config", "show")).out
    assert f"looked up through ARM at start, for pool {AGENTS_ID}" in shown
    ok(cli("exec", "arm-profile-probe", "print(6 * 7)"))
    sessions = json.loads(ok(cli("sessions", "list", "--json")).out)
    assert "arm-profile-probe" in [s["identifier"] for s in sessions]
    # The same identifier is not in the other pool of the group: the run went to `agents`.
    other = next(h for h in arm_emulator.hosted if h.spec.name == "notebooks")
    elsewhere = json.loads(ok(cli("sessions", "list", "--json", "--endpoint", other.endpoint)).out)
    assert "arm-profile-probe" not in [s["identifier"] for s in elsewhere]


def test_a_profile_pool_must_be_a_pool_id(
    cli: MainRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    monkeypatch.setenv("DSTUI_CONFIG", str(config))
    config.write_text('[profiles.p]\npool = "agents"\n')
    refused = cli("config", "validate")
    assert refused.code == 2
    assert "profiles.p.pool" in refused.err and "ARM id" in refused.err
    config.write_text(f'[profiles.p]\npool = "{AGENTS_ID}"\nendpoint = "http://127.0.0.1:9"\n')
    both = cli("config", "validate")
    assert both.code == 2 and "not both" in both.err


def test_a_profile_pool_that_arm_does_not_know(
    cli: MainRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    gone = AGENTS_ID.replace("agents", "gone")
    config.write_text(f'default_profile = "gone"\n[profiles.gone]\npool = "{gone}"\n')
    monkeypatch.setenv("DSTUI_CONFIG", str(config))
    result = cli("sessions", "list")
    assert result.code == 2
    assert "ResourceNotFound" in result.err


def test_dstui_arm_token_wins_for_arm(
    cli: MainRunner,
    arm_emulator: EmulatorServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert arm_emulator.token is not None
    monkeypatch.setenv("DSTUI_TOKEN", "a-sessions-token-arm-refuses")
    monkeypatch.setenv("DSTUI_ARM_TOKEN", arm_emulator.token)
    listed = ok(cli("pools", "list", "--resource-group", "dstui-apps", "--json"))
    assert [p["name"] for p in json.loads(listed.out)["pools"]] == ["webapp"]
