"""Fixed facts of the dynamic-sessions data-plane API (see the HTTP contract, §1-§6)."""

from __future__ import annotations

import re
from datetime import date

DEFAULT_API_VERSION = "2025-10-02-preview"
KNOWN_API_VERSIONS = (
    "2024-02-02-preview",
    "2024-08-02-preview",
    "2024-10-02-preview",
    "2025-02-02-preview",
    "2025-10-02-preview",
)

# Versions up to this date use `code/execute`, `files/upload` and the `properties` envelopes.
_LAST_LEGACY_VERSION = date(2024, 8, 2)
# First version with /session, /listSessions and /metadata.
_FIRST_SESSION_MANAGEMENT_VERSION = date(2025, 2, 2)
# First version with outputStreamsMaxLength and recursive file listing.
_FIRST_OUTPUT_CAP_VERSION = date(2025, 10, 2)

_API_VERSION_RE = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})(?:-preview)?\Z")

TOKEN_SCOPE = "https://dynamicsessions.io/.default"
TOKEN_AUDIENCE = "https://dynamicsessions.io"
OBSOLETE_AUDIENCE_HOST = "acasessions.io"

MIN_EXECUTION_TIMEOUT_S = 1
MAX_EXECUTION_TIMEOUT_S = 220
DEFAULT_EXECUTION_TIMEOUT_S = 60
DEFAULT_OUTPUT_MAX_LENGTH = 4096
MAX_UPLOAD_BYTES = 128 * 1024 * 1024
SESSIONS_PAGE_SIZE = 300

IDENTIFIER_MIN_LENGTH = 4
IDENTIFIER_MAX_LENGTH = 128
# Union of the documented charset (alphanumerics and | - & ^ % $ # ( ) { } [ ] ; < >) and the
# 2024-10/2025-10 swagger pattern, which is a superset of it.
IDENTIFIER_CHARSET = r"A-Za-z0-9_|{}\[\]:\";'<>?/.,@#$%^&*()\-+=!~`"
IDENTIFIER_RE = re.compile(
    rf"\A[{IDENTIFIER_CHARSET}]{{{IDENTIFIER_MIN_LENGTH},{IDENTIFIER_MAX_LENGTH}}}\Z"
)

MOUNT_ROOT = "/mnt/data"
# Linux limits (NAME_MAX, PATH_MAX): longer names fail in the session, or in the URL on the way.
NAME_MAX_BYTES = 255
PATH_MAX_BYTES = 4096

TIMING_HEADERS = (
    "x-ms-overall-execution-time",
    "x-ms-preparation-time",
    "x-ms-execution-request-time",
    "x-ms-execution-read-response-time",
    "x-ms-total-execution-service-time",
    "x-ms-container-execution-duration",
    "x-ms-allocation-time",
    "x-ms-allocation-retries",
    "x-ms-new-allocation",
)
SESSION_GUID_HEADER = "x-ms-session-guid"
OPERATION_ID_HEADER = "operation-id"
OPERATION_LOCATION_HEADER = "operation-location"
ERROR_CODE_HEADER = "x-ms-error-code"
REQUEST_ID_HEADERS = ("x-ms-request-id", "x-ms-client-request-id")

SESSION_PROPERTIES_MISSING = "SessionPropertiesMissing"
SESSION_NOT_FOUND_CODE = "SessionWithIdentifierNotFound"


def api_version_date(api_version: str) -> date:
    """The date in an api-version; ValueError unless it reads `YYYY-MM-DD[-preview]`."""
    match = _API_VERSION_RE.match(api_version)
    if match is None:
        raise ValueError(f"not an api-version (expected YYYY-MM-DD[-preview]): {api_version!r}")
    year, month, day = (int(part) for part in match.groups())
    return date(year, month, day)


def uses_legacy_shape(api_version: str) -> bool:
    """True for versions up to 2024-08-02-preview (the `code/execute` shape)."""
    return api_version_date(api_version) <= _LAST_LEGACY_VERSION


def supports_session_management(api_version: str) -> bool:
    """True when `/session`, `/listSessions` and `/metadata` exist (2025-02-02-preview on)."""
    return api_version_date(api_version) >= _FIRST_SESSION_MANAGEMENT_VERSION


def supports_output_cap(api_version: str) -> bool:
    """True when `outputStreamsMaxLength` and `recursive` exist (2025-10-02-preview on)."""
    return api_version_date(api_version) >= _FIRST_OUTPUT_CAP_VERSION


# Azure ContainerApps Session Executor (built-in role): the data plane needs it on the pool.
SESSION_EXECUTOR_ROLE_ID = "0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0"
SESSION_EXECUTOR_ROLE_NAME = "Azure ContainerApps Session Executor"
# The service's error code for the session and file APIs on a custom-container pool.
DYNAMIC_APIS_NOT_ALLOWED = "DynamicApisNotAllowed"
