"""Requests to a custom container's own app through the pool endpoint (`?identifier=…`, any
path): the app's answer, whatever its status, with its headers and a bounded body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from dstui.api.errors import RequestValidationError

CONTAINER_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_MAX_PATH_CHARS = 2048
# A Host of the caller's could send the credential to another site behind the same address.
_RESERVED_HEADERS = frozenset(
    {"host", "authorization", "content-length", "transfer-encoding", "connection"}
)

# Query parameters as (name, value) pairs, so a name may repeat (`?tag=a&tag=b`); a mapping
# is taken too, for callers that have one value per name.
ContainerQuery = Sequence[tuple[str, str]] | Mapping[str, str]


def query_pairs(query: ContainerQuery | None) -> tuple[tuple[str, str], ...]:
    """The query as (name, value) pairs, in order, repeated names kept."""
    if query is None:
        return ()
    if isinstance(query, Mapping):
        return tuple(query.items())
    return tuple((str(name), str(value)) for name, value in query)


@dataclass(frozen=True, slots=True)
class ContainerResponse:
    status: int
    headers: Mapping[str, str]  # lowercase names; repeated ones joined with ", "
    body: bytes  # at most the requested number of bytes
    truncated: bool  # the app sent more than was kept

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def validate_container_request(
    method: str,
    path: str,
    query: ContainerQuery | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The method upper-cased and the path without its leading slash, or a clear refusal.

    The request must stay below the pool endpoint and on the session named: no `.`/`..`
    segment (they would climb out of an endpoint's own path, to another pool on the same
    host), and no `identifier` of the query's own."""
    verb = method.upper()
    if verb not in CONTAINER_METHODS:
        raise RequestValidationError(
            f"unsupported method {method[:20]!r}",
            hint=f"Use one of {', '.join(CONTAINER_METHODS)}.",
        )
    if "?" in path or "#" in path:
        raise RequestValidationError(
            "the path must not hold a query or fragment", hint="Pass query parameters separately."
        )
    if len(path) > _MAX_PATH_CHARS or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        raise RequestValidationError("the path is too long or holds control characters")
    relative = path.lstrip("/")
    if any(unquote(segment) in (".", "..") for segment in relative.split("/")):
        raise RequestValidationError(
            "the path must not hold '.' or '..' segments",
            hint="Give the app's path as it is below the pool endpoint.",
        )
    if any(name.lower() == "identifier" for name, _ in query_pairs(query)):
        raise RequestValidationError(
            "the query must not name an identifier", hint="Give the session as the identifier."
        )
    reserved = sorted({name for name in headers or {} if name.lower() in _RESERVED_HEADERS})
    if reserved:
        raise RequestValidationError(
            f"the header {reserved[0]!r} is dstui's to set",
            hint="Host names the pool endpoint, Authorization carries dstui's credential, and "
            "the framing headers follow the body.",
        )
    if relative.split("/", 1)[0] == ".management":
        raise RequestValidationError(
            "/.management/* is the pool's own API, not the app's",
            hint="Use get_session(management=True) or stop_session.",
        )
    return verb, relative
