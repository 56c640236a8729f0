"""`dstui emulator --arm`: the ARM surface over real HTTP (what it serves, and ARM's errors for
everything else), the pools file, and the --arm options."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.emulator.arm_cli import arm_banner, arm_specs
from dstui.emulator.arm_pools import (
    EMULATOR_SUBSCRIPTION_ID,
    ArmPoolsError,
    ArmPoolSpec,
    default_specs,
    load_specs,
)
from dstui.emulator.cli import build_parser, config_from_args
from tests.arm_fixtures import arm_emulator  # noqa: F401 - a fixture

SUB = EMULATOR_SUBSCRIPTION_ID
POOLS = f"/subscriptions/{SUB}/providers/Microsoft.App/sessionPools"


def get(server: EmulatorServer, path: str, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.token}"}
    return httpx.get(server.arm_endpoint + path, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_a_pool_body_has_the_official_example_shape(arm_emulator: EmulatorServer) -> None:  # noqa: F811
    answer = get(
        arm_emulator,
        f"/subscriptions/{SUB}/resourceGroups/dstui-apps/providers/"
        "Microsoft.App/sessionPools/webapp?api-version=2025-01-01",
    )
    assert answer.status_code == 200
    example = json.loads(
        (Path(__file__).parents[1] / "api/arm_examples/SessionPools_Get.json").read_text()
    )["responses"]["200"]["body"]
    served = answer.json()
    assert set(served) <= set(example)  # no top-level field the service does not have
    assert set(served["properties"]) <= set(example["properties"])
    assert served["type"] == "Microsoft.App/sessionPools"
    assert answer.headers["x-ms-request-id"]


def test_paging_follows_absolute_next_links(arm_emulator: EmulatorServer) -> None:  # noqa: F811
    first = get(arm_emulator, f"{POOLS}?api-version=2025-01-01").json()
    assert len(first["value"]) == 2
    link = httpx.URL(first["nextLink"])
    assert link.host == "127.0.0.1" and link.params["api-version"] == "2025-01-01"
    second = get(arm_emulator, link.raw_path.decode()).json()
    assert [p["name"] for p in second["value"]] == ["shellbox", "webapp"]
    assert "nextLink" not in second
    bad = get(arm_emulator, f"{POOLS}?api-version=2025-01-01&$skiptoken=x")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "InvalidSkipToken")


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (POOLS, 400, "MissingApiVersionParameter"),
        (f"{POOLS}?api-version=2019-01-01", 400, "NoRegisteredProviderFound"),
        (
            "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.App/"
            "sessionPools?api-version=2025-01-01",
            404,
            "SubscriptionNotFound",
        ),
        (
            f"/subscriptions/{SUB}/providers/Microsoft.App/containerApps?api-version=2025-01-01",
            404,
            "InvalidResourceType",
        ),
        ("/?api-version=2025-01-01", 404, "NotFound"),
        (
            f"/subscriptions/{SUB}/resourceGroups/dstui-demo/sessionPools/agents/executions"
            "?api-version=2025-10-02-preview",
            404,
            "NotFound",
        ),  # the data plane is elsewhere
        (
            f"/subscriptions/{SUB}/resourceGroups/dstui-demo/providers/Microsoft.Authorization/"
            "roleAssignments?api-version=2022-04-01&$filter=weird()",
            400,
            "UnsupportedQuery",
        ),
        (
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
            "acdd72a7-3385-48ef-bd42-f606fba81ae7?api-version=2022-04-01",
            404,
            "RoleDefinitionDoesNotExist",
        ),
    ],
)
def test_what_arm_would_not_serve_gets_its_error_envelope(
    arm_emulator: EmulatorServer,  # noqa: F811
    path: str,
    status: int,
    code: str,
) -> None:
    answer = get(arm_emulator, path)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["message"]


def test_writes_and_missing_tokens_are_refused(arm_emulator: EmulatorServer) -> None:  # noqa: F811
    url = arm_emulator.arm_endpoint + f"{POOLS}?api-version=2025-01-01"
    put = httpx.put(url, headers={"Authorization": f"Bearer {arm_emulator.token}"}, json={})
    assert (put.status_code, put.json()["error"]["code"]) == (405, "MethodNotAllowed")
    anonymous = httpx.get(url)
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (
        401,
        "AuthenticationFailed",
    )
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    rebound = httpx.get(url, headers={"Host": "attacker.example"})
    assert rebound.status_code == 421


def test_the_pool_port_serves_no_arm_and_no_root_pool(arm_emulator: EmulatorServer) -> None:  # noqa: F811
    root = arm_emulator.endpoint.split("/subscriptions/")[0]
    headers = {"Authorization": f"Bearer {arm_emulator.token}"}
    arm_path = httpx.get(f"{root}/subscriptions?api-version=2022-12-01", headers=headers)
    assert arm_path.status_code == 404
    bare = httpx.get(f"{root}/listSessions?api-version=2025-10-02-preview", headers=headers)
    assert bare.status_code == 404
    hosted = httpx.get(
        f"{arm_emulator.endpoint}/listSessions?api-version=2025-10-02-preview", headers=headers
    )
    assert hosted.status_code == 200


def test_pools_files(tmp_path: Path) -> None:
    toml_file = tmp_path / "pools.toml"
    toml_file.write_text(
        '[[pools]]\nname = "alpha"\nresource_group = "rg-1"\nlocation = "westus2"\n'
        'max_sessions = 7\n\n[[pools]]\nname = "beta"\ncontainer_type = "Shell"\n'
        'executor_scope = "subscription"\n'
    )
    alpha, beta = load_specs(toml_file)
    assert (alpha.name, alpha.resource_group, alpha.max_sessions) == ("alpha", "rg-1", 7)
    assert (beta.container_type, beta.executor_scope) == ("Shell", "subscription")
    json_file = tmp_path / "pools.json"
    json_file.write_text(json.dumps({"pools": [{"name": "gamma", "cooldown_s": 60}]}))
    [gamma] = load_specs(json_file)
    assert gamma.cooldown_s == 60.0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("pools = []", "non-empty list 'pools'"),
        ('[[pools]]\nname = "Bad_Name"', "'name' must be 3-63 lower-case"),
        ('[[pools]]\nname = "okname"\ncolour = "red"', "unknown key 'colour'"),
        ('[[pools]]\nname = "okname"\ncontainer_type = "Java"', "'container_type' must be one of"),
        ('[[pools]]\nname = "okname"\nmax_sessions = 0', "'max_sessions' must be a whole number"),
        ('[[pools]]\nname = "okname"\n[[pools]]\nname = "okname"', "two pools are called"),
        ("not = [toml", "not valid TOML"),
        ('[[pools]]\nresource_group = "g"', "'name' is required"),
        (
            '[[pools]]\nname = "web"\ncontainer_type = "CustomContainer"\ntarget_port = 80',
            "a CustomContainer pool needs 'container_command' and 'target_port'",
        ),
        (
            '[[pools]]\nname = "okname"\ncontainer_command = "true"',
            "'container_command' and 'target_port' are for CustomContainer pools",
        ),
    ],
)
def test_a_bad_pools_file_names_the_pool_and_key(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "pools.toml"
    path.write_text(text)
    with pytest.raises(ArmPoolsError, match=problem) as refused:
        load_specs(path)
    assert str(path) in str(refused.value)


def test_the_arm_options() -> None:
    args = build_parser().parse_args(["--arm", "--pool-name", "mypool"])
    [spec] = arm_specs(args, config_from_args(args)) or []
    assert spec.name == "mypool" and spec.container_type == "PythonLTS"
    args = build_parser().parse_args(["--arm-demo"])
    assert len(arm_specs(args, config_from_args(args)) or []) == 5
    args = build_parser().parse_args([])
    assert arm_specs(args, config_from_args(args)) is None  # no --arm: nothing changes
    assert default_specs(EmulatorConfig(pool_name="Not-Valid"))[0].name == "emulator"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--arm-page-size", "0"])


def test_the_banner_exports_the_arm_endpoint(arm_emulator: EmulatorServer) -> None:  # noqa: F811
    lines, exports = arm_banner(arm_emulator)
    assert exports == [f"export DSTUI_ARM_ENDPOINT={arm_emulator.arm_endpoint}"]
    assert any("pool webapp (CustomContainer, dstui-apps, northeurope)" in line for line in lines)
    assert any("pool batch (" in line and "no Session Executor: 403" in line for line in lines)
    assert arm_banner(EmulatorServer()) == ([], [])


def test_a_spec_fills_limits_from_the_emulator_settings() -> None:
    base = EmulatorConfig(max_sessions=50, cooldown_s=90.0, ready_sessions=3, egress=True)
    first = ArmPoolSpec("first").emulator_config(base, first=True)
    other = ArmPoolSpec("other", egress=False, max_sessions=4).emulator_config(base, first=False)
    assert (first.pool_name, first.max_sessions, first.ready_sessions, first.egress) == (
        "first",
        50,
        3,
        True,
    )
    assert (other.max_sessions, other.ready_sessions, other.egress, other.cooldown_s) == (
        4,
        0,
        False,
        90.0,
    )


def test_a_bad_pools_file_stops_the_emulator_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dstui.emulator.cli import main

    path = tmp_path / "pools.json"
    path.write_text('{"pools": [{"name": "x"}]}')
    assert main(["--arm-pools", str(path), "--sandbox", "none"]) == 2
    err = capsys.readouterr().err
    assert "--arm-pools" in err and "'name' must be 3-63" in err and "Traceback" not in err
