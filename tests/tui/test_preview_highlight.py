"""File previews are highlighted by pygments (through textual.highlight) for languages that
tree-sitter has no grammar for here, which is why pygments is declared."""

from __future__ import annotations

import importlib.util

import pytest

from dstui.api.models import RemoteFile
from dstui.tui.screens.files_controller import preview_content

SAMPLES = {
    "Dockerfile": b"FROM python:3.12-slim\nRUN pip install httpx\n",
    "analysis.r": b"values <- c(1, 2, 3)\nprint(mean(values))\n",
    "Main.hs": b'main :: IO ()\nmain = putStrLn "hello"\n',
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_preview_without_a_tree_sitter_grammar_is_highlighted(name: str) -> None:
    grammar = {"Dockerfile": "dockerfile", "analysis.r": "r", "Main.hs": "haskell"}[name]
    assert importlib.util.find_spec(f"tree_sitter_{grammar}") is None
    data = SAMPLES[name]
    entry = RemoteFile(name, False, len(data), None, "text/plain")
    body = preview_content(entry, data)
    assert body.plain.rstrip() == data.decode().rstrip()
    assert len({span.style for span in body.spans}) >= 2


def test_plain_text_stays_plain() -> None:
    data = b"just some words\n"
    body = preview_content(RemoteFile("notes.txt", False, len(data), None, "text/plain"), data)
    assert body.plain.rstrip() == data.decode().rstrip()
    assert {span.style for span in body.spans} <= {"$text"}
