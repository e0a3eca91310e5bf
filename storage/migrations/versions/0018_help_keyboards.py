"""Telegram: which chats have the persistent help button, so its hint comes once per chat.

Revision ID: 0018_help_keyboards
Revises: 0017_sqlite_ids
Create Date: 2026-12-06

Hand-written. ``help_keyboards``: one row per chat that was shown the help button (its
language and when); no text. Before this table the hint came again after every restart.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_help_keyboards"
down_revision: str | Sequence[str] | None = "0017_sqlite_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "help_keyboards",
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person"),
    )


def downgrade() -> None:
    op.drop_table("help_keyboards")
