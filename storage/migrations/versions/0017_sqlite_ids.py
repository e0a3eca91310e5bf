"""SQLite never gives a row id twice: ``AUTOINCREMENT`` on every table with a surrogate id.

Revision ID: 0017_sqlite_ids
Revises: 0008_web_transcript, 0010_inbox_outbox, 0011_team_queue, 0012_referral,
    0013_relay_files, 0014_drop_web_identities, 0016_team_stats
Create Date: 2026-12-06

Hand-written, and a merge point of the feature branches of the schema. Without
``AUTOINCREMENT`` SQLite hands out the highest id again once its row is deleted: after a young
person's ``/wis`` the next case could get the erased case's number, which its anonymous trace
(``erased_cases``), old coach buttons and the team's links still name. PostgreSQL's sequences
never reuse a number, so this changes nothing there.

On SQLite the table is not rebuilt: dropping ``cases`` would cascade-delete its offers and
messages (foreign keys are on and the upgrade runs in one transaction). A single-column
``INTEGER`` primary key is the rowid either way, so only the text in ``sqlite_schema`` changes
(the procedure migration ``0007_escalation`` uses, with the schema version bumped); the stored
rows and indexes stay as they are.
"""

import re
from collections.abc import Callable, Sequence

from alembic import op

revision: str = "0017_sqlite_ids"
down_revision: str | Sequence[str] | None = (
    "0008_web_transcript",
    "0010_inbox_outbox",
    "0011_team_queue",
    "0012_referral",
    "0013_relay_files",
    "0014_drop_web_identities",
    "0016_team_stats",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table whose primary key is a surrogate integer ``id`` and that did not have
# AUTOINCREMENT yet (inbox_pending, outbox, referral_arrivals and web_transcript were created
# with it).
TABLES = (
    "appointments",
    "case_members",
    "case_notes",
    "cases",
    "coach_messages",
    "consents",
    "data_access_log",
    "handovers",
    "offers",
    "ratings",
    "relay_files",
    "relay_messages",
    "reminders",
    "safety_events",
    "team_audit",
    "team_login_attempts",
    "team_users",
)

_PLAIN_ID = re.compile(r"^(\s*)id INTEGER NOT NULL,", re.MULTILINE)
_TABLE_KEY = re.compile(r"^[ \t]*PRIMARY KEY \(id\),[ \t]*\n", re.MULTILINE)
_LAST_TABLE_KEY = re.compile(r",[ \t]*\n[ \t]*PRIMARY KEY \(id\)[ \t]*\n\)")
_AUTO_ID = re.compile(r"^(\s*)id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,", re.MULTILINE)
# Where the table key goes back on a downgrade: before the first table constraint, or at the
# end of the column list.
_FIRST_CONSTRAINT = re.compile(r"^([ \t]*)CONSTRAINT ", re.MULTILINE)


def _with_autoincrement(sql: str, table: str) -> str:
    sql, ids = _PLAIN_ID.subn(r"\1id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,", sql, count=1)
    sql, keys = _TABLE_KEY.subn("", sql, count=1)
    if keys == 0:  # the key is the table's last element
        sql, keys = _LAST_TABLE_KEY.subn("\n)", sql, count=1)
    if ids != 1 or keys != 1:
        raise RuntimeError(f"{table}: the id column or its table key is not as created")
    return sql


def _without_autoincrement(sql: str, table: str) -> str:
    sql, ids = _AUTO_ID.subn(r"\1id INTEGER NOT NULL,", sql, count=1)
    if ids != 1:
        raise RuntimeError(f"{table}: no AUTOINCREMENT id")
    constraint = _FIRST_CONSTRAINT.search(sql)
    if constraint is not None:
        at = constraint.start()
        return sql[:at] + f"{constraint.group(1)}PRIMARY KEY (id), \n" + sql[at:]
    end = sql.rstrip().rindex(")")
    body = sql[:end].rstrip()
    return f"{body}, \n\tPRIMARY KEY (id)\n)"


def _rewrite(change: Callable[[str, str], str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return  # PostgreSQL: an identity/serial column never hands out a number twice.
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        for table in TABLES:
            sql = bind.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar_one()
            new = change(sql, table)
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (new, table),
            )
        bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")
    # AUTOINCREMENT keeps its counters in sqlite_sequence: start each at the highest id there
    # is, so that even the newest rows' numbers are not handed out again.
    if change is _with_autoincrement:
        for table in TABLES:
            bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
            # The table name is one of TABLES above, never input.
            highest = f'SELECT ?, MAX(id) FROM "{table}" HAVING MAX(id) IS NOT NULL'  # noqa: S608
            bind.exec_driver_sql(f"INSERT INTO sqlite_sequence (name, seq) {highest}", (table,))
    else:
        for table in TABLES:
            bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))


def upgrade() -> None:
    _rewrite(_with_autoincrement)


def downgrade() -> None:
    _rewrite(_without_autoincrement)
