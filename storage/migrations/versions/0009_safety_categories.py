"""Safety: an event keeps every category it saw (issue #13).

Revision ID: 0009_safety_categories
Revises: 0006_team
Create Date: 2026-12-06

Hand-written. Adds ``safety_events.categories``: the category codes flagged while the event
was open, comma-separated and encrypted at rest like ``category`` (``EncryptedText``: TEXT).
Null on events from before this revision: they read as their one ``category``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_safety_categories"
down_revision: str | Sequence[str] | None = "0006_team"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("safety_events") as batch:
        batch.add_column(sa.Column("categories", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("safety_events") as batch:
        batch.drop_column("categories")
