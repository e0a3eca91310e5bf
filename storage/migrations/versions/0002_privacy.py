"""Privacy: consent records, anonymous report counts, the data access log; encrypted step ids.

Revision ID: 0002_privacy
Revises: 0001
Create Date: 2025-11-24

Hand-written. The revision id names the feature because other features branch off 0001 at the
same time (``storage.migrate.upgrade`` applies every head).

``sessions.step``, ``return_to`` and ``interrupted`` become TEXT: they hold encryption tokens
(``storage.db.EncryptedText``), longer than a step id. Existing plaintext values stay readable;
``opstap keys rotate`` encrypts them (a migration has no key).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_privacy"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEP_COLUMNS = ("step", "return_to", "interrupted")


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        for column in STEP_COLUMNS:
            batch.alter_column(
                column, existing_type=sa.String(), type_=sa.Text(), existing_nullable=True
            )

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("notice_version", sa.String(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consents_person", "consents", ["person"])

    op.create_table(
        "report_counts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "metric"),
    )

    op.create_table(
        "data_access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("coach", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("action IN ('received', 'viewed')", name="ck_data_access_log_action"),
    )
    op.create_index("ix_data_access_log_person", "data_access_log", ["person"])
    op.create_index("ix_data_access_log_at", "data_access_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_data_access_log_at", table_name="data_access_log")
    op.drop_index("ix_data_access_log_person", table_name="data_access_log")
    op.drop_table("data_access_log")
    op.drop_table("report_counts")
    op.drop_index("ix_consents_person", table_name="consents")
    op.drop_table("consents")
    with op.batch_alter_table("sessions") as batch:
        for column in STEP_COLUMNS:
            batch.alter_column(
                column, existing_type=sa.Text(), type_=sa.String(), existing_nullable=True
            )
