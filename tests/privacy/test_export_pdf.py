"""The /mijngegevens PDF: the summary's lines, shaped for Arabic, honest without a font."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import pytest

from bot.export_pdf import find_font, summary_pdf

LINES = ["• Leeftijd: 22", "• Woonplaats: Leuven", "• Geld: 🙁 Niet goed"]


def streams(pdf: bytes) -> str:
    """The decompressed content of every stream, as text (for looking for words)."""
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(match.group(1)).decode("latin-1"))
        except zlib.error:
            out.append(match.group(1).decode("latin-1"))
    return "\n".join(out)


def test_a_pdf_is_a_pdf() -> None:
    pdf = summary_pdf("📋 Dit is wat je vertelde:", LINES, rtl=False, no_font_note="-")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")


@pytest.mark.skipif(find_font() is None, reason="no DejaVu Sans on this system")
@pytest.mark.parametrize(
    ("language", "title", "line"),
    [
        ("ar", "📋 هذا ما أخبرتني به:", "• المال: 🙁 ليس جيدًا"),
        ("uk", "📋 Ось що ти розповів:", "• Гроші: 🙁 Не дуже"),
        ("tr", "📋 Bana anlattıkların:", "• Para: 🙁 İyi değil"),
    ],
)
def test_every_language_is_set_in_an_embedded_unicode_font(
    language: str, title: str, line: str
) -> None:
    pdf = summary_pdf(title, [line], rtl=language == "ar", no_font_note="-")
    assert b"/FontFile2" in pdf and b"DejaVu" in pdf  # a TrueType font, embedded
    # Shaped text is written as glyph ids (hex), not as Latin-1 text with missing letters.
    assert "?" not in re.sub(
        r"<[0-9A-Fa-f]+>", "", "".join(m for m in re.findall(r"\((.*?)\)\s*Tj", streams(pdf)))
    )


def test_without_a_unicode_font_the_pdf_says_so_and_prints_no_wrong_letters(
    tmp_path: Path,
) -> None:
    note = "Sommige letters kan ik hier niet tonen. Je chat heeft alles."
    pdf = summary_pdf(
        "📋 Dit is wat je vertelde:",
        [*LINES, "• Naam: Олена"],
        rtl=False,
        no_font_note=note,
        fonts=(),
    )
    text = streams(pdf)
    assert "Sommige letters kan ik hier niet tonen" in text
    assert "Leeftijd: 22" in text
    assert "?" not in text.split("Naam:")[1][:20]  # left out, not replaced by question marks
