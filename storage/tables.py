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
  :mod:`storage.codec`. Columns that can hold free text, contact details or anything of a
  sensitive domain are :class:`storage.db.EncryptedText` and are encrypted by the code that
  writes them; ``docs/data-inventory.yaml`` lists every column, and
  ``tests/privacy/test_inventory.py`` fails for a column it lacks or a sensitive column that is
  not encrypted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Table, text
from sqlmodel import Field, SQLModel

from storage.db import EncryptedText, UtcDateTime
from storage.ports import ACCESS_ACTIONS, ERROR_CODE_MAX, REMINDER_STATUSES

# The predicate of the partial unique index; upserts must repeat it literally (a bound parameter
# would keep SQLite and PostgreSQL from matching the conflict target to the index).
PENDING_PREDICATE = "status = 'pending'"
_STATUS_LIST = ", ".join(f"'{status}'" for status in REMINDER_STATUSES)
_ACTION_LIST = ", ".join(f"'{action}'" for action in ACCESS_ACTIONS)


class SessionRow(SQLModel, table=True):
    __tablename__ = "sessions"

    person: str = Field(primary_key=True)
    flow: str
    # Step ids are encrypted too: "help_addiction" alone says something about a person.
    step: str | None = Field(default=None, sa_type=EncryptedText, nullable=True)
    status: str
    language: str
    version: int
    started_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    answers: str = Field(sa_type=EncryptedText, nullable=False)  # JSON object (storage.codec)
    history: str = Field(sa_type=EncryptedText, nullable=False)  # JSON list of step ids
    return_to: str | None = Field(default=None, sa_type=EncryptedText, nullable=True)
    interrupted: str | None = Field(default=None, sa_type=EncryptedText, nullable=True)
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
        {"sqlite_autoincrement": True},
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


class ConsentRow(SQLModel, table=True):
    """Every consent given or withdrawn, never updated: the history is the proof."""

    __tablename__ = "consents"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = Field(default=None, primary_key=True)
    person: str = Field(index=True)
    category: str
    given: bool
    notice_version: str
    # sha256 hex of the text the person saw when they pressed the button.
    text_hash: str = Field(max_length=64)
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class ReportCountRow(SQLModel, table=True):
    """Anonymous counts per month ("2026-11") for reporting; they survive an erasure."""

    __tablename__ = "report_counts"

    month: str = Field(primary_key=True, max_length=7)
    metric: str = Field(primary_key=True)
    count: int


class DataAccessRow(SQLModel, table=True):
    """Which partnership and coach received or viewed a person's intake (shown by /mijngegevens)."""

    __tablename__ = "data_access_log"
    __table_args__ = (
        CheckConstraint(f"action IN ({_ACTION_LIST})", name="ck_data_access_log_action"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    person: str = Field(index=True)
    partnership: str
    coach: str | None = Field(default=None, nullable=True)
    action: str
    at: datetime = Field(sa_type=UtcDateTime, nullable=False, index=True)


def _table(model: type[SQLModel]) -> Table:
    table = SQLModel.metadata.tables[str(model.__tablename__)]
    return table


SESSIONS: Table = _table(SessionRow)
REMINDERS: Table = _table(ReminderRow)
PROCESSED_UPDATES: Table = _table(ProcessedUpdateRow)
CONSENTS: Table = _table(ConsentRow)
REPORT_COUNTS: Table = _table(ReportCountRow)
DATA_ACCESS_LOG: Table = _table(DataAccessRow)

# The appointments, ratings and reachability live in storage/appointments.py; importing it
# registers them on the metadata.
from storage import appointments as _appointments  # noqa: E402, F401

# The relay's files, the warm handovers to VDAB and the case teams (issue #15).
from storage import case_team as _case_team  # noqa: E402, F401

# The escalation tables (coach message ids, erased cases, blind spots) live in their own module.
from storage import escalation as _escalation  # noqa: E402, F401
from storage import handovers as _handovers  # noqa: E402, F401

# Which Telegram chats have the persistent help button (storage/help_keyboard.py).
from storage import help_keyboard as _help_keyboard  # noqa: E402, F401

# The durable inbox and the outbox (storage/inbox.py).
from storage import inbox as _inbox  # noqa: E402, F401

# Referral links, personal invitations and arrivals (storage/referral.py).
from storage import referral as _referral  # noqa: E402, F401
from storage import relay_files as _relay_files  # noqa: E402, F401

# The routing tables live in their own module; importing it registers them on the metadata.
from storage import routing as _routing  # noqa: E402, F401

# So do the safety events (storage/safety.py).
from storage import safety as _safety  # noqa: E402, F401

# The team dashboard's accounts, sessions, audit log and notes (storage/team.py).
from storage import team as _team  # noqa: E402, F401

# And the web chat transcript (storage/web_transcript.py).
from storage import web_transcript as _web_transcript  # noqa: E402, F401
