"""The safety events table and its :class:`storage.ports.PersonalData` part.

Rules of this module (those of :mod:`storage.tables` apply; it imports this module so the table
is on ``SQLModel.metadata``):

* A row says *that* a young person was flagged or asked for a person: a category code
  (:func:`storage.safety_port.check_safety_category`), times, the case, and the chats of who took it
  up or closed it. Never a word of what the young person wrote.
* An event keeps every category flagged while it was open (``categories``, from migration
  ``0009_safety_categories``; ``category`` stays the most severe one).
* The category says something about a person's health ("suicide"): it is
  :class:`storage.db.EncryptedText`, sealed with the storage keyring by the adapters
  (associated data ``"safety_events.category"``; ``categories`` likewise, with
  ``"safety_events.categories"``).
* At most one open event per person: a partial unique index on ``person`` where ``closed_at``
  is null. Upserts repeat :data:`OPEN_PREDICATE` literally (a bound parameter would keep SQLite
  and PostgreSQL from matching the conflict target to the index).
* Retention: closed events are kept ``RetentionPolicy.safety_events`` after closing (the team
  may need to look back at what happened); open events are never purged. An erasure
  (``/wis``) deletes them all. A withdrawn consent drops nothing: the safety net does not rest
  on consent (vital interests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, Table, text
from sqlmodel import Field, SQLModel

from flows.ids import PersonId
from flows.session import JsonValue
from storage.codec import aad
from storage.db import EncryptedText, UtcDateTime
from storage.ports import RetentionPolicy, Transaction

OPEN_PREDICATE = "closed_at IS NULL"
CATEGORY_AAD = aad("safety_events", "category")
CATEGORIES_AAD = aad("safety_events", "categories")


def join_categories(codes: tuple[str, ...]) -> str:
    return ",".join(codes)


def split_categories(text: str | None) -> tuple[str, ...]:
    return tuple(code for code in (text or "").split(",") if code)


def merge_categories(kept: tuple[str, ...], new: str) -> tuple[str, ...]:
    return kept if new in kept else (*kept, new)


class SafetyEventRow(SQLModel, table=True):
    __tablename__ = "safety_events"
    __table_args__ = (
        Index(
            "uq_safety_events_open_person",
            "person",
            unique=True,
            sqlite_where=text(OPEN_PREDICATE),
            postgresql_where=text(OPEN_PREDICATE),
        ),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    # Indexed for export and erasure (all of a person's events, open or not).
    person: str = Field(index=True)
    case_id: str | None = Field(default=None, nullable=True)
    category: str = Field(sa_type=EncryptedText, nullable=False)
    opened_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    last_flag_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    flags: int
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    acknowledged_by: str | None = Field(default=None, nullable=True)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    closed_by: str | None = Field(default=None, nullable=True)
    escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    # Every category flagged while open ("suicide,overdose"); null on events from before 0009.
    categories: str | None = Field(default=None, sa_type=EncryptedText, nullable=True)


SAFETY_EVENTS: Table = SQLModel.metadata.tables[str(SafetyEventRow.__tablename__)]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True)
class SafetyEventPart:
    """Safety events as ``/mijngegevens``, ``/wis`` and the retention job see them."""

    name: str = "safety_events"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        # The young person's own view: what happened and when. Which coach's chat took it up
        # is the coach's data, so only *whether* it was taken up is exported.
        return [
            {
                "category": e.category,
                "categories": list(e.all_categories),
                "opened_at": _iso(e.opened_at),
                "last_flag_at": _iso(e.last_flag_at),
                "flags": e.flags,
                "case": e.case_id,
                "acknowledged_at": _iso(e.acknowledged_at),
                "escalated_at": _iso(e.escalated_at),
                "closed_at": _iso(e.closed_at),
            }
            for e in await tx.safety.of(person)
        ]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx.safety.erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        return await tx.safety.purge_closed(now - policy.safety_events)

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        return 0
