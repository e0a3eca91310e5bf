"""Coach onboarding: a one-time Telegram deep link that binds a chat to a coach.

Rules of this module:

* The link is ``https://t.me/<bot>?start=<token>``. The token is random (``c_`` and 43 URL-safe
  characters: Telegram's 1-64 of ``A-Za-z0-9_-``), says nothing about the coach, and is stored
  only as its sha256 hex: whoever reads the database cannot bind a chat with it.
* A link is valid for :data:`INVITE_VALID` (7 days) and works once. A lost phone gets a new link
  (``opstap coach invite --coach ID``); opening it moves the coach to the new chat.
* Coaches come from invites only; the directory's ``demo: true`` coaches are never created.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from flows.ids import CoachId, PartnershipId
from storage.ports import Storage
from storage.routing_port import CoachRecord, CoachRole

INVITE_PREFIX = "c_"
INVITE_VALID = timedelta(days=7)
_TOKEN = re.compile(r"c_[A-Za-z0-9_-]{20,62}")


def new_token() -> str:
    return INVITE_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def looks_like_invite(payload: str) -> bool:
    return bool(_TOKEN.fullmatch(payload))


def invite_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username.removeprefix('@')}?start={token}"


def coach_id_for(name: str) -> CoachId:
    """A readable, unique id: the name in ASCII plus four random hex digits."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:24] or "coach"
    return CoachId(f"{slug}-{secrets.token_hex(2)}")


async def invite_new_coach(
    storage: Storage,
    *,
    partnership: PartnershipId,
    first_name: str,
    organisation: str,
    domains: tuple[str, ...],
    languages: tuple[str, ...],
    capacity: int,
    role: CoachRole,
    hours: str | None,
    now: datetime,
) -> tuple[CoachRecord, str]:
    """Create the coach (active, not yet bound to a chat) and an invite; returns the token."""
    coach = CoachRecord(
        id=coach_id_for(first_name),
        partnership=partnership,
        first_name=first_name,
        organisation=organisation,
        domains=domains,
        languages=languages,
        capacity=capacity,
        role=role,
        hours=hours,
        active=True,
        person=None,
        current_case=None,
        last_assigned_at=None,
        created_at=now,
    )
    token = new_token()
    async with storage.transaction() as tx:
        await tx.coaches.add(coach)
        await tx.coaches.add_invite(token_hash(token), coach.id, now, now + INVITE_VALID)
    return coach, token


async def invite_again(storage: Storage, coach_id: CoachId, now: datetime) -> str | None:
    """A new link for an existing coach; ``None`` when there is no such coach."""
    token = new_token()
    async with storage.transaction() as tx:
        if await tx.coaches.get(coach_id) is None:
            return None
        await tx.coaches.add_invite(token_hash(token), coach_id, now, now + INVITE_VALID)
    return token
