"""Unsigned, JWT-shaped tokens with chosen claims; the emulator accepts any fixed bearer."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

TENANT = "11111111-2222-3333-4444-555555555555"
OTHER_TENANT = "99999999-8888-7777-6666-555555555555"
OBJECT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
# Anything that looks like a JWT (header.payload.signature, base64url JSON header).
JWT_SHAPED = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")


def _part(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def craft_token(
    *,
    audience: str = "https://dynamicsessions.io",
    tenant: str = TENANT,
    expires_in_s: float = 3600.0,
    **extra: Any,
) -> str:
    now = int(time.time())
    claims = {
        "aud": audience,
        "tid": tenant,
        "oid": OBJECT_ID,
        "upn": "alice@contoso.example",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + int(expires_in_s),
        **extra,
    }
    return f"{_part({'alg': 'none', 'typ': 'JWT'})}.{_part(claims)}.c2lnbmF0dXJl"
