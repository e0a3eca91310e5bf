"""The routing tables: coaches, coach invites, cases, offers and relay messages.

Rules of this module (those of :mod:`storage.tables` apply; it imports this module so the
tables are on ``SQLModel.metadata``):

* Free text a young person or coach wrote (``relay_messages.text``), the intake answers a coach
  may see (``cases.intake``, JSON) and an offer's reasons (``offers.reasons``: the matched
  domains can be sensitive ones) are :class:`storage.db.EncryptedText`, sealed with the storage
  keyring in :mod:`storage.routing_sql` (associated data ``"<table>.<column>"``).
* An invite is stored as the sha256 hex of its token, never the token: the link is a secret
  only its coach holds.
* Offers and messages belong to their case (``ON DELETE CASCADE``): erasing a case erases them.
* Lists (a coach's domains and languages, an offer's reasons) are JSON text of ids and numbers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Table, Text
from sqlmodel import Field, SQLModel

from storage.codec import aad
from storage.db import EncryptedText, UtcDateTime
from storage.routing_port import (
    CASE_OUTCOMES,
    CASE_STATUSES,
    COACH_ROLES,
    OFFER_STATUSES,
    RELAY_DIRECTIONS,
)


def _among(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CoachRow(SQLModel, table=True):
    __tablename__ = "coaches"
    __table_args__ = (
        # One chat is one coach.
        Index("uq_coaches_person", "person", unique=True),
        Index("ix_coaches_partnership", "partnership"),
        CheckConstraint(_among("role", COACH_ROLES), name="ck_coaches_role"),
        CheckConstraint("capacity >= 0", name="ck_coaches_capacity"),
    )

    id: str = Field(primary_key=True)
    partnership: str
    first_name: str
    organisation: str
    domains: str = Field(sa_type=Text, nullable=False)  # JSON list of domain ids
    languages: str = Field(sa_type=Text, nullable=False)  # JSON list of language codes
    capacity: int
    role: str
    hours: str | None = Field(default=None, nullable=True)
    active: bool
    person: str | None = Field(default=None, nullable=True)
    current_case: int | None = Field(default=None, nullable=True)
    last_assigned_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    # Absence mode (migration 0006_team): no new offers until then.
    absent_until: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


class CoachInviteRow(SQLModel, table=True):
    __tablename__ = "coach_invites"
    __table_args__ = (
        ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name="fk_coach_invites_coach", ondelete="CASCADE"
        ),
        Index("ix_coach_invites_coach_id", "coach_id"),
    )

    token_hash: str = Field(primary_key=True)  # sha256 hex of the deep-link payload
    coach_id: str
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_person", "person"),
        Index("ix_cases_coach_id_status", "coach_id", "status"),
        # The team dashboard's queue (migration 0011_team_queue).
        Index("ix_cases_partnership_status_created_at", "partnership", "status", "created_at"),
        ForeignKeyConstraint(["coach_id"], ["coaches.id"], name="fk_cases_coach"),
        CheckConstraint(_among("status", CASE_STATUSES), name="ck_cases_status"),
        CheckConstraint(
            f"outcome IS NULL OR {_among('outcome', CASE_OUTCOMES)}", name="ck_cases_outcome"
        ),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    person: str
    partnership: str
    municipality_nis: str | None = Field(default=None, nullable=True)
    language: str
    status: str
    coach_id: str | None = Field(default=None, nullable=True)
    outcome: str | None = Field(default=None, nullable=True)
    intake: str = Field(sa_type=EncryptedText, nullable=False)  # JSON object, sealed
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    accepted_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    promised_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    reopened: int
    # Migration 0007_escalation: the team queue and the warm fallback.
    escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    fallback_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


class OfferRow(SQLModel, table=True):
    __tablename__ = "offers"
    __table_args__ = (
        ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_offers_case", ondelete="CASCADE"),
        ForeignKeyConstraint(["coach_id"], ["coaches.id"], name="fk_offers_coach"),
        Index("ix_offers_case_id", "case_id"),
        # loads() counts open offers per coach.
        Index("ix_offers_coach_id_status", "coach_id", "status"),
        CheckConstraint(_among("status", OFFER_STATUSES), name="ck_offers_status"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int
    coach_id: str
    status: str
    # JSON of ids and numbers, sealed: the matched domains can name a sensitive one.
    reasons: str = Field(sa_type=EncryptedText, nullable=False)
    sent_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    deadline_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


class RelayMessageRow(SQLModel, table=True):
    __tablename__ = "relay_messages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_relay_messages_case", ondelete="CASCADE"
        ),
        Index("ix_relay_messages_case_id", "case_id"),
        CheckConstraint(_among("direction", RELAY_DIRECTIONS), name="ck_relay_messages_direction"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int
    direction: str
    text: str = Field(sa_type=EncryptedText, nullable=False)
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    delivered: bool


def _table(model: type[SQLModel]) -> Table:
    return SQLModel.metadata.tables[str(model.__tablename__)]


COACHES: Table = _table(CoachRow)
COACH_INVITES: Table = _table(CoachInviteRow)
CASES: Table = _table(CaseRow)
OFFERS: Table = _table(OfferRow)
RELAY_MESSAGES: Table = _table(RelayMessageRow)

# Associated data for the encrypted columns: a value sealed for one column cannot be moved to
# another. Shared by the SQL and memory adapters.
INTAKE_AAD = aad("cases", "intake")
TEXT_AAD = aad("relay_messages", "text")
REASONS_AAD = aad("offers", "reasons")
