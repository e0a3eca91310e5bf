"""The escalation tables: the bot's messages in coach chats, erased cases, blind spots.

Rules of this module (those of :mod:`storage.tables` apply; it imports this module so the
tables are on ``SQLModel.metadata``; migration ``0007_escalation``):

* ``coach_messages`` holds ids only (the coach's chat, Telegram's message id, the case): what
  the bot needs to edit a declined card or delete its messages after ``/wis``. It belongs to
  its case (``ON DELETE CASCADE``).
* ``erased_cases`` is what is left of a case erased at the young person's request: the case
  number, the partnership, the coach and when; no person id, no answers. The dashboard shows
  the case as erased; the retention job removes it with the closed cases.
* ``blind_spot_counts`` are anonymous counts per month, kind, municipality and partnership:
  never a person id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Table
from sqlmodel import Field, SQLModel

from storage.db import UtcDateTime
from storage.routing_port import COACH_MESSAGE_KINDS


def _among(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CoachMessageRow(SQLModel, table=True):
    __tablename__ = "coach_messages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_coach_messages_case", ondelete="CASCADE"
        ),
        Index("ix_coach_messages_case_id", "case_id"),
        CheckConstraint(_among("kind", COACH_MESSAGE_KINDS), name="ck_coach_messages_kind"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int
    coach_id: str
    chat: str
    message_id: int
    kind: str
    sent_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    redacted: bool


class ErasedCaseRow(SQLModel, table=True):
    __tablename__ = "erased_cases"
    __table_args__ = (Index("ix_erased_cases_partnership", "partnership"),)

    case_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    partnership: str
    coach_id: str | None = Field(default=None, nullable=True)
    erased_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class BlindSpotCountRow(SQLModel, table=True):
    __tablename__ = "blind_spot_counts"

    month: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    municipality_nis: str = Field(primary_key=True)
    partnership: str = Field(primary_key=True)
    count: int


def _table(model: type[SQLModel]) -> Table:
    return SQLModel.metadata.tables[str(model.__tablename__)]


COACH_MESSAGES: Table = _table(CoachMessageRow)
ERASED_CASES: Table = _table(ErasedCaseRow)
BLIND_SPOT_COUNTS: Table = _table(BlindSpotCountRow)
