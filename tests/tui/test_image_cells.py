"""Inline images: two pixels a cell, scaled into the box, unreadable files left to the path."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from dstui.tui.image_cells import HALF_BLOCK, image_cells


def _stripes(path: Path, width: int, height: int) -> Path:
    """Even pixel rows red, odd rows blue."""
    image = Image.new("RGB", (width, height))
    for y in range(height):
        for x in range(width):
            image.putpixel((x, y), (255, 0, 0) if y % 2 == 0 else (0, 0, 255))
    image.save(path)
    return path


def test_each_cell_carries_two_pixels(tmp_path: Path) -> None:
    picture = image_cells(_stripes(tmp_path / "s.png", 3, 4), columns=10, rows=10)
    assert picture is not None
    lines = picture.plain.split("\n")
    assert lines == [HALF_BLOCK * 3, HALF_BLOCK * 3]
    styles = {str(span.style) for span in picture.spans}
    assert styles == {"#ff0000 on #0000ff"}


def test_large_images_are_scaled_into_the_box(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (1000, 500), (0, 128, 0)).save(path)
    picture = image_cells(path, columns=20, rows=8)
    assert picture is not None
    lines = picture.plain.split("\n")
    assert len(lines) == 5 and all(len(line) == 20 for line in lines)  # 20 x 10 pixels


def test_transparency_lands_on_white(tmp_path: Path) -> None:
    path = tmp_path / "clear.png"
    Image.new("RGBA", (1, 2), (0, 0, 0, 0)).save(path)
    picture = image_cells(path, columns=4, rows=4)
    assert picture is not None
    assert {str(span.style) for span in picture.spans} == {"#ffffff on #ffffff"}


def test_anything_unreadable_is_none(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert image_cells(broken, columns=10, rows=10) is None
    assert image_cells(tmp_path / "missing.png", columns=10, rows=10) is None
