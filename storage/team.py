"""The team dashboard's tables: accounts, web sessions, login attempts, the audit log, notes.

Rules of this module (those of :mod:`storage.tables` apply; it imports this module so the
tables are on ``SQLModel.metadata``):

* An account's password is an argon2id hash, never the password; its TOTP secret is
  :class:`storage.db.EncryptedText` (sealed with the storage keyring, associated data
  ``team_users.totp_secret``).
* A web session is stored by the sha256 hex of its cookie value, never the value: a copy of the
  database does not let anyone log in.
* A login attempt names its account by the sha256 hex of the lower-cased e-mail typed, so a
  password typed into the e-mail field is never stored.
* The audit log is append-only: the adapter has no update, and only the retention purge
  deletes (rows older than the retention setting). A row holds ids and short codes, never text.
* Internal notes are free text about a young person: :class:`storage.db.EncryptedText`
  (``case_notes.text``); they belong to their case (``ON DELETE CASCADE``), so erasing a case
  erases its notes.
* The statistics count life domains without decrypting every case: ``team_domain_counts`` are
  anonymous counts per partnership and domain (no case, no person; they survive an erasure,
  like the blind-spot counts), and ``team_counted_cases`` names the cases already counted (it
  goes with its case, ``ON DELETE CASCADE``) with what was counted (sealed) and the start of the
  intake's encryption token (key id and random nonce) at that moment: a new token means a
  changed intake (sent again, a consent withdrawn), which is counted again. So a case is
  decrypted when it is new or changed, not on every view of the statistics.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Table
from sqlmodel import Field, SQLModel

from storage.codec import aad
from storage.db import EncryptedText, UtcDateTime

TeamRole = Literal["coach", "coordinator", "admin"]
TEAM_ROLES: tuple[TeamRole, ...] = get_args(TeamRole)


def _among(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class TeamUserRow(SQLModel, table=True):
    __tablename__ = "team_users"
    __table_args__ = (
        Index("uq_team_users_email", "email", unique=True),
        CheckConstraint(_among("role", TEAM_ROLES), name="ck_team_users_role"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str  # lower-cased
    name: str
    role: str
    partnership: str | None = Field(default=None, nullable=True)
    coach_id: str | None = Field(default=None, nullable=True)
    password_hash: str  # argon2id, PHC string
    totp_secret: str = Field(sa_type=EncryptedText, nullable=False)
    totp_last_step: int  # the last accepted TOTP time step: a code works once
    active: bool
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    last_login_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


class TeamSessionRow(SQLModel, table=True):
    __tablename__ = "team_sessions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id"], ["team_users.id"], name="fk_team_sessions_user", ondelete="CASCADE"
        ),
        Index("ix_team_sessions_user_id", "user_id"),
    )

    id_hash: str = Field(primary_key=True)  # sha256 hex of the cookie value
    user_id: int
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    last_seen_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    address: str  # the client address at login


class TeamLoginAttemptRow(SQLModel, table=True):
    __tablename__ = "team_login_attempts"
    __table_args__ = (
        Index("ix_team_login_attempts_key_at", "key", "at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str  # "account:<sha256 of the e-mail typed>" or "address:<client address>"
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    success: bool


class TeamAuditRow(SQLModel, table=True):
    __tablename__ = "team_audit"
    __table_args__ = (
        Index("ix_team_audit_partnership_at", "partnership", "at"),
        Index("ix_team_audit_case_id", "case_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    user_id: int | None = Field(default=None, nullable=True)
    actor: str  # the account's e-mail at that moment (accounts can be disabled, not renamed)
    partnership: str | None = Field(default=None, nullable=True)
    action: str  # a short code: "case.view", "case.accept", "export.csv", "login", ...
    case_id: int | None = Field(default=None, nullable=True)
    target: str | None = Field(default=None, nullable=True)  # a coach id, an outcome: a code
    address: str


class CaseNoteRow(SQLModel, table=True):
    __tablename__ = "case_notes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_notes_case", ondelete="CASCADE"
        ),
        Index("ix_case_notes_case_id", "case_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int
    user_id: int | None = Field(default=None, nullable=True)
    author: str  # the author's name at that moment
    text: str = Field(sa_type=EncryptedText, nullable=False)
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class TeamCountedCaseRow(SQLModel, table=True):
    __tablename__ = "team_counted_cases"
    __table_args__ = (
        ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_team_counted_cases_case", ondelete="CASCADE"
        ),
    )

    case_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    intake_seal: str  # the start of cases.intake when counted ("" without encryption)
    domains: str = Field(sa_type=EncryptedText, nullable=False)  # JSON list, sealed


class TeamDomainCountRow(SQLModel, table=True):
    __tablename__ = "team_domain_counts"

    partnership: str = Field(primary_key=True)
    domain: str = Field(primary_key=True)
    count: int


def _table(model: type[SQLModel]) -> Table:
    return SQLModel.metadata.tables[str(model.__tablename__)]


TEAM_USERS: Table = _table(TeamUserRow)
TEAM_SESSIONS: Table = _table(TeamSessionRow)
TEAM_LOGIN_ATTEMPTS: Table = _table(TeamLoginAttemptRow)
TEAM_AUDIT: Table = _table(TeamAuditRow)
CASE_NOTES: Table = _table(CaseNoteRow)
TEAM_COUNTED_CASES: Table = _table(TeamCountedCaseRow)
TEAM_DOMAIN_COUNTS: Table = _table(TeamDomainCountRow)

TOTP_AAD = aad("team_users", "totp_secret")
NOTE_AAD = aad("case_notes", "text")
COUNTED_AAD = aad("team_counted_cases", "domains")
