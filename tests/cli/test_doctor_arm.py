"""`dstui doctor`'s ARM check against `emulator --arm` (several hosted pools, each with its
own endpoint, and role assignments at their scopes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dstui.api.arm import ArmClient
from dstui.api.auth import StaticTokenProvider
from dstui.doctor.arm import make_arm_check
from dstui.doctor.claims import read_claims
from dstui.doctor.model import CheckStatus
from dstui.doctor.runner import ArmContext
from dstui.emulator import EmulatorConfig, EmulatorServer
from dstui.emulator.arm_pools import EMULATOR_PRINCIPAL_ID, EMULATOR_TENANT_ID, ArmPoolSpec
from tests.cli.conftest import MainRunner
from tests.doctor.tokens import JWT_SHAPED, OTHER_TENANT, craft_token

TOKEN = craft_token(oid=EMULATOR_PRINCIPAL_ID, tenant=EMULATOR_TENANT_ID)


@pytest.fixture(scope="module")
def arm_emulator() -> Iterator[EmulatorServer]:
    pools = [
        ArmPoolSpec(name="alpha"),
        ArmPoolSpec(name="beta", executor_scope="none"),
        ArmPoolSpec(name="gamma", resource_group="other", executor_scope="resourceGroup"),
        ArmPoolSpec(name="hidden", reader=False),  # the caller may use it, not read it in ARM
    ]
    server = EmulatorServer(
        EmulatorConfig(token=TOKEN, ready_sessions=0, cooldown_s=3600.0), arm_pools=pools
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def endpoint_of(server: EmulatorServer, name: str) -> str:
    return next(pool.endpoint for pool in server.hosted if pool.spec.name == name)


def doctor_checks(
    run_main: MainRunner, server: EmulatorServer, endpoint: str
) -> dict[str, dict[str, str]]:
    result = run_main(
        "doctor", "--auth", "token", "--endpoint", endpoint,
        "--arm-endpoint", server.arm_endpoint, "--json",
    )  # fmt: skip
    assert not JWT_SHAPED.search(result.out + result.err)
    checks = {check["id"]: check for check in json.loads(result.out)["checks"]}
    assert result.code == (1 if any(c["status"] == "fail" for c in checks.values()) else 0)
    return checks


def arm_check(run_main: MainRunner, server: EmulatorServer, endpoint: str) -> dict[str, str]:
    checks = doctor_checks(run_main, server, endpoint)
    assert checks["access"]["status"] == "ok", checks["access"]
    return checks["arm"]


@pytest.fixture
def cli(run_main: MainRunner, monkeypatch: pytest.MonkeyPatch) -> MainRunner:
    monkeypatch.setenv("DSTUI_TOKEN", TOKEN)
    return run_main


def test_the_role_on_the_pool_passes(cli: MainRunner, arm_emulator: EmulatorServer) -> None:
    check = arm_check(cli, arm_emulator, endpoint_of(arm_emulator, "alpha"))
    assert check["status"] == "ok"
    assert "pool alpha" in check["finding"] and "on the pool" in check["finding"]


def test_an_inherited_role_passes(cli: MainRunner, arm_emulator: EmulatorServer) -> None:
    check = arm_check(cli, arm_emulator, endpoint_of(arm_emulator, "gamma"))
    assert check["status"] == "ok" and "inherited from the resource group" in check["finding"]


def test_a_missing_role_fails_with_the_command_to_assign_it(
    cli: MainRunner, arm_emulator: EmulatorServer
) -> None:
    checks = doctor_checks(cli, arm_emulator, endpoint_of(arm_emulator, "beta"))
    # The pool's data plane refuses the caller, as the service does without the role ...
    assert checks["access"]["status"] == "fail" and "403" in checks["access"]["finding"]
    # ... and ARM says why: no Session Executor assignment at any scope above the pool.
    check = checks["arm"]
    assert check["status"] == "fail"
    assert f"oid {EMULATOR_PRINCIPAL_ID} does not hold" in check["finding"]
    assert "Azure ContainerApps Session Executor" in check["finding"]
    assert f"--assignee {EMULATOR_PRINCIPAL_ID}" in check["fix"]
    assert "/sessionPools/beta" in check["fix"]


def test_an_endpoint_that_is_not_the_pools_fails(
    cli: MainRunner, arm_emulator: EmulatorServer
) -> None:
    other_host = endpoint_of(arm_emulator, "alpha").replace("127.0.0.1", "localhost")
    check = arm_check(cli, arm_emulator, other_host)
    assert check["status"] == "fail" and "not the endpoint in use" in check["finding"]


def test_an_unknown_pool_fails(cli: MainRunner, arm_emulator: EmulatorServer) -> None:
    result = cli(
        "doctor", "--auth", "token", "--arm-endpoint", arm_emulator.arm_endpoint, "--json",
        "--endpoint", endpoint_of(arm_emulator, "alpha").replace("/alpha", "/nosuchpool"),
    )  # fmt: skip
    check = {c["id"]: c for c in json.loads(result.out)["checks"]}["arm"]
    assert check["status"] == "fail" and "no session pool" in check["finding"]


def test_without_arm_the_check_is_skipped_not_failed(
    cli: MainRunner, arm_emulator: EmulatorServer
) -> None:
    result = cli("doctor", "--auth", "token", "--endpoint", endpoint_of(arm_emulator, "alpha"))
    assert result.code == 0
    assert "skip  Pool resource and role (ARM)  skipped: ARM is not configured" in result.out


async def test_a_recent_assignment_and_a_403_mean_propagation(
    arm_emulator: EmulatorServer,
) -> None:
    def open_arm() -> ArmClient:
        return ArmClient(endpoint=arm_emulator.arm_endpoint, auth=StaticTokenProvider(TOKEN))

    endpoint = endpoint_of(arm_emulator, "alpha")
    claims = read_claims(TOKEN)
    soon = make_arm_check(open_arm, now=lambda: datetime.now(UTC) + timedelta(minutes=3))
    result = await soon(ArmContext(endpoint, claims, 403))
    assert result.status is CheckStatus.WARN and "propagating" in result.finding
    later = make_arm_check(open_arm, now=lambda: datetime.now(UTC) + timedelta(hours=2))
    assert (await later(ArmContext(endpoint, claims, 403))).status is CheckStatus.OK
    assert (await soon(ArmContext(endpoint, claims, None))).status is CheckStatus.OK


def test_arm_refusing_the_token_skips(
    run_main: MainRunner, monkeypatch: pytest.MonkeyPatch, arm_emulator: Any
) -> None:
    monkeypatch.setenv("DSTUI_TOKEN", "not-the-arm-token")
    result = run_main(
        "doctor", "--auth", "token", "--endpoint", endpoint_of(arm_emulator, "alpha"),
        "--arm-endpoint", arm_emulator.arm_endpoint, "--json",
    )  # fmt: skip
    check = {c["id"]: c for c in json.loads(result.out)["checks"]}["arm"]
    assert check["status"] == "skip" and "ARM refused" in check["finding"]


def test_a_profile_pool_id_is_looked_up_and_a_missing_one_explained(
    cli: MainRunner,
    arm_emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    alpha = next(pool for pool in arm_emulator.hosted if pool.spec.name == "alpha")
    missing = alpha.spec.resource_id.replace("/alpha", "/nosuchpool")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.found]\npool = "{alpha.spec.resource_id}"\nauth = "token"\n'
        f'arm_endpoint = "{arm_emulator.arm_endpoint}"\n'
        f'[profiles.lost]\npool = "{missing}"\nauth = "token"\n'
        f'arm_endpoint = "{arm_emulator.arm_endpoint}"\n'
    )
    monkeypatch.setenv("DSTUI_CONFIG", str(config))
    found = cli("doctor", "--profile", "found", "--json")
    assert found.code == 0, found.out
    assert json.loads(found.out)["ok"] is True
    lost = cli("doctor", "--profile", "lost", "--json")
    assert lost.code == 1
    endpoint = {c["id"]: c for c in json.loads(lost.out)["checks"]}["endpoint"]
    assert endpoint["status"] == "fail" and "could not be looked up in ARM" in endpoint["finding"]


async def test_the_data_plane_refuses_a_caller_without_the_role(
    arm_emulator: EmulatorServer,
) -> None:
    from dstui.api.client import SessionsClient
    from dstui.api.errors import PermissionDeniedError

    async with SessionsClient(
        endpoint_of(arm_emulator, "beta"), auth=StaticTokenProvider(TOKEN)
    ) as client:
        with pytest.raises(PermissionDeniedError) as caught:
            await client.list_sessions()
    assert caught.value.status == 403
    assert "Session Executor" in (caught.value.hint or "")
    async with SessionsClient(
        endpoint_of(arm_emulator, "alpha"), auth=StaticTokenProvider(TOKEN)
    ) as client:
        assert await client.list_sessions() == []


async def test_a_token_from_another_tenant_than_the_subscriptions_fails(
    arm_emulator: EmulatorServer,
) -> None:
    def open_arm() -> ArmClient:
        return ArmClient(endpoint=arm_emulator.arm_endpoint, auth=StaticTokenProvider(TOKEN))

    check = make_arm_check(open_arm)
    elsewhere = read_claims(craft_token(oid=EMULATOR_PRINCIPAL_ID, tenant=OTHER_TENANT))
    result = await check(ArmContext(endpoint_of(arm_emulator, "alpha"), elsewhere, 401))
    assert result.status is CheckStatus.FAIL
    assert f"tenant {OTHER_TENANT} is not the tenant {EMULATOR_TENANT_ID}" in result.finding
    assert f"az login --tenant {EMULATOR_TENANT_ID}" in result.fix
    same = read_claims(TOKEN)
    assert (await check(ArmContext(endpoint_of(arm_emulator, "alpha"), same, None))).status is (
        CheckStatus.OK
    )


def test_a_pool_the_caller_may_not_read_in_arm(
    cli: MainRunner, arm_emulator: EmulatorServer
) -> None:
    hidden = next(pool for pool in arm_emulator.hosted if pool.spec.name == "hidden")
    # ARM answers 403 AuthorizationFailed for the pool and for role assignments at its scope.
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    for path in (
        hidden.spec.resource_id,
        hidden.spec.resource_id + "/providers/Microsoft.Authorization/roleAssignments",
    ):
        answer = httpx.get(
            f"{arm_emulator.arm_endpoint}{path}",
            params={"api-version": "2025-01-01" if "Authorization" not in path else "2022-04-01"},
            headers=bearer,
            timeout=10,
        )
        assert answer.status_code == 403, path
        assert answer.json()["error"]["code"] == "AuthorizationFailed"
    # The doctor warns (the data plane still works) with ARM's Reader hint ...
    check = arm_check(cli, arm_emulator, hidden.endpoint)
    assert check["status"] == "warn" and "403" in check["finding"], check
    assert "Reader" in check["fix"]
    # ... `pools list` leaves the pool out, and `pools show` says which role is missing.
    listed = cli("pools", "list", "--auth", "token", "--arm-endpoint", arm_emulator.arm_endpoint)
    assert listed.code == 0 and "alpha" in listed.out and "hidden" not in listed.out
    shown = cli(
        "pools", "show", "hidden", "--auth", "token", "--arm-endpoint", arm_emulator.arm_endpoint,
        "--subscription", hidden.spec.subscription_id, "--resource-group", "dstui-emulator",
    )  # fmt: skip
    assert shown.code == 2, shown.err
    assert "AuthorizationFailed" in shown.err and "Reader" in shown.err
    assert "Traceback" not in shown.err and not JWT_SHAPED.search(shown.err)
