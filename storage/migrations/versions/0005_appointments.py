"""Appointments: the appointments, ratings and reachability tables.

Revision ID: 0005_appointments
Revises: 0004_safety
Create Date: 2026-11-24

Hand-written. A branch off 0001 like the other features being built at the same time
(``storage.migrate.upgrade`` applies every head). ``appointments.options``,
``appointments.place`` and ``ratings.ratings`` hold encryption tokens
(``storage.db.EncryptedText``, TEXT in the database). No foreign key to ``cases``: that table
is created on another branch; the retention job removes rows whose case is gone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_appointments"
down_revision: str | Sequence[str] | None = "0004_safety"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
STATUSES = ("proposed", "booked", "cancelled", "attended", "missed", "rescheduled")
KINDS = ("intake", "three_months", "closing")


def _among(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("coach", sa.String(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("chosen", sa.Integer(), nullable=True),
        sa.Column("starts_at", TZ, nullable=True),
        sa.Column("kind", sa.String(), nullable=True),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("missed_in_row", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(_among("status", STATUSES), name="ck_appointments_status"),
    )
    op.create_index("ix_appointments_person", "appointments", ["person"])
    op.create_index("ix_appointments_case_id", "appointments", ["case_id"])

    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("taken_at", TZ, nullable=False),
        sa.Column("ratings", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(_among("kind", KINDS), name="ck_ratings_kind"),
    )
    op.create_index("ix_ratings_person", "ratings", ["person"])
    op.create_index("ix_ratings_case_id", "ratings", ["case_id"])

    op.create_table(
        "reachability",
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("unreachable_since", TZ, nullable=False),
        sa.PrimaryKeyConstraint("person"),
    )


def downgrade() -> None:
    op.drop_table("reachability")
    op.drop_index("ix_ratings_case_id", table_name="ratings")
    op.drop_index("ix_ratings_person", table_name="ratings")
    op.drop_table("ratings")
    op.drop_index("ix_appointments_case_id", table_name="appointments")
    op.drop_index("ix_appointments_person", table_name="appointments")
    op.drop_table("appointments")
