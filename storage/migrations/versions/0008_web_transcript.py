"""Web chat: the web_transcript table (both sides of a web conversation, the web outbox).

Revision ID: 0008_web_transcript
Revises: 0007_escalation
Create Date: 2026-12-06

Hand-written. ``body`` holds encryption tokens (``storage.db.EncryptedText``, TEXT in the
database). ``sqlite_autoincrement``: SQLite never gives an id twice, even after the newest rows
were erased, so an open page never mistakes a new message for one it has shown.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_web_transcript"
down_revision: str | Sequence[str] | None = "0007_escalation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_transcript",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("seen_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("side IN ('bot', 'young')", name="ck_web_transcript_side"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_web_transcript_person_id", "web_transcript", ["person", "id"])
    op.create_index(
        "uq_web_transcript_person_ref", "web_transcript", ["person", "ref"], unique=True
    )
    op.create_index("ix_web_transcript_at", "web_transcript", ["at"])


def downgrade() -> None:
    op.drop_index("ix_web_transcript_at", table_name="web_transcript")
    op.drop_index("uq_web_transcript_person_ref", table_name="web_transcript")
    op.drop_index("ix_web_transcript_person_id", table_name="web_transcript")
    op.drop_table("web_transcript")
