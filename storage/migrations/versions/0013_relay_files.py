"""Files in the relay, the warm handover to VDAB and case teams: relay_files, handovers,
case_members (issue #15).

Revision ID: 0013_relay_files
Revises: 0009_safety_categories
Create Date: 2026-12-06

Hand-written. ``content``, ``caption``, ``summary`` and ``pdf`` hold encryption tokens
(``storage.db.EncryptedText``, TEXT in the database). Both tables belong to their case
(``ON DELETE CASCADE``): erasing a case or its retention takes its files and handovers along.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_relay_files"
down_revision: str | Sequence[str] | None = "0009_safety_categories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "relay_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("mime", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_relay_files_case", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "direction IN ('to_coach', 'to_young')", name="ck_relay_files_direction"
        ),
        sa.CheckConstraint("kind IN ('photo', 'document', 'voice')", name="ck_relay_files_kind"),
    )
    op.create_index("ix_relay_files_case_id", "relay_files", ["case_id"])
    op.create_index("ix_relay_files_person", "relay_files", ["person"])
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("coach", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("pdf", sa.Text(), nullable=True),
        sa.Column("contact", sa.String(), nullable=True),
        sa.Column("delivery", sa.String(), nullable=True),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_handovers_case", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'changes', 'agreed')", name="ck_handovers_status"
        ),
    )
    op.create_index("ix_handovers_case_id", "handovers", ["case_id"])
    op.create_index("ix_handovers_person", "handovers", ["person"])
    op.create_table(
        "case_members",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("coach", sa.String(), nullable=False),
        sa.Column("asked_by", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("asked_at", TZ, nullable=False),
        sa.Column("answered_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_members_case", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "status IN ('asked', 'active', 'declined', 'removed')", name="ck_case_members_status"
        ),
    )
    op.create_index("ix_case_members_case_id", "case_members", ["case_id"])
    op.create_index("ix_case_members_person", "case_members", ["person"])


def downgrade() -> None:
    op.drop_index("ix_case_members_person", table_name="case_members")
    op.drop_index("ix_case_members_case_id", table_name="case_members")
    op.drop_table("case_members")
    op.drop_index("ix_handovers_person", table_name="handovers")
    op.drop_index("ix_handovers_case_id", table_name="handovers")
    op.drop_table("handovers")
    op.drop_index("ix_relay_files_person", table_name="relay_files")
    op.drop_index("ix_relay_files_case_id", table_name="relay_files")
    op.drop_table("relay_files")
