"""Escalation with an end: the team queue, the warm fallback, coach message ids, erased cases,
blind spots per place, and the outcomes that match reporting.

Revision ID: 0007_escalation
Revises: 0005_appointments
Create Date: 2026-12-06

Hand-written. ``cases`` gets ``escalated_at`` and ``fallback_at``; the checks of
``cases.status`` (+ ``escalated``), ``cases.outcome`` (+ ``not_reached``, ``ongoing``) and
``offers.status`` (+ ``withdrawn``) allow the new values. SQLite cannot alter a CHECK
constraint, and rebuilding ``cases`` would cascade-delete its offers and messages (foreign keys
are on and the upgrade runs in one transaction), so on SQLite the CHECK text is rewritten in
``sqlite_schema``: the procedure SQLite documents for changes that leave the stored rows valid
(ALTER TABLE, "making other kinds of table schema changes"), with the schema version bumped.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_escalation"
down_revision: str | Sequence[str] | None = "0005_appointments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)

OLD_CHECKS = {
    ("cases", "ck_cases_status"): "status IN ('waiting', 'offered', 'open', 'closed')",
    ("cases", "ck_cases_outcome"): (
        "outcome IS NULL OR outcome IN ('work', 'training', 'referred', 'stopped', 'other')"
    ),
    ("offers", "ck_offers_status"): "status IN ('open', 'accepted', 'declined', 'expired')",
}
NEW_CHECKS = {
    ("cases", "ck_cases_status"): (
        "status IN ('waiting', 'offered', 'open', 'closed', 'escalated')"
    ),
    ("cases", "ck_cases_outcome"): (
        "outcome IS NULL OR outcome IN ('work', 'training', 'referred', 'not_reached', "
        "'ongoing', 'stopped', 'other')"
    ),
    ("offers", "ck_offers_status"): (
        "status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')"
    ),
}


def _set_checks(checks: dict[tuple[str, str], str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for (table, name), condition in checks.items():
            op.drop_constraint(name, table, type_="check")
            op.create_check_constraint(name, table, condition)
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        for table in sorted({table for table, _ in checks}):
            sql = bind.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar_one()
            for (owner, name), condition in checks.items():
                if owner != table:
                    continue
                # One CHECK per line, as CREATE TABLE wrote it; the lookahead ends it there.
                pattern = re.compile(rf"CONSTRAINT {name} CHECK \(.*?\)(?=,?\s*\n)")
                sql, found = pattern.subn(f"CONSTRAINT {name} CHECK ({condition})", sql)
                if found != 1:
                    raise RuntimeError(f"check {name} not found on {table}")
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (sql, table),
            )
        bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade() -> None:
    # The CHECK rewrite first: on SQLite it expects the table text as CREATE TABLE wrote it.
    _set_checks(NEW_CHECKS)
    op.add_column("cases", sa.Column("escalated_at", TZ, nullable=True))
    op.add_column("cases", sa.Column("fallback_at", TZ, nullable=True))

    op.create_table(
        "coach_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.String(), nullable=False),
        sa.Column("chat", sa.String(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("sent_at", TZ, nullable=False),
        sa.Column("redacted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_coach_messages_case", ondelete="CASCADE"
        ),
        sa.CheckConstraint("kind IN ('card', 'relay', 'other')", name="ck_coach_messages_kind"),
    )
    op.create_index("ix_coach_messages_case_id", "coach_messages", ["case_id"])

    op.create_table(
        "erased_cases",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("coach_id", sa.String(), nullable=True),
        sa.Column("erased_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_erased_cases_partnership", "erased_cases", ["partnership"])

    op.create_table(
        "blind_spot_counts",
        sa.Column("month", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("municipality_nis", sa.String(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "kind", "municipality_nis", "partnership"),
    )


def downgrade() -> None:
    op.drop_table("blind_spot_counts")
    op.drop_index("ix_erased_cases_partnership", table_name="erased_cases")
    op.drop_table("erased_cases")
    op.drop_index("ix_coach_messages_case_id", table_name="coach_messages")
    op.drop_table("coach_messages")
    # Values the old checks do not know become their nearest old meaning.
    op.execute("UPDATE cases SET status = 'waiting' WHERE status = 'escalated'")
    op.execute("UPDATE cases SET outcome = 'other' WHERE outcome IN ('not_reached', 'ongoing')")
    op.execute("UPDATE offers SET status = 'expired' WHERE status = 'withdrawn'")
    _set_checks(OLD_CHECKS)
    # Native DROP COLUMN (SQLite 3.35+): a batch rebuild of ``cases`` would cascade-delete.
    op.drop_column("cases", "fallback_at")
    op.drop_column("cases", "escalated_at")
