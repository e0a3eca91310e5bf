"""The warm handover to VDAB (``handovers``) and its :class:`storage.ports.PersonalData` part.

Rules of this module (those of :mod:`storage.tables` apply):

* A handover belongs to its case (``ON DELETE CASCADE``); ``person`` is kept beside it for
  ``/wis`` and the export.
* ``summary`` (JSON: what was achieved per domain, the young person's goals, next steps, contact
  preference) and ``pdf`` (base64 of the rendered PDF) are :class:`storage.db.EncryptedText`.
  ``contact`` is the directory's name of the VDAB contact it went to, ``delivery`` the way
  (``telegram`` or ``dashboard``: the coordinator sends it on from the case page;
  ``telegram_failed``: VDAB's chat never took it, and it waits on the case page too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Table
from sqlmodel import Field, SQLModel

from flows.ids import PersonId
from flows.session import JsonValue
from storage.codec import aad
from storage.db import EncryptedText, UtcDateTime
from storage.handovers_port import (
    HANDOVER_STATUSES,
    HANDOVERS_KEY,
)
from storage.ports import RetentionPolicy, Transaction

SUMMARY_AAD = aad("handovers", "summary")
PDF_AAD = aad("handovers", "pdf")


"""The feature's port in a transaction: ``tx[HANDOVERS_KEY]``."""


class HandoverRow(SQLModel, table=True):
    __tablename__ = "handovers"
    __table_args__ = (
        ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_handovers_case", ondelete="CASCADE"
        ),
        Index("ix_handovers_case_id", "case_id"),
        Index("ix_handovers_person", "person"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in HANDOVER_STATUSES)})",
            name="ck_handovers_status",
        ),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int
    person: str
    coach: str
    status: str
    summary: str = Field(sa_type=EncryptedText, nullable=False)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    pdf: str | None = Field(default=None, sa_type=EncryptedText, nullable=True)
    contact: str | None = None
    delivery: str | None = None
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


HANDOVERS: Table = SQLModel.metadata.tables[str(HandoverRow.__tablename__)]


@dataclass(frozen=True)
class HandoverPart:
    name: str = "handovers"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        return [
            {
                "case": h.case_id,
                "coach": h.coach,
                "status": h.status,
                "summary": h.summary,
                "created_at": h.created_at.isoformat(),
                "answered_at": None if h.answered_at is None else h.answered_at.isoformat(),
                "sent_to": h.contact,
                "sent_by": h.delivery,
                "sent_at": None if h.delivered_at is None else h.delivered_at.isoformat(),
            }
            for h in await tx[HANDOVERS_KEY].of_person(person)
        ]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx[HANDOVERS_KEY].erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        return await tx[HANDOVERS_KEY].purge_orphans()

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        return 0
