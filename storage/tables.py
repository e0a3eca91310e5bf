"""The tables, as sqlmodel classes. Table and column names are a contract with the migrations.

Rules of this module:

* Every table of the application is declared here (or in a module imported from here), so that
  ``SQLModel.metadata`` is complete: ``tests/storage/test_migrations.py`` compares it with the
  schema the migrations build, and a table or column added without a migration fails that test.
* A schema change is a new file in ``storage/migrations/versions/``; never edit a migration that
  has shipped.
* Every datetime column is :class:`storage.db.UtcDateTime`. Indexes and constraints are named
  explicitly (primary keys keep the database's default name), so that later migrations, SQLite
  batch mode included, can refer to them.
* Columns hold no free text a person typed except ``sessions.answers``, which goes through
  :mod:`storage.codec` (where encryption will be added).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Table, Text, text
from sqlmodel import Field, SQLModel

from storage.db import UtcDateTime
from storage.ports import ERROR_CODE_MAX, REMINDER_STATUSES

# The predicate of the partial unique index; upserts must repeat it literally (a bound parameter
# would keep SQLite and PostgreSQL from matching the conflict target to the index).
PENDING_PREDICATE = "status = 'pending'"
_STATUS_LIST = ", ".join(f"'{status}'" for status in REMINDER_STATUSES)


class SessionRow(SQLModel, table=True):
    __tablename__ = "sessions"

    person: str = Field(primary_key=True)
    flow: str
    step: str | None = Field(default=None, nullable=True)
    status: str
    language: str
    version: int
    started_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    answers: str = Field(sa_type=Text, nullable=False)  # JSON object (storage.codec)
    history: str = Field(sa_type=Text, nullable=False)  # JSON list of step ids
    return_to: str | None = Field(default=None, nullable=True)
    interrupted: str | None = Field(default=None, nullable=True)
    nudges: int


class ReminderRow(SQLModel, table=True):
    __tablename__ = "reminders"
    __table_args__ = (
        # One person has at most one pending reminder per key; sent/cancelled rows may repeat.
        Index(
            "uq_reminders_pending_person_key",
            "person",
            "key",
            unique=True,
            sqlite_where=text(PENDING_PREDICATE),
            postgresql_where=text(PENDING_PREDICATE),
        ),
        # claim_due scans by status and due time.
        Index("ix_reminders_status_due_at", "status", "due_at"),
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="ck_reminders_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person: str = Field(index=True)
    key: str
    due_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    session_version: int
    status: str
    attempts: int
    claimed_by: str | None = Field(default=None, nullable=True)
    claimed_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    # An error CODE (storage.ports.check_error_code), never an exception message.
    last_error: str | None = Field(default=None, max_length=ERROR_CODE_MAX, nullable=True)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class ProcessedUpdateRow(SQLModel, table=True):
    __tablename__ = "processed_updates"

    channel: str = Field(primary_key=True)
    update_key: str = Field(primary_key=True)
    seen_at: datetime = Field(sa_type=UtcDateTime, nullable=False, index=True)


class WebIdentityRow(SQLModel, table=True):
    __tablename__ = "web_identities"

    token_hash: str = Field(primary_key=True)  # sha256 hex of the cookie token, never the token
    # Indexed so that erasing a person finds all their browser bindings.
    person: str = Field(index=True)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    last_seen_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


def _table(model: type[SQLModel]) -> Table:
    table = SQLModel.metadata.tables[str(model.__tablename__)]
    return table


SESSIONS: Table = _table(SessionRow)
REMINDERS: Table = _table(ReminderRow)
PROCESSED_UPDATES: Table = _table(ProcessedUpdateRow)
WEB_IDENTITIES: Table = _table(WebIdentityRow)
