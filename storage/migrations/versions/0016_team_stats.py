"""Team dashboard: statistics without decrypting every case (issue #15).

Revision ID: 0016_team_stats
Revises: 0009_safety_categories
Create Date: 2026-12-06

Hand-written. ``team_domain_counts`` are anonymous counts of life domains per partnership;
``team_counted_cases`` names the cases already counted (it goes with its case). Existing cases
are counted the first time the statistics are read (the migration has no key to decrypt them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_team_stats"
down_revision: str | Sequence[str] | None = "0009_safety_categories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_counted_cases",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("intake_seal", sa.String(), nullable=False),
        sa.Column("domains", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_team_counted_cases_case", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_table(
        "team_domain_counts",
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("domain", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("partnership", "domain"),
    )


def downgrade() -> None:
    op.drop_table("team_domain_counts")
    op.drop_table("team_counted_cases")
