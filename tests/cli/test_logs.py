"""--verbose diagnostics: tokens removed, identifiers in URLs masked, handlers cleaned up."""

from __future__ import annotations

import io
import logging

from dstui.commands.logs import diagnostics

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def test_tokens_and_identifiers_are_scrubbed() -> None:
    stream = io.StringIO()
    with diagnostics(stream, verbose=True, secrets=("plain-secret-value",)):
        log = logging.getLogger("dstui.test")
        log.debug("Authorization: Bearer %s", JWT)
        log.debug("token file said plain-secret-value")
        logging.getLogger("httpx").info(
            "GET http://h/session?api-version=x&identifier=my-secret-session-id HTTP/1.1"
        )
    text = stream.getvalue()
    assert JWT not in text
    assert "plain-secret-value" not in text
    assert "my-secret-session-id" not in text
    assert "identifier=my-s…n-id" in text
    assert text.count("[redacted]") == 2


def test_quiet_runs_show_warnings_only_and_handlers_are_removed() -> None:
    stream = io.StringIO()
    log = logging.getLogger("dstui.test")
    before = list(logging.getLogger("dstui").handlers)
    with diagnostics(stream, verbose=False):
        log.info("hidden")
        log.warning("shown")
    log.warning("after the run")
    assert "hidden" not in stream.getvalue()
    assert "shown" in stream.getvalue()
    assert "after the run" not in stream.getvalue()
    assert logging.getLogger("dstui").handlers == before
