"""The ``/mijngegevens`` summary as a PDF a young person can open and keep.

Rules of this module:

* The PDF holds exactly the lines of the summary shown in the chat, in the person's language:
  no other data, so the chat and the PDF never disagree. The JSON file stays for machines.
* Text is shaped by HarfBuzz (fpdf2's text shaping with ``uharfbuzz``): Arabic letters join and
  run right to left; Cyrillic and Turkish letters come out as typed. That needs a Unicode TTF
  font; :data:`FONT_CANDIDATES` are where Debian and most Linux systems keep DejaVu Sans
  (``fonts-dejavu-core``), which covers all six languages.
* Without such a font the PDF is still honest: it says on top that some letters cannot be shown
  and that the chat message has everything, and it leaves out what the built-in font cannot
  print instead of printing wrong letters.
* Emoji and other symbols the font lacks are left out of the PDF (they are decoration in the
  chat text).
* Nothing here logs or stores the text; the bytes go straight to the person's own chat.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from pathlib import Path

__all__ = ["FONT_CANDIDATES", "find_font", "summary_pdf"]

log = logging.getLogger(__name__)

FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/local/share/fonts/DejaVuSans.ttf"),
    Path("/Library/Fonts/DejaVuSans.ttf"),
)
_FONT = "opstap"
# Letters of the right-to-left languages we speak; a text with one of them is set right to left.
_RTL_SCRIPTS = ("ARABIC", "HEBREW")


def find_font(candidates: Sequence[Path] = FONT_CANDIDATES) -> Path | None:
    """The first Unicode font that exists, or ``None``."""
    return next((path for path in candidates if path.is_file()), None)


def _printable(text: str) -> str:
    """The text without emoji, variation selectors and other pictographs."""
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("So", "Cs", "Co", "Cn") or ch in ("\ufe0f", "\u200d"):
            continue
        kept.append(ch)
    return " ".join("".join(kept).split(" ")).strip()


def _latin1(text: str) -> str:
    return text.encode("latin-1", "ignore").decode("latin-1")


def _is_rtl(text: str) -> bool:
    return any(unicodedata.name(ch, "").startswith(_RTL_SCRIPTS) for ch in text if ch.isalpha())


def summary_pdf(
    title: str,
    lines: Sequence[str],
    *,
    rtl: bool,
    no_font_note: str,
    fonts: Sequence[Path] = FONT_CANDIDATES,
) -> bytes:
    """A one-page (or longer) PDF of ``title`` and ``lines``.

    ``no_font_note`` is printed on top when no Unicode font is available (in the person's
    language, as far as the built-in font can print it); ``fonts`` are the places to look."""
    # Imported here: fpdf2 (with fontTools) is a third of a second of every start, and only
    # /mijngegevens needs it.
    from fpdf import FPDF

    font = find_font(fonts)
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    unicode_font = font is not None
    if unicode_font:
        pdf.add_font(_FONT, fname=str(font))
        pdf.set_font(_FONT, size=16)
        pdf.set_text_shaping(True)
        clean = _printable
    else:
        pdf.set_font("helvetica", size=16)

        def clean(text: str) -> str:
            return _latin1(_printable(text))

    def write(text: str, size: int) -> None:
        shown = clean(text)
        if not shown:
            pdf.ln(size * 0.5)
            return
        right = rtl or _is_rtl(shown)
        if unicode_font:
            pdf.set_text_shaping(True, direction="rtl" if right else "ltr")
        pdf.set_font(size=size)
        pdf.multi_cell(
            0, size * 0.55, shown, align="R" if right else "L", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(size * 0.2)

    if not unicode_font:
        log.warning("export pdf without a unicode font: letters outside Latin-1 are left out")
        write(no_font_note, 10)
    write(title, 16)
    for line in lines:
        write(line, 11)
    return bytes(pdf.output())
