"""JSON for request and response bodies, through msgspec (C speed; typed decoding is used for
session pages in models.py)."""

from __future__ import annotations

import json
from typing import Any

import msgspec

JSONDecodeError = (msgspec.DecodeError, ValueError, UnicodeDecodeError)

_decoder = msgspec.json.Decoder()


def loads(data: bytes | str) -> Any:
    return _decoder.decode(data)


def dumps(value: Any) -> bytes:
    """Compact JSON as bytes."""
    try:
        return msgspec.json.encode(value)
    except UnicodeEncodeError:
        # A lone surrogate (e.g. in pasted code) has no UTF-8 form; the stdlib escapes it.
        return json.dumps(value, separators=(",", ":")).encode()
