"""Routing: coaches, coach invites, cases, offers, relay messages.

Revision ID: 0003_routing
Revises: 0002_privacy
Create Date: 2026-11-24

Hand-written. A branch off 0001 like the other features being built at the same time
(``storage.migrate.upgrade`` applies every head). ``cases.intake``, ``offers.reasons`` and
``relay_messages.text`` hold encryption tokens (``storage.db.EncryptedText``, TEXT in the
database).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_routing"
down_revision: str | Sequence[str] | None = "0002_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "coaches",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("first_name", sa.String(), nullable=False),
        sa.Column("organisation", sa.String(), nullable=False),
        sa.Column("domains", sa.Text(), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("hours", sa.String(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("person", sa.String(), nullable=True),
        sa.Column("current_case", sa.Integer(), nullable=True),
        sa.Column("last_assigned_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("role IN ('coach', 'coordinator')", name="ck_coaches_role"),
        sa.CheckConstraint("capacity >= 0", name="ck_coaches_capacity"),
    )
    op.create_index("uq_coaches_person", "coaches", ["person"], unique=True)
    op.create_index("ix_coaches_partnership", "coaches", ["partnership"])

    op.create_table(
        "coach_invites",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("coach_id", sa.String(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name="fk_coach_invites_coach", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_coach_invites_coach_id", "coach_invites", ["coach_id"])

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("municipality_nis", sa.String(), nullable=True),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("coach_id", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("intake", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("accepted_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.Column("promised_at", TZ, nullable=True),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["coach_id"], ["coaches.id"], name="fk_cases_coach"),
        sa.CheckConstraint(
            "status IN ('waiting', 'offered', 'open', 'closed')", name="ck_cases_status"
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('work', 'training', 'referred', 'stopped', 'other')",
            name="ck_cases_outcome",
        ),
    )
    op.create_index("ix_cases_person", "cases", ["person"])
    op.create_index("ix_cases_coach_id_status", "cases", ["coach_id", "status"])

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("sent_at", TZ, nullable=False),
        sa.Column("deadline_at", TZ, nullable=False),
        sa.Column("answered_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_offers_case", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["coach_id"], ["coaches.id"], name="fk_offers_coach"),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'declined', 'expired')", name="ck_offers_status"
        ),
    )
    op.create_index("ix_offers_case_id", "offers", ["case_id"])
    op.create_index("ix_offers_coach_id_status", "offers", ["coach_id", "status"])

    op.create_table(
        "relay_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_relay_messages_case", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "direction IN ('to_coach', 'to_young')", name="ck_relay_messages_direction"
        ),
    )
    op.create_index("ix_relay_messages_case_id", "relay_messages", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_relay_messages_case_id", table_name="relay_messages")
    op.drop_table("relay_messages")
    op.drop_index("ix_offers_coach_id_status", table_name="offers")
    op.drop_index("ix_offers_case_id", table_name="offers")
    op.drop_table("offers")
    op.drop_index("ix_cases_coach_id_status", table_name="cases")
    op.drop_index("ix_cases_person", table_name="cases")
    op.drop_table("cases")
    op.drop_index("ix_coach_invites_coach_id", table_name="coach_invites")
    op.drop_table("coach_invites")
    op.drop_index("ix_coaches_partnership", table_name="coaches")
    op.drop_index("uq_coaches_person", table_name="coaches")
    op.drop_table("coaches")
