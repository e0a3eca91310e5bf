"""Scrubbing: after an erasure or a key rotation, no readable copy of the old values stays in
the database's files.

Rules of this module:

* SQLite runs with ``secure_delete=ON`` (:mod:`storage.db`), so a deleted or rewritten cell is
  zeroed in its page. The old page images still sit in the write-ahead log until a checkpoint:
  :func:`scrub_engine` runs ``wal_checkpoint(TRUNCATE)`` (retried while readers hold old
  snapshots), which copies the zeroed pages home and empties the WAL file.
* PostgreSQL keeps deleted and updated rows as dead tuples, and a plain ``VACUUM`` frees their
  space without overwriting it. ``VACUUM FULL`` rewrites each table (and its TOAST and indexes)
  into new files and drops the old ones. It takes an exclusive lock for the few milliseconds a
  small table needs; ``lock_timeout`` keeps it from queueing behind a long transaction (it is
  then tried again by the daily retention run). It first waits (up to two seconds) for
  snapshots older than the erasure to end, since VACUUM must keep what they could still see.
* The tables are found, not listed: every table of ``SQLModel.metadata`` (personal data can sit
  in any feature's table).
* Nothing is logged here; callers log counts and error types.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from storage.db import is_postgres

CHECKPOINT_ATTEMPTS = 20
CHECKPOINT_PAUSE = 0.05
PG_LOCK_TIMEOUT = "5s"
SNAPSHOT_WAITS = 40


class ScrubIncomplete(RuntimeError):
    """The WAL could not be emptied (a reader kept an old snapshot open)."""


def personal_tables() -> list[str]:
    return [table.name for table in SQLModel.metadata.sorted_tables]


async def scrub_engine(engine: AsyncEngine) -> None:
    if is_postgres(engine):
        await _vacuum_full(engine)
    else:
        await _checkpoint(engine)


async def _vacuum_full(engine: AsyncEngine) -> None:
    names = ", ".join(f'"{name}"' for name in personal_tables())
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        # VACUUM keeps a dead row that a snapshot older than its deletion could still see
        # (another session, or a backend just connecting anywhere in the cluster). Wait, a
        # little, until no snapshot is older than now.
        now = (await auto.execute(text("SELECT txid_current() % 4294967296"))).scalar_one()
        for _ in range(SNAPSHOT_WAITS):
            older = (
                await auto.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                        " AND backend_xmin IS NOT NULL"
                        " AND age(backend_xmin) > age(CAST(:now AS xid))"
                    ),
                    {"now": int(now)},
                )
            ).scalar_one()
            if not older:
                break
            await asyncio.sleep(CHECKPOINT_PAUSE)
        await auto.execute(text(f"SET lock_timeout = '{PG_LOCK_TIMEOUT}'"))
        await auto.execute(text(f"VACUUM FULL {names}"))
        await auto.execute(text("RESET lock_timeout"))


async def _checkpoint(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        # The driver's own connection: SQLAlchemy would open a transaction first (our
        # BEGIN IMMEDIATE), and a checkpoint cannot run inside one.
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        for _ in range(CHECKPOINT_ATTEMPTS):
            cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            row = await cursor.fetchone()
            await cursor.close()
            if row is not None and row[0] == 0:
                return
            await asyncio.sleep(CHECKPOINT_PAUSE)
    raise ScrubIncomplete("the write-ahead log is still in use")
