"""The endpoint check without the network: a proxy in the environment, a closed port."""

from __future__ import annotations

from dstui.doctor.endpoint import check_endpoint
from dstui.doctor.model import CheckStatus


async def test_behind_a_proxy_the_endpoint_check_does_not_shake_hands_directly() -> None:
    environ = {"HTTPS_PROXY": "http://user:secret@proxy.internal:3128"}
    result, endpoint = await check_endpoint("https://localhost/pool", environ=environ)
    assert result.status is CheckStatus.OK and endpoint == "https://localhost/pool"
    assert "through the proxy http://proxy.internal:3128" in result.finding
    assert "secret" not in result.finding
    bypassed = {**environ, "NO_PROXY": "localhost"}
    direct, _ = await check_endpoint("https://localhost:9/pool", environ=bypassed, timeout_s=2)
    assert direct.status is CheckStatus.FAIL and "cannot connect" in direct.finding
