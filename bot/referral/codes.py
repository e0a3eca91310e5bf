"""Referral codes and the links that carry them.

Rules of this module:

* A code is opaque and random (``secrets``): it says nothing about the partnership, the partner
  or a person. It fits Telegram's deep-link payload (1-64 of ``A-Za-z0-9_-``), which is also
  what the web chat takes in ``/?ref=<code>``.
* A partner's link starts with ``r_`` (short: it goes into a QR code on a poster), a coach's
  personal invitation with ``i_`` (long: it is a secret for one young person, so only its sha256
  is stored, like a coach's own invite ``c_``).
"""

from __future__ import annotations

import hashlib
import re
import secrets

LINK_PREFIX = "r_"
INVITE_PREFIX = "i_"
_LINK = re.compile(r"r_[A-Za-z0-9_-]{8,62}")
_INVITE = re.compile(r"i_[A-Za-z0-9_-]{20,62}")


def new_link_code() -> str:
    return LINK_PREFIX + secrets.token_urlsafe(9)


def new_invite_code() -> str:
    return INVITE_PREFIX + secrets.token_urlsafe(24)


def is_link_code(payload: str) -> bool:
    return bool(_LINK.fullmatch(payload))


def is_invite_code(payload: str) -> bool:
    return bool(_INVITE.fullmatch(payload))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def telegram_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username.removeprefix('@')}?start={code}"


def web_link(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/?ref={code}"
