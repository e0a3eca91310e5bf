"""Async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg), and the UTC datetime type.

Rules of this module:

* :func:`make_engine` is the only place an engine is created, so the SQLite pragmas below apply
  to the application, the migrations and the tests alike.
* SQLite runs in WAL mode with ``foreign_keys=ON`` and a busy timeout, and every transaction
  starts with ``BEGIN IMMEDIATE``. Why: with the driver's default deferred BEGIN, a transaction
  that read first and writes later fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT,
  which the busy timeout does not cover) when another process wrote in between. Taking the write
  lock up front makes writers queue for up to the busy timeout instead; the cost is that SQLite
  transactions run one at a time, which suits a single small deployment.
* Datetimes are stored as UTC. :class:`UtcDateTime` refuses naive input and always returns aware
  UTC, because SQLite hands back naive datetimes.
* :class:`EncryptedText` marks columns that hold encryption tokens (:mod:`storage.crypto`).
  It stores TEXT and encrypts nothing itself: a column type cannot hold the keyring, which is
  passed to ``open_storage`` instead. Key rotation and the data-inventory test find the encrypted
  columns by this type.
* A read-only transaction (``Storage.reading``, the execution option :data:`READ_ONLY_OPTION`)
  is the one exception: a deferred ``BEGIN`` with ``query_only``, so it never queues for the
  write lock and a write in it raises. PostgreSQL gets ``SET TRANSACTION READ ONLY``.
* SQLite runs with ``secure_delete=ON``: a deleted row (an erasure) is overwritten with zeros in
  the file instead of lingering in a free page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import DateTime, Text, TypeDecorator

from storage.codec import to_utc

SQLITE_BUSY_TIMEOUT_MS = 10_000
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


class UtcDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, naive-UTC text on SQLite; aware UTC in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = to_utc(value)
        if dialect.name == "sqlite":
            # SQLite compares datetimes as text: one fixed zone and format keeps order correct.
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError("expected a datetime from the database")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EncryptedText(TypeDecorator[str]):
    """A column of encryption tokens (``enc:v1:...``) or legacy plaintext; TEXT in the database."""

    impl = Text
    cache_ok = True


def make_engine(url: str) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...``.

    ``sqlite:///`` and ``postgresql://`` (as hosting panels hand them out) get the async driver.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])
        backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        # pre_ping: a connection the server dropped overnight is replaced instead of failing
        # the first update of the morning.
        return create_async_engine(parsed, pool_pre_ping=True)
    raise ValueError(f"unsupported database backend: {backend}")


READ_ONLY_OPTION = "opstap_read_only"
"""The connection execution option that makes a transaction a read (see the module rules)."""


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the sqlite3 module, so that "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
            # NORMAL is durable enough in WAL mode (a power cut may lose the last commit, never
            # corrupt the file) and avoids an fsync per transaction.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA secure_delete=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read (``Storage.reading``) begins deferred: in WAL mode it reads a snapshot and
        # never waits for the write lock. ``query_only`` makes a write in it fail instead of
        # taking the lock halfway (SQLITE_BUSY_SNAPSHOT). The pragma stays with the pooled
        # connection, so it is switched back only when it was on.
        reading = bool(connection.get_execution_options().get(READ_ONLY_OPTION))
        if reading != connection.info.get(READ_ONLY_OPTION, False):
            connection.exec_driver_sql(f"PRAGMA query_only={'ON' if reading else 'OFF'}")
            connection.info[READ_ONLY_OPTION] = reading
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"
