"""A case's team (``case_members``): colleagues of other partner organisations who look along
with the coach, and its :class:`storage.ports.PersonalData` part.

Rules of this module (those of :mod:`storage.tables` apply):

* A member belongs to the case (``ON DELETE CASCADE``); ``person`` is the young person, kept for
  ``/wis`` and the export. No free text: who, asked by whom, the young person's answer, when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Table
from sqlmodel import Field, SQLModel

from flows.ids import PersonId
from flows.session import JsonValue
from storage.case_team_port import CASE_MEMBER_STATUSES, CASE_TEAM_KEY
from storage.db import UtcDateTime
from storage.ports import RetentionPolicy, Transaction

"""The feature's port in a transaction: ``tx[CASE_TEAM_KEY]``."""


class CaseMemberRow(SQLModel, table=True):
    __tablename__ = "case_members"
    __table_args__ = (
        ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_members_case", ondelete="CASCADE"
        ),
        Index("ix_case_members_case_id", "case_id"),
        Index("ix_case_members_person", "person"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in CASE_MEMBER_STATUSES)})",
            name="ck_case_members_status",
        ),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int
    person: str
    coach: str
    asked_by: str
    status: str
    asked_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


CASE_MEMBERS: Table = SQLModel.metadata.tables[str(CaseMemberRow.__tablename__)]


@dataclass(frozen=True)
class CaseTeamPart:
    name: str = "case_team"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        return [
            {
                "case": m.case_id,
                "coach": m.coach,
                "asked_by": m.asked_by,
                "status": m.status,
                "asked_at": m.asked_at.isoformat(),
                "answered_at": None if m.answered_at is None else m.answered_at.isoformat(),
            }
            for m in await tx[CASE_TEAM_KEY].of_person(person)
        ]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx[CASE_TEAM_KEY].erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        return await tx[CASE_TEAM_KEY].purge_orphans()

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        return 0
