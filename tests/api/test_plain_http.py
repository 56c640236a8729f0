"""A plain-http endpoint (loopback only) skips the CA bundle, yet could never complete TLS."""

from __future__ import annotations

import ssl

from dstui.api.requester import _ssl_verify


def test_plain_http_endpoint_loads_no_ca_bundle_and_trusts_nothing() -> None:
    context = _ssl_verify(True, plain_http=True)
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0
    assert _ssl_verify(True) is True
    assert _ssl_verify(False, plain_http=True) is False
