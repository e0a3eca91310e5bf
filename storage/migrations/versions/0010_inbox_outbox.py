"""Reliability: the durable inbox (inbox_pending) and the outbox.

Revision ID: 0010_inbox_outbox
Revises: 0009_safety_categories
Create Date: 2026-12-06

Hand-written. ``payload`` and ``body`` hold encryption tokens (``storage.db.EncryptedText``, TEXT
in the database). ``sqlite_autoincrement`` on the outbox: an id is never given twice, so one
person's messages are sent in the order they were written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_inbox_outbox"
down_revision: str | Sequence[str] | None = "0009_safety_categories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbox_pending",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("update_key", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_inbox_pending_channel_key", "inbox_pending", ["channel", "update_key"], unique=True
    )
    op.create_index("ix_inbox_pending_received_at", "inbox_pending", ["received_at"])
    op.create_index("ix_inbox_pending_person", "inbox_pending", ["person"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_person_id", "outbox", ["person", "id"])
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_created_at", table_name="outbox")
    op.drop_index("ix_outbox_person_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_inbox_pending_person", table_name="inbox_pending")
    op.drop_index("ix_inbox_pending_received_at", table_name="inbox_pending")
    op.drop_index("uq_inbox_pending_channel_key", table_name="inbox_pending")
    op.drop_table("inbox_pending")
