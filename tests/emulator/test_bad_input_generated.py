"""Generated bad input for the emulator's whole HTTP surface, both API shapes.

Malformed JSON and multipart, wrong types, huge and deeply nested values, path tricks, odd
api-versions, identifiers, skips, methods and headers, plus raw requests no HTTP client would
send. The cases are built deterministically (no randomness beyond a fixed seed) and sent to
one emulator. None may get a 5xx, none may hang, nothing may be logged as an error, and the
emulator must serve normal requests afterwards. Run with `-s` to see the counts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from dstui.emulator import EmulatorConfig, EmulatorServer
from tests.emulator.conftest import NEW, OLD

SESSION = "fuzz-session-0001"
TIMEOUT_S = 10.0
MIN_CASES = 500


@dataclass(frozen=True)
class Case:
    family: str
    method: str
    path: str  # as sent: already percent-encoded
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class RawCase:
    family: str
    head: bytes  # request line and headers; Host, Authorization and the blank line are added
    body: bytes = b""


# (method, path, api-version) of every route; `a.txt` stands for a file name.
ROUTES = [
    ("POST", "/executions", NEW),
    ("GET", "/executions/some-id", NEW),
    ("GET", "/files", NEW),
    ("POST", "/files", NEW),
    ("GET", "/files/a.txt", NEW),
    ("DELETE", "/files/a.txt", NEW),
    ("GET", "/files/a.txt/content", NEW),
    ("GET", "/session", NEW),
    ("DELETE", "/session", NEW),
    ("GET", "/listSessions", NEW),
    ("GET", "/metadata", NEW),
    ("POST", "/code/execute", OLD),
    ("POST", "/files/upload", OLD),
    ("GET", "/files", OLD),
    ("GET", "/files/content/a.txt", OLD),
    ("GET", "/files/a.txt", OLD),
    ("DELETE", "/files/a.txt", OLD),
    ("POST", "/.management/getSession", NEW),
    ("POST", "/.management/listSessions", OLD),
    ("POST", "/.management/stopSession", NEW),
    ("POST", "/x-dstui/interruptKernel", NEW),  # the emulator-only extension
]
WITHOUT_IDENTIFIER = {"/listSessions", "/metadata", "/.management/listSessions"}
ODD_VERSIONS = [
    "",
    "x",
    "2025-10-02",
    "2025-10-02-PREVIEW",
    "9999-12-31-preview",
    "2024-02-02-preview ",
    "\x00",
    "v" * 5_000,
    "../2025-10-02-preview",
    "2025-10-02-preview\u202e",
    "\udcff",
    "2024-02-02-preview&api-version=2025-10-02-preview",
]
ODD_IDENTIFIERS = [
    "",
    "a",
    "abc",
    "a" * 129,
    "a" * 5_000,
    "..",
    "../etc",
    "x y",
    "\x00abcd",
    "é" * 8,
    "\u202e" * 5,
    "<script>",
    "a;b;c;d",
    "a/b/c/d",
    "line\r\nbreak",
    "\udcff\udcfe\udcfd\udcfc",
]
ODD_SKIPS = ["-1", "1e3", "9" * 100, "9" * 5_000, "0x10", "\uff11", " 1", "", "1.5", "0" * 22 + "1"]
ODD_NAMES = [
    "%2e%2e",
    "%2e",
    "a%2Fb",
    "%00",
    "a%00b",
    "%ff",
    "%C3%A9" * 128,
    "n" * 255,
    "n" * 256,
    "n" * 5_000,
    "%E2%80%AE",
    "%1b%5b31m",
    "con",
    "%20",
    "a%5cb",
    "...",
    "%2A",
    "~",
    "..%2F..%2Fetc%2Fpasswd",
    "%252e%252e",
    "a%0d%0ab",
]
ODD_PATHS = [
    "..",
    "/etc",
    "/mnt/data/..",
    "/mnt/database",
    "a/../../b",
    "\x00",
    "a" * 300,
    "d/" * 600,
    "//",
    "\\",
    "/mnt/data//x",
    "~",
    "a" * 5_000,
]
ODD_VALUES: list[object] = [
    None,
    True,
    0,
    -1,
    10**20,
    1.5,
    "x",
    "",
    [],
    {},
    ["a"],
    {"a": 1},
    "é\u202e\x1b[31m",
    json.loads("[" * 60 + "]" * 60),
]
EXECUTION_FIELDS = [
    "code",
    "codeInputType",
    "executionType",
    "timeoutInSeconds",
    "outputStreamsMaxLength",
    "properties",
    "returnJupyterFormatExecutionResult",
    "shellCommand",
]
MALFORMED_JSON = [
    b"",
    b"{",
    b"}",
    b"[",
    b'{"code": }',
    b"null",
    b"true",
    b"1",
    b'"code"',
    b"[]",
    b"\xff\xfe{}",
    b'{"code": "1",}',
    b"{'code': '1'}",
    b'{"code": "\\ud800"}',
    b'{"code": "1", "timeoutInSeconds": NaN}',
    b'{"code": "1", "timeoutInSeconds": 1e999}',
    b'{"code": "1", "timeoutInSeconds": ' + b"9" * 5_000 + b"}",
    b'{"code": "1"} trailing',
    b"\x00" * 64,
    b'{"code": "1", "code": 2}',
]


def query(version: str | None, identifier: str | None = SESSION, **extra: str) -> str:
    pairs = [] if version is None else [("api-version", version)]
    if identifier is not None:
        pairs.append(("identifier", identifier))
    pairs.extend(extra.items())
    return "&".join(f"{quote(k)}={_quoted(k, v)}" for k, v in pairs)


def _quoted(key: str, value: str) -> str:
    # An api-version may smuggle a second parameter; lone surrogates become raw bytes (%FF).
    return quote(value, safe="&=" if key == "api-version" else "", errors="surrogateescape")


def route_query(path: str, version: str | None, identifier: str | None = SESSION) -> str:
    return query(version, None if path in WITHOUT_IDENTIFIER else identifier)


def version_cases() -> Iterator[Case]:
    for method, path, _ in ROUTES:
        yield Case("api-version", method, path, route_query(path, None))
        for version in ODD_VERSIONS:
            yield Case("api-version", method, path, route_query(path, version))


def identifier_cases() -> Iterator[Case]:
    for method, path, version in ROUTES:
        if path in WITHOUT_IDENTIFIER:
            continue
        yield Case("identifier", method, path, query(version, None))
        for identifier in ODD_IDENTIFIERS:
            yield Case("identifier", method, path, query(version, identifier))


def skip_cases() -> Iterator[Case]:
    for method, path in (("GET", "/listSessions"), ("POST", "/.management/listSessions")):
        for skip in ODD_SKIPS:
            yield Case("skip", method, path, query(NEW, None, skip=skip))


def json_case(route: str, version: str, body: bytes, family: str = "json") -> Case:
    headers = (("Content-Type", "application/json"),)
    return Case(family, "POST", route, query(version), headers, body)


def execution_cases() -> Iterator[Case]:
    for route, version in (("/executions", NEW), ("/code/execute", OLD)):
        for body in MALFORMED_JSON:
            yield json_case(route, version, body, "json-malformed")
        base = {"codeInputType": "Inline", "executionType": "Synchronous", "code": "1"}
        for field in EXECUTION_FIELDS:
            for value in ODD_VALUES:
                yield json_case(
                    route, version, json.dumps({**base, field: value}).encode(), "json-types"
                )
        for depth in (63, 64, 65, 1_000, 100_000):
            nested = b"[" * depth + b"]" * depth
            yield json_case(route, version, b'{"code": "1", "x": ' + nested + b"}", "json-deep")
        huge = [
            json.dumps({**base, "code": "#" + "x" * (1 << 20)}).encode(),
            json.dumps({**base, "codeInputType": "x" * 1_000_000}).encode(),
            json.dumps({**base, "pad": "x" * (17 << 20)}).encode(),
        ]
        for body in huge:
            yield json_case(route, version, body, "json-huge")
        for content_type in ("text/plain", "application/x-www-form-urlencoded"):
            headers = (("Content-Type", content_type),)
            yield Case("json-content-type", "POST", route, query(version), headers, b"code=1")
        yield Case(
            "json-headers",
            "POST",
            route,
            query(version),
            (("Content-Type", "application/json"), ("operation-id", "o" * 129)),
            json.dumps(base).encode(),
        )


def form(
    boundary: str = "fuzzboundary",
    disposition: str = 'form-data; name="file"; filename="up.txt"',
    content: bytes = b"hello",
    *,
    closed: bool = True,
) -> bytes:
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    head += "Content-Type: application/octet-stream\r\n\r\n"
    tail = f"\r\n--{boundary}--\r\n" if closed else ""
    return head.encode("utf-8", "surrogateescape") + content + tail.encode()


def multipart_bodies() -> Iterator[tuple[str, bytes]]:
    """(Content-Type, body) pairs; the default boundary is `fuzzboundary`."""
    good = "multipart/form-data; boundary=fuzzboundary"
    rng = random.Random(1009)
    yield "", form()
    yield "application/json", form()
    yield "text/plain", form()
    yield "multipart/form-data", form()
    yield "multipart/form-data; boundary=other", form()
    yield "multipart/form-data; boundary=", form()
    for length in (1, 70, 71, 256, 257, 1_000):
        boundary = "b" * length
        yield f"multipart/form-data; boundary={boundary}", form(boundary)
    yield good, form(closed=False)
    yield good, form()[:40]
    yield good, b"--fuzzboundary\r\n"
    yield good, b""
    yield good, b"preamble\r\n" + form()
    yield good, form().replace(b"\r\n", b"\n")
    yield good, form(disposition='form-data; name="file"')
    yield good, form(disposition="form-data")
    yield good, form(disposition='form-data; name="other"; filename="x"')
    yield good, form() + form()
    yield good, form(disposition="form-data; name=\"file\"; filename*=utf-8''x.txt")
    yield good, form(disposition="x" * 5_000)
    yield (
        good,
        b"".join(
            form(disposition=f'form-data; name="f{i}"', closed=False) + b"\r\n"
            for i in range(2_000)
        ),
    )
    yield good, form(content=rng.randbytes(4096) + b"\r\n--fuzzbound")
    for name in (
        "",
        ".",
        "..",
        "a/b",
        "/mnt/data/",
        "/mnt/data/deep/x.txt",
        "/etc/passwd",
        "a\\b",
        "é" * 200,
        "n" * 255,
        "n" * 256,
        "a\x00b",
        "\x1b[31mred",
        "\u202etxt.exe",
        "\udcff\udcfe",
        ".upload-x.part",
    ):
        yield good, form(disposition=f'form-data; name="file"; filename="{name}"')


def upload_cases() -> Iterator[Case]:
    for route, version in (("/files", NEW), ("/files/upload", OLD)):
        for content_type, body in multipart_bodies():
            headers = (("Content-Type", content_type),) if content_type else ()
            yield Case("multipart", "POST", route, query(version), headers, body)
        for path in ODD_PATHS:
            headers = (("Content-Type", "multipart/form-data; boundary=fuzzboundary"),)
            yield Case("upload-path", "POST", route, query(version, path=path), headers, form())


def file_name_cases() -> Iterator[Case]:
    templates = [
        ("GET", "/files/{}", NEW),
        ("GET", "/files/{}/content", NEW),
        ("DELETE", "/files/{}", NEW),
        ("GET", "/files/{}", OLD),
        ("GET", "/files/content/{}", OLD),
        ("DELETE", "/files/{}", OLD),
    ]
    for method, template, version in templates:
        for name in ODD_NAMES:
            yield Case("file-name", method, template.format(name), query(version))
    for method, path, version in [
        ("GET", "/files", NEW),
        ("GET", "/files", OLD),
        ("GET", "/files/a.txt/content", NEW),
        ("DELETE", "/files/a.txt", NEW),
    ]:
        for directory in ODD_PATHS:
            yield Case("dir-path", method, path, query(version, path=directory))
    for flag in ("yes", "TRUE", "1" * 1_000):
        yield Case("dir-path", "GET", "/files", query(NEW, recursive=flag))


def method_cases() -> Iterator[Case]:
    paths = sorted({(path, version) for _, path, version in ROUTES})[:10]
    for path, version in paths:
        for method in ("PUT", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO"):
            yield Case("method", method, path, route_query(path, version))


def header_cases() -> Iterator[Case]:
    listing = query(NEW, None)
    for host in ("evil.example", "127.0.0.1:99999", "[::1", "localhost.", "127.0.0.1.nip.io"):
        yield Case("header", "GET", "/listSessions", listing, (("Host", host),))
    for authorization in ("Bearer", "Basic eA==", "Bearer x", "bearer {token}", "Bearer  {token}"):
        yield Case("header", "GET", "/listSessions", listing, (("Authorization", authorization),))
    yield Case("header", "GET", "/listSessions", listing, (("X-Filler", "x" * 8_000),))


RAW_REQUESTS = [
    b"GET /files/../../etc/passwd?api-version={new}&identifier={session} HTTP/1.1\r\n",
    b"GET /files/%zz/content?api-version={new}&identifier={session} HTTP/1.1\r\n",
    b"GET http://evil.example/listSessions?api-version={new} HTTP/1.1\r\n",
    b"GET /files/\xff\xfe?api-version={new}&identifier={session} HTTP/1.1\r\n",
    b"GET /listSessions?api-version={new}&" + b"p=1&" * 4_000 + b" HTTP/1.1\r\n",
    b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n",
    b"POST /executions?api-version={new}&identifier={session} HTTP/1.1\r\nContent-Length: abc\r\n",
    b"GET / HTTP/1.1\r\n",
    b"GET /listSessions?api-version={new} HTTP/1.0\r\n",
    b"GET /listSessions\x00?api-version={new} HTTP/1.1\r\n",
    b"GET /listSessions?api-version={new} HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 500,
    b"\r\n\r\n\r\n",
    b"GET /files/%C0%AE%C0%AE/content?api-version={new}&identifier={session} HTTP/1.1\r\n",
]


CHUNKED_EXECUTION = (
    b"POST /executions?api-version={new}&identifier={session} HTTP/1.1\r\n"
    b"Transfer-Encoding: chunked\r\n"
)
RAW_BODIES = [
    (CHUNKED_EXECUTION, b"zz\r\n"),
    (CHUNKED_EXECUTION + b"Content-Length: 3\r\n", b"3\r\nabc\r\n0\r\n\r\n"),
    (CHUNKED_EXECUTION, b"3\r\nabcdef\r\n0\r\n\r\n"),
]


def _filled(template: bytes) -> bytes:
    return template.replace(b"{new}", NEW.encode()).replace(b"{session}", SESSION.encode())


def raw_cases() -> Iterator[RawCase]:
    for template in RAW_REQUESTS:
        yield RawCase("raw", _filled(template))
    for template, body in RAW_BODIES:
        yield RawCase("raw", _filled(template), body)


def all_cases() -> list[Case | RawCase]:
    generators = (
        version_cases,
        identifier_cases,
        skip_cases,
        execution_cases,
        upload_cases,
        file_name_cases,
        method_cases,
        header_cases,
        raw_cases,
    )
    return [case for generator in generators for case in generator()]


@pytest.fixture(scope="module")
def fuzz_emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(EmulatorConfig(ready_sessions=0, cooldown_s=3600.0))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_generation_is_deterministic_and_large_enough() -> None:
    first, second = all_cases(), all_cases()
    assert first == second
    assert len(first) >= MIN_CASES
    families = Counter(case.family for case in first)
    assert len(families) >= 15


async def send(client: httpx.AsyncClient, server: EmulatorServer, case: Case) -> int:
    headers = {"Authorization": f"Bearer {server.token}"}
    for name, value in case.headers:
        headers[name] = value.replace("{token}", server.token or "")
    url = f"{server.endpoint}{case.path}" + (f"?{case.query}" if case.query else "")
    response = await client.request(case.method, url, headers=headers, content=case.body)
    enveloped = response.headers.get("content-type") == "application/json"
    if response.status_code >= 400 and enveloped and case.method != "HEAD":
        error = response.json()["error"]
        assert error["code"] and error["message"], response.text
    return response.status_code


async def send_raw(server: EmulatorServer, case: RawCase) -> int:
    url = httpx.URL(server.endpoint)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        request = case.head
        if request.strip():
            request += f"Host: {url.host}:{url.port}\r\n".encode()
            request += f"Authorization: Bearer {server.token}\r\n\r\n".encode()
        writer.write(request + case.body)
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
    if not status_line:
        return 0  # the server closed the connection without an answer: allowed for garbage
    return int(status_line.split()[1])


async def test_no_bad_input_gets_a_5xx_or_hangs(
    fuzz_emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="dstui.emulator")
    cases = all_cases()
    statuses: Counter[str] = Counter()
    per_family: Counter[str] = Counter()
    seconds: defaultdict[str, float] = defaultdict(float)
    failures: list[str] = []
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        for case in cases:
            per_family[case.family] += 1
            started = time.monotonic()
            try:
                if isinstance(case, RawCase):
                    status = await asyncio.wait_for(send_raw(fuzz_emulator, case), TIMEOUT_S)
                else:
                    status = await send(client, fuzz_emulator, case)
            except (httpx.TimeoutException, TimeoutError):
                failures.append(f"hung: {case}"[:300])
                continue
            seconds[case.family] += time.monotonic() - started
            statuses[str(status)[:1] + "xx" if status else "closed"] += 1
            if status >= 500:
                failures.append(f"{status}: {case}"[:300])
        print(f"\n{len(cases)} bad-input cases; by family: {dict(sorted(per_family.items()))}")
        print(f"answers: {dict(sorted(statuses.items()))}")
        slowest = sorted(seconds.items(), key=lambda item: -item[1])
        print(f"seconds: { {family: round(s, 2) for family, s in slowest} }")
        assert failures == [], "\n".join(failures[:20])
        errors = [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == []
        # The parser's own warnings would reach stderr (logging's last resort) for each one.
        assert not [r for r in caplog.records if r.name.startswith("python_multipart")]
        # Still a working pool: a normal execution and a file round trip, on both shapes.
        headers = {"Authorization": f"Bearer {fuzz_emulator.token}"}
        base = fuzz_emulator.endpoint
        ran = await client.post(
            f"{base}/executions?{query(NEW, 'after-fuzz')}", headers=headers, json={"code": "6*7"}
        )
        assert ran.json()["result"]["executionResult"] == 42
        legacy = await client.post(
            f"{base}/code/execute?{query(OLD, 'after-fuzz')}",
            headers=headers,
            json={"properties": {"code": "print('ok')"}},
        )
        assert legacy.json()["properties"]["stdout"] == "ok\n"
        put = await client.post(
            f"{base}/files?{query(NEW, 'after-fuzz')}",
            headers=headers,
            files={"file": ("after.txt", b"still fine")},
        )
        assert put.status_code == 200
        got = await client.get(
            f"{base}/files/after.txt/content?{query(NEW, 'after-fuzz')}", headers=headers
        )
        assert got.content == b"still fine"
