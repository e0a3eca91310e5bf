"""Team dashboard: accounts, web sessions, login attempts, the audit log, case notes; absence.

Revision ID: 0006_team
Revises: 0007_escalation
Create Date: 2026-12-06

Hand-written. Chained after 0007_escalation, which landed first (one line of migrations).
``team_users.totp_secret`` and ``case_notes.text`` hold encryption tokens
(``storage.db.EncryptedText``, TEXT in the database). ``coaches.absent_until`` is the absence
mode a coordinator sets in the dashboard (a plain ADD COLUMN, also on SQLite).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_team"
down_revision: str | Sequence[str] | None = "0007_escalation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
ROLES = ("coach", "coordinator", "admin")


def upgrade() -> None:
    op.create_table(
        "team_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=True),
        sa.Column("coach_id", sa.String(), nullable=True),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("totp_secret", sa.Text(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_login_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(
            "role IN (" + ", ".join(repr(r) for r in ROLES) + ")", name="ck_team_users_role"
        ),
    )
    op.create_index("uq_team_users_email", "team_users", ["email"], unique=True)
    op.create_table(
        "team_sessions",
        sa.Column("id_hash", sa.String(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["team_users.id"], name="fk_team_sessions_user", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_team_sessions_user_id", "team_sessions", ["user_id"])
    op.create_table(
        "team_login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_team_login_attempts_key_at", "team_login_attempts", ["key", "at"])
    op.create_table(
        "team_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(), nullable=True),
        sa.Column("address", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_team_audit_partnership_at", "team_audit", ["partnership", "at"])
    op.create_index("ix_team_audit_case_id", "team_audit", ["case_id"])
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_notes_case", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_case_notes_case_id", "case_notes", ["case_id"])
    # A plain ADD COLUMN, not batch mode: rebuilding ``coaches`` on SQLite would trip the
    # foreign keys of offers and cases that point at it.
    op.add_column("coaches", sa.Column("absent_until", TZ, nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ and PostgreSQL drop a column in place.
    op.execute("ALTER TABLE coaches DROP COLUMN absent_until")
    op.drop_index("ix_case_notes_case_id", table_name="case_notes")
    op.drop_table("case_notes")
    op.drop_index("ix_team_audit_case_id", table_name="team_audit")
    op.drop_index("ix_team_audit_partnership_at", table_name="team_audit")
    op.drop_table("team_audit")
    op.drop_index("ix_team_login_attempts_key_at", table_name="team_login_attempts")
    op.drop_table("team_login_attempts")
    op.drop_index("ix_team_sessions_user_id", table_name="team_sessions")
    op.drop_table("team_sessions")
    op.drop_index("uq_team_users_email", table_name="team_users")
    op.drop_table("team_users")
