"""Belgian phone numbers and e-mail addresses, checked without any I/O.

Rules of this module:

* A function returns the normalised value, or ``None`` when the text is not a usable address.
  It never guesses a country: only Belgian numbers are accepted, because the coach calls from
  a Belgian line and a foreign number would fail silently.
* Phone numbers are stored as E.164 (``+32470123456``) and shown in the national format
  (``0470 12 34 56``).
* Service numbers (070, 077, 078, 0800, 090x) are refused: a coach cannot reach a person there.
* Digits in any script count (Arabic-Indic ``٠٤٧٠``), because people type with their own
  keyboard.
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s./\-()]+")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_MOBILE_THIRD = frozenset("56789")  # 0456, 046x .. 049x
_LIEGE_THIRD = frozenset("1234")  # 04 xxx xx xx landlines; 045-049 are mobile
_LANDLINE_SECOND = frozenset("12356789")  # 02 Brussels, 03 Antwerp, 09 Ghent, 01x, 05x ...


def ascii_digits(text: str) -> str:
    """Every decimal digit in any script as an ASCII digit; other characters unchanged."""
    out = []
    for ch in text:
        value = unicodedata.decimal(ch, None)
        out.append(str(value) if value is not None and not ch.isascii() else ch)
    return "".join(out)


def normalise_phone(text: str) -> str | None:
    """``"0470 12 34 56"``, ``"+32 470 12.34.56"``, ``"0032470123456"`` -> ``"+32470123456"``."""
    raw = ascii_digits(text.strip())
    # "+32 (0)470 ..." writes the trunk zero in brackets: drop it before removing brackets.
    raw = raw.replace("(0)", "")
    raw = _SEPARATORS.sub("", raw)
    if raw.startswith("+32"):
        national = "0" + raw[3:]
    elif raw.startswith("0032"):
        national = "0" + raw[4:]
    else:
        national = raw
    if not national.isascii() or not national.isdigit() or not national.startswith("0"):
        return None
    if national.startswith("00") or len(national) not in (9, 10):
        return None
    if national.startswith(("07", "0800", "090")):
        return None
    second = national[1]
    if second == "4":
        # 04 is both mobile (10 digits: 0456, 046x-049x) and Liège landline (9 digits).
        if len(national) == 10 and national[2] in _MOBILE_THIRD:
            return "+32" + national[1:]
        if len(national) == 9 and national[2] in _LIEGE_THIRD:
            # A 9-digit 047... is a mobile number with a digit missing, not a Liège line.
            return "+32" + national[1:]
        return None
    if second in _LANDLINE_SECOND and len(national) == 9:
        return "+32" + national[1:]
    return None


def format_phone(e164: str) -> str:
    """``"+32470123456"`` -> ``"0470 12 34 56"``; landlines in groups of two after the zone."""
    national = "0" + e164.removeprefix("+32")
    if len(national) == 10:
        return f"{national[:4]} {national[4:6]} {national[6:8]} {national[8:]}"
    # One-digit zones (02, 03, 04, 09) are written 0x xxx xx xx, the others 0xx xx xx xx.
    if national[1] in "2349":
        return f"{national[:2]} {national[2:5]} {national[5:7]} {national[7:]}"
    return f"{national[:3]} {national[3:5]} {national[5:7]} {national[7:]}"


def normalise_email(text: str) -> str | None:
    """A plausible address with its domain in lower case, or ``None``.

    Only the shape is checked; whether the mailbox exists is for the coach to find out.
    """
    candidate = text.strip()
    if len(candidate) > 254 or candidate.count("@") != 1:
        return None
    local, _, domain_part = candidate.partition("@")
    if len(local) > 64 or local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    if not _EMAIL.match(candidate):
        return None
    return f"{local}@{domain_part.lower()}"
