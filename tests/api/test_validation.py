"""Client-side checks: identifiers, endpoints, paths, names, timeouts."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from dstui.api import (
    RequestValidationError,
    mask_identifier,
    new_identifier,
    normalize_endpoint,
    normalize_remote_path,
    validate_identifier,
    validate_remote_name,
    validate_timeout,
)
from dstui.api.constants import IDENTIFIER_RE, uses_legacy_shape
from dstui.api.downloads import resolve_destination
from dstui.api.run_options import RunOptions
from dstui.api.validation import is_loopback_endpoint, validate_api_version
from tests.api.conftest import make_client, queue


@pytest.mark.parametrize(
    "identifier",
    [
        "abcd",
        "a" * 128,
        "user-123",
        "lab-0f8fad5b-d9cb-469f-a165-70867728950e",
        "x|-&^%$#(){}[];<>",  # the documented set
        "a_b.c@d:e!f~g+h=i?j/k,l'm\"n`o*",  # the 2025-10 swagger additions
    ],
)
def test_valid_identifiers(identifier: str) -> None:
    assert validate_identifier(identifier) == identifier


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        ("abc", "3 characters"),
        ("a" * 129, "129 characters"),
        ("", "0 characters"),
        ("has space", "' '"),
        ("tab\there", "'\\t'"),
        ("ümlaut", "'ü'"),
        ("line\n", "'\\n'"),
    ],
)
def test_invalid_identifiers_have_clear_messages(identifier: str, message: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        validate_identifier(identifier)
    assert message in str(caught.value)
    assert "4-128 characters" in caught.value.hint


async def test_bad_identifier_is_refused_before_sending() -> None:
    recorder = queue()
    async with make_client(recorder) as client:
        with pytest.raises(RequestValidationError):
            await client.execute("no", "print(1)")
        with pytest.raises(RequestValidationError):
            await client.list_files("white space")
    assert recorder.sent == []


def test_new_identifiers_are_unique_and_valid() -> None:
    made = {new_identifier() for _ in range(100)}
    assert len(made) == 100
    assert all(IDENTIFIER_RE.match(i) and i.startswith("dstui-") for i in made)


def test_mask_identifier() -> None:
    assert mask_identifier("abcdefghijklmnop") == "abcd…mnop"
    assert mask_identifier("short") == "s…"
    assert "abcdefghijkl" not in mask_identifier("abcdefghijklmnop")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://pool.example.io/", "https://pool.example.io"),
        ("https://pool.example.io/python/execute", "https://pool.example.io"),
        (
            "https://eastus.dynamicsessions.io/subscriptions/s/resourceGroups/r/sessionPools/p/",
            "https://eastus.dynamicsessions.io/subscriptions/s/resourceGroups/r/sessionPools/p",
        ),
        ("  HTTPS://Pool.Example.io/a/python/execute/  ", "https://Pool.Example.io/a"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.8.9.10", "http://127.8.9.10"),
        ("http://localhost:5000/", "http://localhost:5000"),
        ("http://[::1]:5000", "http://[::1]:5000"),
    ],
)
def test_endpoint_normalisation(given: str, expected: str) -> None:
    assert normalize_endpoint(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("http://pool.example.io", "refusing plain http"),
        ("http://10.0.0.1", "refusing plain http"),
        ("ftp://pool.example.io", r"http\(s\) URL"),
        ("pool.example.io", r"http\(s\) URL"),
        ("", "no pool management endpoint"),
        ("https://user:pw@pool.example.io", "credentials"),
        ("https://pool.example.io/?api-version=1", "query"),
        ("https://pool.example.io:99999", "not a valid URL"),
        ("https://[::1", "not a valid URL"),
        ("https://256.256.256.256", "not a valid URL"),
    ],
)
def test_bad_endpoints_are_refused(given: str, message: str) -> None:
    with pytest.raises(RequestValidationError, match=message) as caught:
        normalize_endpoint(given)
    assert caught.value.hint


def test_obsolete_audience_host_warns() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert normalize_endpoint("https://x.acasessions.io/") == "https://x.acasessions.io"
    assert any("acasessions.io" in str(w.message) for w in caught)


def test_loopback_detection() -> None:
    assert is_loopback_endpoint("http://127.0.0.1:1")
    assert is_loopback_endpoint("http://[::1]:1")
    assert not is_loopback_endpoint("https://128.0.0.1")
    assert not is_loopback_endpoint("https://localhost.evil.example")
    assert not is_loopback_endpoint("https://[::1")  # not a URL: for normalize_endpoint to say


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", ""),
        ("/mnt/data", ""),
        ("/mnt/data/", ""),
        ("/mnt/data/a/b", "a/b"),
        ("/mnt/data//a", "a"),
        ("a//b/./c/", "a/b/c"),
        ("mnt/database", "mnt/database"),
    ],
)
def test_remote_paths(path: str, expected: str) -> None:
    assert normalize_remote_path(path) == expected


@pytest.mark.parametrize("path", ["/", "/etc", "//etc", "/tmp", "/mnt", "/mnt/dataX", "/x/y"])
def test_absolute_paths_outside_the_mount_are_refused(path: str) -> None:
    with pytest.raises(RequestValidationError, match="outside /mnt/data") as caught:
        normalize_remote_path(path)
    assert "/mnt/data/results" in caught.value.hint


def test_names_and_paths_over_the_linux_limits_are_refused() -> None:
    with pytest.raises(RequestValidationError, match="255"):
        validate_remote_name("a" * 100_000)
    with pytest.raises(RequestValidationError, match="255"):
        validate_remote_name("é" * 128)  # 256 bytes in UTF-8
    assert validate_remote_name("a" * 255)
    with pytest.raises(RequestValidationError, match="4096"):
        normalize_remote_path("d/" * 50_000)
    with pytest.raises(RequestValidationError, match="255"):
        normalize_remote_path("ok/" + "d" * 256)


@pytest.mark.parametrize("path", ["a/../b", "..", "/mnt/data/..", "a\x00b", "a\\b"])
def test_bad_remote_paths(path: str) -> None:
    with pytest.raises(RequestValidationError):
        normalize_remote_path(path)


@pytest.mark.parametrize("name", ["", " ", "a/b", "a\\b", "..", ".", "x\x00"])
def test_bad_remote_names(name: str) -> None:
    with pytest.raises(RequestValidationError):
        validate_remote_name(name)


def test_good_remote_names() -> None:
    for name in ("a.txt", "..hidden", "with space.csv", "ü.png"):
        assert validate_remote_name(name) == name


@pytest.mark.parametrize("value", [0, 221, -1, 2.5, True, "60"])
def test_bad_timeouts(value: object) -> None:
    with pytest.raises(RequestValidationError):
        validate_timeout(value)  # type: ignore[arg-type]


def test_api_versions() -> None:
    assert uses_legacy_shape("2024-02-02-preview")
    assert uses_legacy_shape("2024-08-02-preview")
    assert not uses_legacy_shape("2024-10-02-preview")
    assert not uses_legacy_shape("2025-10-02-preview")
    with pytest.raises(RequestValidationError, match="not an api-version"):
        validate_api_version("latest")


async def test_client_level_checks_refuse_before_sending(tmp_path: Path) -> None:
    recorder = queue()
    async with make_client(recorder, api_version="2024-08-02-preview") as legacy:
        with pytest.raises(RequestValidationError, match="no execution resources"):
            await legacy.get_execution("abcd-1", "exec-1")
    async with make_client(recorder) as client:
        with pytest.raises(RequestValidationError, match="max_bytes"):
            await client.read_file("abcd-1", "f.txt", max_bytes=-1)
        with pytest.raises(RequestValidationError, match="not a regular file"):
            await client.upload_file("abcd-1", tmp_path)
        with pytest.raises(RequestValidationError, match="output length cap"):
            await client.execute("abcd-1", "x", RunOptions(output_max_length=0))
        with pytest.raises(RequestValidationError, match="execution id"):
            await client.get_execution("abcd-1", "")
    assert recorder.sent == []


@pytest.mark.parametrize(
    ("api_version", "timeout", "message"),
    [("latest", 30.0, "not an api-version"), ("2025-10-02-preview", 0.0, "timeout")],
)
def test_client_constructor_checks(api_version: str, timeout: float, message: str) -> None:
    with pytest.raises(RequestValidationError, match=message):
        make_client(queue(), api_version=api_version, timeout=timeout)


def test_unusable_ca_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate")
    for ca_file in (tmp_path / "missing.pem", not_pem):
        with pytest.raises(RequestValidationError, match="cannot use the CA file") as caught:
            make_client(queue(), verify=str(ca_file))
        assert str(ca_file) in caught.value.message
        assert "--ca-file" in caught.value.hint


def test_an_unknown_users_home_is_a_clear_error() -> None:
    with pytest.raises(RequestValidationError, match="no such user"):
        resolve_destination(Path("~no-such-user-dstui/x.txt"), "x.txt", overwrite=False)
