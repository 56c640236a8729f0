"""Building request URLs and resolving the links the service hands back (nextLink,
Operation-Location) without ever sending the token to another host."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import httpx

from dstui.api.errors import MalformedResponseError


def join_path(endpoint: str, path: str) -> str:
    """Endpoint plus path with exactly one `/` between (the endpoint may itself have a path)."""
    return f"{endpoint.rstrip('/')}/{path.lstrip('/')}"


def quote_segment(segment: str) -> str:
    """Percent-encode one path segment (a file name or an execution id)."""
    return quote(segment, safe="")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.scheme, url.host, port


def resolve_link(endpoint: str, link: str, required: Mapping[str, str]) -> httpx.URL:
    """Resolve an absolute or relative link against the pool endpoint and re-add any of the
    `required` query parameters it lacks (a management nextLink omits api-version).

    A relative `/x` is taken below the endpoint's own path unless it already starts with it:
    code-interpreter endpoints carry a path, and the service reports links relative to it.
    """
    base = httpx.URL(endpoint)
    try:
        url = httpx.URL(link.strip())
    except httpx.InvalidURL as exc:
        raise MalformedResponseError(f"the service sent an unusable link: {exc}") from None
    if url.is_absolute_url:
        if _origin(url) != _origin(base):
            raise MalformedResponseError(
                f"refusing to follow a link to another origin ({url.scheme}://{url.host}); "
                "the bearer token only goes to the pool endpoint"
            )
        resolved = url
    else:
        base_path = base.path.rstrip("/")
        path = url.path
        if not path.startswith("/"):
            path = f"{base_path}/{path}"
        elif base_path and not (path == base_path or path.startswith(base_path + "/")):
            path = base_path + path
        resolved = base.copy_with(path=path, query=url.query or None, fragment=None)
    for name, value in required.items():
        if name not in resolved.params:
            resolved = resolved.copy_add_param(name, value)
    return resolved
