"""Outbox: whom a message for someone else is about, so ``/wis`` deletes it unsent.

Revision ID: 0019_outbox_about
Revises: 0018_help_keyboards
Create Date: 2026-12-06

Hand-written. ``outbox.about``: the young person whose data a message for someone else carries
(a coach's card, a relayed message, the handover's PDF for VDAB with its caption); ``NULL`` for
a message to the person themselves or one about nobody. ``/wis`` of that person deletes such
rows in the erasure's transaction. Rows written before this migration have ``NULL`` (they live
for seconds; retention drops a stuck one after seven days).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_outbox_about"
down_revision: str | Sequence[str] | None = "0018_help_keyboards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("about", sa.String(), nullable=True))
    op.create_index("ix_outbox_about", "outbox", ["about"])


def downgrade() -> None:
    op.drop_index("ix_outbox_about", table_name="outbox")
    op.drop_column("outbox", "about")
