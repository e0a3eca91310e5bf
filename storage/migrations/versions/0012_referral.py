"""Referrals: referral_links, referral_invites and referral_arrivals.

Revision ID: 0012_referral
Revises: 0009_safety_categories
Create Date: 2026-12-06

Hand-written. Nothing here is free text or special-category data (see storage/referral.py and
docs/data-inventory.yaml). ``referral_arrivals`` uses ``sqlite_autoincrement`` like the other
append-only tables, so an id is never given twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_referral"
down_revision: str | Sequence[str] | None = "0009_safety_categories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "referral_links",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_referral_links_partnership", "referral_links", ["partnership"])
    op.create_table(
        "referral_invites",
        sa.Column("code_hash", sa.String(), nullable=False),
        sa.Column("coach", sa.String(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("opened_by", sa.String(), nullable=True),
        sa.Column("opened_at", TZ, nullable=True),
        sa.Column("used_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    op.create_index("ix_referral_invites_opened_by", "referral_invites", ["opened_by"])
    op.create_index("ix_referral_invites_expires_at", "referral_invites", ["expires_at"])
    op.create_table(
        "referral_arrivals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("link_code", sa.String(), nullable=True),
        sa.Column("coach", sa.String(), nullable=True),
        sa.Column("arrived_at", TZ, nullable=False),
        sa.Column("submitted_at", TZ, nullable=True),
        sa.Column("case_id", sa.String(), nullable=True),
        sa.Column("case_made", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("kind IN ('link', 'invite')", name="ck_referral_arrivals_kind"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_referral_arrivals_person", "referral_arrivals", ["person"])
    op.create_index("ix_referral_arrivals_arrived_at", "referral_arrivals", ["arrived_at"])


def downgrade() -> None:
    op.drop_index("ix_referral_arrivals_arrived_at", table_name="referral_arrivals")
    op.drop_index("ix_referral_arrivals_person", table_name="referral_arrivals")
    op.drop_table("referral_arrivals")
    op.drop_index("ix_referral_invites_expires_at", table_name="referral_invites")
    op.drop_index("ix_referral_invites_opened_by", table_name="referral_invites")
    op.drop_table("referral_invites")
    op.drop_index("ix_referral_links_partnership", table_name="referral_links")
    op.drop_table("referral_links")
