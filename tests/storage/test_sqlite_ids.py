"""SQLite never hands out a row id twice (migration ``0017_sqlite_ids``).

Without ``AUTOINCREMENT`` SQLite gives the highest id again once its row is deleted: after a
``/wis`` the next case got the erased case's number, which its anonymous trace and old buttons
still name.  PostgreSQL's sequences never reuse a number.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Integer
from sqlmodel import SQLModel

from storage import tables as _registered  # noqa: F401  (all tables on SQLModel.metadata)
from storage.db import make_engine
from storage.migrate import downgrade, upgrade
from storage.routing_port import RELAY_DIRECTIONS

BEFORE = (
    "0008_web_transcript",
    "0010_inbox_outbox",
    "0011_team_queue",
    "0012_referral",
    "0013_relay_files",
    "0014_drop_web_identities",
    "0016_team_stats",
)
NOW = "2026-12-06 10:00:00.000000"


def surrogate_tables() -> list[str]:
    """Tables whose key is one integer column the database numbers itself."""
    names = []
    for table in SQLModel.metadata.tables.values():
        key = list(table.primary_key.columns)
        if len(key) == 1 and isinstance(key[0].type, Integer) and key[0].autoincrement is not False:
            names.append(table.name)
    return sorted(names)


def test_every_table_with_a_surrogate_id_never_reuses_one_on_sqlite() -> None:
    tables = surrogate_tables()
    assert "cases" in tables and "offers" in tables
    missing = [
        name
        for name in tables
        if not SQLModel.metadata.tables[name].dialect_kwargs.get("sqlite_autoincrement")
    ]
    assert missing == [], f"add {{'sqlite_autoincrement': True}} to __table_args__: {missing}"


async def _sql(url: str, statement: str, *params: object) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.exec_driver_sql(statement, tuple(params))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def _add_case(url: str, case_id: int | None = None) -> int:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            columns = (
                "person, partnership, language, status, intake, created_at, updated_at, reopened"
            )
            values = "'p', 'gent', 'nl', 'waiting', '{}', ?, ?, 0"
            params: tuple[object, ...] = (NOW, NOW)
            if case_id is not None:
                columns, values, params = f"id, {columns}", f"?, {values}", (case_id, *params)
            result = await conn.exec_driver_sql(
                f"INSERT INTO cases ({columns}) VALUES ({values})", params
            )
            return int(result.lastrowid)
    finally:
        await engine.dispose()


async def test_an_erased_case_number_is_not_given_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    await upgrade(url)
    await _add_case(url)
    newest = await _add_case(url)
    await _sql(url, "DELETE FROM cases WHERE id = ?", newest)
    assert await _add_case(url) > newest


async def test_the_migration_keeps_every_row_and_continues_after_the_newest(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    for head in BEFORE:
        await upgrade(url, head)
    for number in (1, 2, 3):
        await _add_case(url, number)
    direction = RELAY_DIRECTIONS[0]
    await _sql(
        url,
        "INSERT INTO relay_messages (case_id, direction, text, at, delivered) "
        "VALUES (2, ?, 'sealed', ?, 1)",
        direction,
        NOW,
    )
    await upgrade(url)

    # Rebuilding cases would have cascade-deleted its messages.
    assert await _sql(url, "SELECT case_id FROM relay_messages") == [(2,)]

    assert await _sql(url, "SELECT id FROM cases ORDER BY id") == [(1,), (2,), (3,)]
    assert await _sql(url, "PRAGMA integrity_check") == [("ok",)]
    assert await _sql(url, "PRAGMA foreign_key_check") == []
    schema = await _sql(url, "SELECT sql FROM sqlite_master WHERE name = 'cases'")
    assert "AUTOINCREMENT" in str(schema[0][0])
    # The newest case is erased; its number is not handed out again.
    await _sql(url, "DELETE FROM cases WHERE id = 3")
    assert await _add_case(url) == 4


async def test_the_migrated_tables_say_what_a_new_database_says(tmp_path: Path) -> None:
    migrated = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    await upgrade(migrated)
    rows = await _sql(
        migrated,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'",
    )
    assert sorted(str(name) for (name,) in rows) == surrogate_tables()


async def test_downgrade_takes_autoincrement_away_and_keeps_the_rows(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'down.db'}"
    await upgrade(url)
    await _add_case(url)
    for head in BEFORE:
        await downgrade(url, head)
    rows = await _sql(
        url, "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'"
    )
    assert "cases" not in {str(name) for (name,) in rows}
    assert await _sql(url, "SELECT COUNT(*) FROM cases") == [(1,)]
    assert await _sql(url, "PRAGMA integrity_check") == [("ok",)]
    await upgrade(url)
    assert await _sql(url, "PRAGMA integrity_check") == [("ok",)]
