"""Team dashboard: an index for the partnership's queue (issue #12).

Revision ID: 0011_team_queue
Revises: 0009_safety_categories
Create Date: 2026-12-06

Hand-written. The queue and the statistics read the open cases of one partnership
(``WHERE partnership = ? AND status != 'closed'``); without an index that is a scan of every
partnership's cases.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_team_queue"
down_revision: str | Sequence[str] | None = "0009_safety_categories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_partnership_status_created_at",
        "cases",
        ["partnership", "status", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_partnership_status_created_at", table_name="cases")
