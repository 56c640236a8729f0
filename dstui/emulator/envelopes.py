"""Response bodies shared by every route: the error envelope, timestamps and `$id` wrappers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from dstui.api.constants import ERROR_CODE_HEADER
from dstui.common.clock import utc_now as utc_now  # one home; kept here for importers

VALIDATION_FAILED = "SessionRequestValidationFailed"
NOT_SUPPORTED = "SessionRequestNotSupported"
SESSION_NOT_FOUND = "SessionWithIdentifierNotFound"
PROPERTIES_MISSING = "SessionPropertiesMissing"


class ResponseAborted(Exception):
    """Raised after part of a response went out, to end it by closing the connection (the
    client then sees a cut-off body); uvicorn logs no traceback for it."""


class ApiError(Exception):
    """Raised anywhere below a route; turned into the service's error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.headers = dict(headers or {})


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    payload = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    return Response(payload, status, headers=dict(headers or {}), media_type="application/json")


_MAX_MESSAGE = 2000  # a message may quote what the client sent


def error_body(code: str, message: str, target: str | None = None) -> dict[str, Any]:
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    error: dict[str, Any] = {"code": code, "message": message}
    if target is not None:
        error["target"] = target
    return {"error": error}


def error_response(error: ApiError) -> Response:
    headers = {ERROR_CODE_HEADER: error.code, **error.headers}
    return json_response(error_body(error.code, error.message, error.target), error.status, headers)


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as the service writes it."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class DollarIds:
    """Hands out the incrementing `$id` values of the old (2024-02-02-preview) envelopes."""

    def __init__(self) -> None:
        self._next = 0

    def __call__(self) -> str:
        self._next += 1
        return str(self._next)


def legacy_file_list(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """`{"$id":"1","value":[{"$id":"2","properties":{"$id":"3",...}}]}` around file entries."""
    ids = DollarIds()
    envelope: dict[str, Any] = {"$id": ids(), "value": []}
    for entry in entries:
        item_id = ids()
        envelope["value"].append({"$id": item_id, "properties": {"$id": ids(), **entry}})
    return envelope
