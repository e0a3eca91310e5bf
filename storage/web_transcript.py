"""The web chat transcript table and its :class:`storage.ports.PersonalData` part.

Rules of this module (those of :mod:`storage.tables` apply; it imports this module so the table
is on ``SQLModel.metadata``):

* The transcript is both sides of a web conversation, and it is the web channel's outbox: the
  web channel delivers a message by appending it here, and the page reads it from here. So a
  message the bot, a reminder or a coach sent to a web-chat young person survives a restart
  and waits until the page fetches it.
* ``body`` holds the message as the page shows it (text, buttons, flags) and is
  :class:`storage.db.EncryptedText` (associated data ``"web_transcript.body"``): it holds what
  the young person typed, which can be anything (health, justice). ``ref`` is a random
  reference, ``side`` is ``bot`` or ``young``; neither says anything about the person.
* Ids are the database's own (``AUTOINCREMENT`` on SQLite, so an id is never given twice even
  after the newest rows were erased); they only grow, across restarts.
* Retention: entries the page has shown (and the young person's own words) go
  ``RetentionPolicy.abandoned`` (30 days) after they were written, like an abandoned intake;
  unread ones wait until the web cookie could no longer read them
  (``RetentionPolicy.web_identities``, 60 days). ``/wis`` erases them all, and so does a
  withdrawn consent: the transcript may quote answers the consent covered, and we do not know
  which lines did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Table
from sqlmodel import Field, SQLModel

from flows.ids import PersonId
from flows.session import JsonValue
from storage.codec import aad
from storage.db import EncryptedText, UtcDateTime
from storage.ports import RetentionPolicy, Transaction
from storage.web_transcript_port import (
    TRANSCRIPT_SIDES,
    WEB_TRANSCRIPT_KEY,
)

BODY_AAD = aad("web_transcript", "body")


"""The web channel's port in a transaction: ``tx[WEB_TRANSCRIPT_KEY]``."""

_SIDE_LIST = ", ".join(f"'{side}'" for side in TRANSCRIPT_SIDES)


class WebTranscriptRow(SQLModel, table=True):
    __tablename__ = "web_transcript"
    __table_args__ = (
        # Reading a page: a person's entries after an id.
        Index("ix_web_transcript_person_id", "person", "id"),
        # A retried input (same ref) is stored once per person.
        Index("uq_web_transcript_person_ref", "person", "ref", unique=True),
        Index("ix_web_transcript_at", "at"),
        CheckConstraint(f"side IN ({_SIDE_LIST})", name="ck_web_transcript_side"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    person: str
    ref: str
    side: str
    body: str = Field(sa_type=EncryptedText, nullable=False)  # JSON object
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    seen_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


WEB_TRANSCRIPT: Table = SQLModel.metadata.tables[str(WebTranscriptRow.__tablename__)]


@dataclass(frozen=True)
class WebTranscriptPart:
    """The web chat transcript as ``/mijngegevens``, ``/wis`` and the retention job see it."""

    name: str = "web_transcript"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        found: list[JsonValue] = []
        after = 0
        while True:
            batch = await tx[WEB_TRANSCRIPT_KEY].after(person, after, limit=500)
            if not batch:
                return found
            for entry in batch:
                found.append(
                    {
                        "at": entry.at.isoformat(),
                        "from": "opstap" if entry.side == "bot" else "you",
                        "text": entry.body.get("text"),
                        "read_at": None if entry.seen_at is None else entry.seen_at.isoformat(),
                    }
                )
            after = batch[-1].id

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx[WEB_TRANSCRIPT_KEY].erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        return await tx[WEB_TRANSCRIPT_KEY].purge(
            seen_before=policy.abandoned_before(now), any_before=now - policy.web_identities
        )

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        return await tx[WEB_TRANSCRIPT_KEY].erase(person)
