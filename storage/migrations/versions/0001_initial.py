"""Initial schema: sessions, reminders, processed_updates, web_identities.

Revision ID: 0001
Revises:
Create Date: 2025-11-24

Hand-written. Datetimes are sa.DateTime(timezone=True): storage.db.UtcDateTime at run time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("flow", sa.String(), nullable=False),
        sa.Column("step", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("history", sa.Text(), nullable=False),
        sa.Column("return_to", sa.String(), nullable=True),
        sa.Column("interrupted", sa.String(), nullable=True),
        sa.Column("nudges", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("person"),
    )

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(
            "status IN ('pending', 'claimed', 'sent', 'cancelled', 'failed')",
            name="ck_reminders_status",
        ),
    )
    op.create_index("ix_reminders_person", "reminders", ["person"])
    op.create_index("ix_reminders_status_due_at", "reminders", ["status", "due_at"])
    op.create_index(
        "uq_reminders_pending_person_key",
        "reminders",
        ["person", "key"],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )

    op.create_table(
        "processed_updates",
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("update_key", sa.String(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "update_key"),
    )
    op.create_index("ix_processed_updates_seen_at", "processed_updates", ["seen_at"])

    op.create_table(
        "web_identities",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_identities_person", "web_identities", ["person"])


def downgrade() -> None:
    op.drop_index("ix_web_identities_person", table_name="web_identities")
    op.drop_table("web_identities")
    op.drop_index("ix_processed_updates_seen_at", table_name="processed_updates")
    op.drop_table("processed_updates")
    op.drop_index("uq_reminders_pending_person_key", table_name="reminders")
    op.drop_index("ix_reminders_status_due_at", table_name="reminders")
    op.drop_index("ix_reminders_person", table_name="reminders")
    op.drop_table("reminders")
    op.drop_table("sessions")
