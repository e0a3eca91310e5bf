"""The migrations build exactly the schema the tables declare, and can be undone.

A table, column or index added to ``storage/tables.py`` without a migration fails
:func:`test_the_migrated_schema_matches_the_tables`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage import tables as _registered  # noqa: F401  (all tables on SQLModel.metadata)
from storage.db import is_postgres, make_engine
from storage.migrate import (
    MIGRATIONS,
    alembic_config,
    current_heads,
    current_revision,
    downgrade,
    head_revisions,
    upgrade,
    upgrade_sync,
)
from tests.storage.conftest import create_database, drop_database, run_in_thread

TABLES = {"sessions", "reminders", "processed_updates", "consents"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'dir' / 'opstap.db'}"
        return
    request.getfixturevalue("postgres_server")
    name, url = await create_database("opstap_migrations")
    try:
        yield url
    finally:
        await drop_database(name)


async def schema_diff(url: str, metadata: MetaData) -> list[Any]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:

            def diff(sync: Connection) -> list[Any]:
                context = MigrationContext.configure(sync, opts={"compare_type": True})
                return list(compare_metadata(context, metadata))

            return await conn.run_sync(diff)
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


def test_the_migrations_ship_with_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    # Features branch off 0001 side by side; every branch has a head.
    assert head_revisions()


async def test_the_migrated_schema_matches_the_tables(empty_url: str) -> None:
    assert await current_revision(empty_url) is None
    await upgrade(empty_url)
    assert await current_heads(empty_url) == tuple(sorted(head_revisions()))
    assert await table_names(empty_url) >= TABLES
    assert await schema_diff(empty_url, SQLModel.metadata) == []
    await upgrade(empty_url)  # already at head: nothing to do
    assert await current_heads(empty_url) == tuple(sorted(head_revisions()))


def normalized_predicate(clause: object) -> str | None:
    """``(status)::text = 'pending'::text`` -> ``status='pending'``."""
    if clause is None:
        return None
    return re.sub(r"::\w+|[()\s\"]", "", str(clause)).lower()


async def partial_index_predicates(url: str) -> dict[tuple[str, str], str | None]:
    engine = make_engine(url)
    option = f"{engine.dialect.name}_where"
    try:
        async with engine.connect() as conn:

            def reflect(sync: Connection) -> dict[tuple[str, str], str | None]:
                inspector = inspect(sync)
                return {
                    (table, index["name"] or ""): normalized_predicate(
                        index.get("dialect_options", {}).get(option)
                    )
                    for table in inspector.get_table_names()
                    if table != "alembic_version"
                    for index in inspector.get_indexes(table)
                }

            return await conn.run_sync(reflect)
    finally:
        await engine.dispose()


async def test_partial_index_predicates_match_the_tables(empty_url: str) -> None:
    # compare_metadata ignores the WHERE of a partial index, so compare it here.
    await upgrade(empty_url)
    reflected = await partial_index_predicates(empty_url)
    dialect = "postgresql" if empty_url.startswith("postgresql") else "sqlite"
    declared = {
        (table.name, str(index.name)): normalized_predicate(
            index.dialect_options[dialect].get("where")
        )
        for table in SQLModel.metadata.tables.values()
        for index in table.indexes
    }
    assert reflected == declared
    assert declared[("reminders", "uq_reminders_pending_person_key")] == "status='pending'"


async def test_the_schema_check_notices_a_missing_migration(empty_url: str) -> None:
    await upgrade(empty_url)
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    Table("not_migrated_yet", changed, Column("id", Integer, primary_key=True))
    changed.tables["sessions"].append_column(Column("nickname", String(), nullable=True))
    diff = await schema_diff(empty_url, changed)
    assert {entry[0] for entry in diff} == {"add_table", "add_column"}


async def test_downgrade_to_base_and_up_again(empty_url: str) -> None:
    await upgrade(empty_url)
    await downgrade(empty_url)
    assert await current_revision(empty_url) is None
    assert not (TABLES & await table_names(empty_url))
    await upgrade(empty_url)
    assert await schema_diff(empty_url, SQLModel.metadata) == []


def test_upgrade_sync_and_the_command_line_environment(tmp_path: Path) -> None:
    # upgrade_sync runs its own loop; command.upgrade without a shared connection is how the
    # alembic command line runs env.py (it makes its own engine).
    first = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    upgrade_sync(first)
    second = f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"
    command.upgrade(alembic_config(second), "heads")
    heads = tuple(sorted(head_revisions()))
    assert run_in_thread(lambda: current_heads(first)) == heads
    assert run_in_thread(lambda: current_heads(second)) == heads


async def test_a_sqlite_engine_is_configured_for_several_processes(tmp_path: Path) -> None:
    # A plain sqlite:/// URL gets the async driver; the parent directory is created.
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'opstap.db'}")
    try:
        assert not is_postgres(engine)
        async with engine.connect() as conn:
            pragmas = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10_000}
    assert (tmp_path / "new" / "opstap.db").is_file()


def test_an_unknown_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql+aiomysql://localhost/opstap")
