"""Erasure and key rotation reach every copy (issue #16, deliverable 7), checked byte by byte:
after ``/wis`` the typed words are in none of SQLite's files (database, WAL, shared memory)
while the service runs and after it stops, and in no page of any PostgreSQL relation (dead rows
included, read with ``pageinspect``); after a key rotation no value under the old key is left.

The erasure checks run without a key on purpose: the words are then stored as plaintext, so a
copy anywhere would be found (the control asserts it is there before ``/wis``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from flows.hello import FLOW as HELLO
from flows.inputs import ButtonPressed, CommandReceived, TextReceived
from storage.crypto import Keyring
from storage.migrate import upgrade
from storage.ports import Storage
from storage.rotation import rotate
from storage.sql import open_storage
from tests.privacy.conftest import ANNA, CANARY, T0, make_harness
from tests.storage.conftest import create_database, drop_database, postgres_unavailable

OLD = Keyring.generate("oldkey")
NEW = Keyring.generate("newkey")


async def talk_and_erase(storage: Storage, *, erase: bool = True) -> None:
    harness = make_harness(storage, flows=(HELLO,))
    service = harness.service
    await service.handle(ANNA, CommandReceived("start", "", T0))
    await service.handle(ANNA, ButtonPressed("mood=bad", T0))
    await service.handle(ANNA, TextReceived(CANARY, T0))
    if erase:
        await service.handle(ANNA, ButtonPressed("privacy=erase:yes", T0))
        assert harness.channel.last(ANNA).text == "privacy.erase.done"


def sqlite_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("opstap.db*")))


def found(blob: bytes, needle: str) -> bool:
    return needle.encode() in blob or needle.encode("utf-16-le") in blob


# --- SQLite -----------------------------------------------------------------------------------


async def test_erased_words_leave_no_copy_in_the_sqlite_files(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    control = await open_storage(url)
    try:
        await talk_and_erase(control, erase=False)
        assert found(sqlite_bytes(tmp_path), CANARY)  # the check looks in the right place
        harness = make_harness(control, flows=(HELLO,))
        await harness.service.handle(ANNA, ButtonPressed("privacy=erase:yes", T0))
        # While the service still runs (its connections open, the WAL file present).
        assert not found(sqlite_bytes(tmp_path), CANARY)
    finally:
        await control.close()
    assert not found(sqlite_bytes(tmp_path), CANARY)


async def test_a_rotation_leaves_no_old_key_value_in_the_sqlite_files(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    running = await open_storage(url, Keyring.parse(OLD))
    try:
        await talk_and_erase(running, erase=False)
        assert b"enc:v1:oldkey:" in sqlite_bytes(tmp_path)
        report = await rotate(url, Keyring.parse(f"{NEW},{OLD}"))
        assert report.total_rewritten > 0
        assert b"enc:v1:oldkey:" not in sqlite_bytes(tmp_path)
        assert b"enc:v1:newkey:" in sqlite_bytes(tmp_path)
    finally:
        await running.close()
    assert b"enc:v1:oldkey:" not in sqlite_bytes(tmp_path)


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    try:
        name, url = await create_database("opstap_scrub")
    except Exception as error:  # any failure to connect means "no server"
        postgres_unavailable(f"{type(error).__name__}: {error}")
        return
    try:
        await upgrade(url)
        yield url
    finally:
        await drop_database(name)


async def pages_holding(url: str, needle: str) -> int:
    """How many pages of every table, TOAST table and index hold ``needle`` (live or dead)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            relations = (
                (
                    await conn.execute(
                        text(
                            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n"
                            " ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'pg_toast')"
                            " AND c.relkind IN ('r', 't', 'i')"
                        )
                    )
                )
                .scalars()
                .all()
            )
            hits = 0
            for relation in relations:
                hit = int(
                    (
                        await conn.execute(
                            text(
                                "SELECT count(*) FROM generate_series(0,"
                                " (pg_relation_size(CAST(:r AS regclass)) / 8192)::int - 1) AS b"
                                " WHERE position(CAST(:n AS bytea) IN"
                                " get_raw_page(CAST(:r AS text), b)) > 0"
                            ),
                            {"r": relation, "n": needle.encode()},
                        )
                    ).scalar_one()
                )
                hits += hit
        return hits
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_erased_words_leave_no_dead_row_in_postgres(pg_url: str) -> None:
    storage = await open_storage(pg_url)
    try:
        await talk_and_erase(storage, erase=False)
        assert await pages_holding(pg_url, CANARY) > 0  # the control
        harness = make_harness(storage, flows=(HELLO,))
        await harness.service.handle(ANNA, ButtonPressed("privacy=erase:yes", T0))
        assert harness.channel.last(ANNA).text == "privacy.erase.done"
        assert await pages_holding(pg_url, CANARY) == 0
    finally:
        await storage.close()


@pytest.mark.postgres
async def test_a_rotation_leaves_no_old_key_value_in_postgres(pg_url: str) -> None:
    storage = await open_storage(pg_url, Keyring.parse(OLD))
    try:
        await talk_and_erase(storage, erase=False)
        assert await pages_holding(pg_url, "enc:v1:oldkey:") > 0
        await rotate(pg_url, Keyring.parse(f"{NEW},{OLD}"))
        assert await pages_holding(pg_url, "enc:v1:oldkey:") == 0
        assert await pages_holding(pg_url, "enc:v1:newkey:") > 0
    finally:
        await storage.close()
