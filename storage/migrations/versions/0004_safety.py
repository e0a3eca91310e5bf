"""Safety: the safety_events table (crisis signals and who took them up).

Revision ID: 0004_safety
Revises: 0003_routing
Create Date: 2026-11-24

Hand-written. A branch off 0001 like the other features being built at the same time
(``storage.migrate.upgrade`` applies every head). No column holds text a person wrote: the
category is a short code, encrypted at rest like other health data (``EncryptedText``: TEXT).
One open event per person: a partial unique index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_safety"
down_revision: str | Sequence[str] | None = "0003_routing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "safety_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=True),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("last_flag_at", TZ, nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.Column("acknowledged_by", sa.String(), nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.Column("closed_by", sa.String(), nullable=True),
        sa.Column("escalated_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_safety_events_person", "safety_events", ["person"])
    op.create_index(
        "uq_safety_events_open_person",
        "safety_events",
        ["person"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("uq_safety_events_open_person", table_name="safety_events")
    op.drop_index("ix_safety_events_person", table_name="safety_events")
    op.drop_table("safety_events")
