"""`dstui proxy`: a transparent, recording reverse proxy in front of one pool endpoint.

with ProxyServer(ProxyOptions(upstream="https://...")) as proxy:
    ...  # proxy.endpoint: what an agent uses as POOL_MANAGEMENT_ENDPOINT
"""

from dstui.proxy.server import ProxyOptions, ProxyServer

__all__ = ["ProxyOptions", "ProxyServer"]
