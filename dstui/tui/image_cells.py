"""An image result drawn with half-block characters: two pixels per cell, one as the
foreground of `▀` and one as its background. Any terminal with colour shows it (Textual maps
the colours down where truecolor is missing); the saved file keeps the full resolution."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content

HALF_BLOCK = "▀"
PAPER = (255, 255, 255, 255)  # transparent pixels land on white, as a plot would be printed


def image_cells(path: Path, columns: int, rows: int) -> Content | None:
    """The image at `path` scaled to fit columns × rows cells, or None if it cannot be read."""
    from PIL import Image  # ~30 ms to import: only when a run returned an image

    if columns < 1 or rows < 1:
        return None
    try:
        with Image.open(path) as source:
            source.draft("RGB", (columns, rows * 2))  # lets JPEG decode at a smaller scale
            picture = source.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    picture.thumbnail((columns, rows * 2))
    flat = Image.alpha_composite(Image.new("RGBA", picture.size, PAPER), picture).convert("RGB")
    width, height = flat.size
    rgb = flat.tobytes()  # row-major, three bytes a pixel
    lines: list[Content] = []
    for y in range(0, height, 2):
        cells = []
        for x in range(width):
            top = _hex(rgb, (y * width + x) * 3)
            if y + 1 < height:
                cells.append((HALF_BLOCK, f"{top} on {_hex(rgb, ((y + 1) * width + x) * 3)}"))
            else:
                cells.append((HALF_BLOCK, top))
        lines.append(Content.assemble(*cells))
    return Content("\n").join(lines)


def _hex(rgb: bytes, at: int) -> str:
    return "#" + rgb[at : at + 3].hex()
