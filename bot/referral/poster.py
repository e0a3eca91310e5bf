"""A referral link as a QR code for a poster or flyer: PNG and SVG, with a one-line caption.

Rules of this module:

* The QR code is segno's (error correction M, a quiet zone of four modules, as the standard
  asks); both files are built from the same module matrix, so they always encode the same link.
* The caption is one line under the code, in the poster's language, never the link itself (the
  code is what a phone reads). A caption too long for the width is set smaller, then cut with
  "…"; in the PNG it uses DejaVu Sans when the system has it (:func:`bot.export_pdf.find_font`),
  else Pillow's own font.
* The files are written as ``<dir>/<code>.png`` and ``<dir>/<code>.svg``; nothing else is read
  or written.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from bot.export_pdf import find_font

SCALE = 12  # pixels per module in the PNG
BORDER = 4  # modules of quiet zone
CAPTION_SIZE = 28  # pixels, the largest the caption is set in the PNG
MIN_CAPTION_SIZE = 12


@dataclass(frozen=True)
class Poster:
    png: Path
    svg: Path


def _matrix(link: str) -> list[list[bool]]:
    qr = segno.make(link, error="m", micro=False)
    return [[bool(cell) for cell in row] for row in qr.matrix_iter(scale=1, border=BORDER)]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = find_font()
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _fit(caption: str, width: int) -> tuple[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    """The caption and a font in which it fits ``width`` pixels on one line."""
    text = " ".join(caption.split())
    for size in range(CAPTION_SIZE, MIN_CAPTION_SIZE - 1, -2):
        font = _font(size)
        if font.getlength(text) <= width:
            return text, font
    font = _font(MIN_CAPTION_SIZE)
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…", font


def png_bytes(link: str, caption: str) -> Image.Image:
    """The poster image: the code, and the caption under it."""
    matrix = _matrix(link)
    side = len(matrix) * SCALE
    band = CAPTION_SIZE * 2
    image = Image.new("L", (side, side + band), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle(
                    (x * SCALE, y * SCALE, (x + 1) * SCALE - 1, (y + 1) * SCALE - 1), fill=0
                )
    margin = BORDER * SCALE
    text, font = _fit(caption, side - 2 * margin)
    width = font.getlength(text)
    draw.text(((side - width) / 2, side + band / 4 - SCALE), text, fill=0, font=font)
    return image


def svg_text(link: str, caption: str) -> str:
    """The poster as SVG: one path of the dark modules, and the caption as text."""
    matrix = _matrix(link)
    side = len(matrix)
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < side:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < side and row[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    band = 4
    # One line: the caption shrinks with its length (an SVG viewer has no font metrics here).
    size = min(2.0, (side - 2 * BORDER) * 1.8 / max(len(caption), 1))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side + band}"'
        f' width="{side * 10}" height="{(side + band) * 10}">'
        f'<rect width="{side}" height="{side + band}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/>'
        f'<text x="{side / 2}" y="{side + band / 2}" text-anchor="middle"'
        f' font-family="DejaVu Sans, Arial, sans-serif" font-size="{size:.2f}"'
        f' fill="#000">{html.escape(" ".join(caption.split()))}</text>'
        "</svg>\n"
    )


def write_poster(out_dir: Path, code: str, link: str, caption: str) -> Poster:
    """``<out_dir>/<code>.png`` and ``.svg`` (the directory is made when missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{code}.png", out_dir / f"{code}.svg"
    png_bytes(link, caption).save(png, format="PNG", optimize=True)
    svg.write_text(svg_text(link, caption), encoding="utf-8")
    return Poster(png, svg)
