"""Drop ``web_identities``: the cookie bindings were never used (issue #10).

Revision ID: 0014_drop_web_identities
Revises: 0009_safety_categories
Create Date: 2026-12-06

Hand-written. The web chat's person id comes from its cookie directly (``web:<hash>``) and
its transcript keeps its own retention, so nothing ever wrote or read this table; it goes with
its port and adapters. The downgrade brings the empty table back as 0001 made it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_drop_web_identities"
down_revision: str | Sequence[str] | None = "0009_safety_categories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_web_identities_person", table_name="web_identities")
    op.drop_table("web_identities")


def downgrade() -> None:
    op.create_table(
        "web_identities",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_identities_person", "web_identities", ["person"])
