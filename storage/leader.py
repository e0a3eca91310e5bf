"""Who is the one worker that polls Telegram: a PostgreSQL session-level advisory lock.

Rules of this module:

* The lock lives on a connection of its own, opened for this purpose and held for the life of
  the process: a session-level ``pg_try_advisory_lock`` belongs to that server session, so it
  is released the moment the holder's process dies (the kernel closes its socket and the server
  ends the session) or it closes the connection. No lease, no clock.
* The connection runs in autocommit: an idle open transaction would hold back the server's
  ``xmin`` horizon, and then no ``VACUUM`` could remove dead rows (erasure relies on it).
* Advisory locks are per database: two deployments on one server do not see each other's lock.
  The lock's two keys are a fixed namespace and the bot's numeric id, so two bots sharing a
  database each have their own poller.
* SQLite has no such lock and serves one worker only: :func:`leader_lock` gives ``None`` there
  (the one worker polls, as it always did).
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import make_engine

log = logging.getLogger(__name__)
# pg_try_advisory_lock(namespace, key): the first key is Opstap's ("OPST" in ASCII).
NAMESPACE = 0x4F505354


class LeaderLock(Protocol):
    """One holder among the workers of one database."""

    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; ``True`` when this worker holds it (also when it
        already did). Never raises: a database that cannot be reached means "not now"."""
        ...

    async def still_held(self) -> bool:
        """``False`` once the lock is lost (the connection was closed or broken)."""
        ...

    async def release(self) -> None:
        """Give the lock up (a graceful stop) and close its connection."""
        ...


class PostgresAdvisoryLock:
    """``pg_try_advisory_lock(NAMESPACE, key)`` on a dedicated autocommit connection."""

    def __init__(self, url: str, key: int) -> None:
        self._url = url
        # The second key is an int4: a bot id (up to 2**52) is folded into it.
        self.key = key % 2**31
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        self._held = False

    async def try_acquire(self) -> bool:
        if self._held and await self.still_held():
            return True
        try:
            connection = await self._connect()
            result = await connection.execute(
                text("SELECT pg_try_advisory_lock(:namespace, :key)"),
                {"namespace": NAMESPACE, "key": self.key},
            )
            self._held = bool(result.scalar())
        except Exception as error:
            log.info("leader lock not taken error=%s", type(error).__name__)
            await self._close()
            return False
        return self._held

    async def still_held(self) -> bool:
        if not self._held or self._connection is None:
            return False
        try:
            # The lock is the session's: the session answering means the lock is still ours.
            await self._connection.execute(text("SELECT 1"))
        except Exception as error:
            log.warning("leader lock lost error=%s", type(error).__name__)
            await self._close()
            return False
        return True

    async def release(self) -> None:
        if self._held and self._connection is not None:
            try:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:namespace, :key)"),
                    {"namespace": NAMESPACE, "key": self.key},
                )
            except Exception as error:
                log.info("leader lock release failed error=%s", type(error).__name__)
        await self._close()

    async def _connect(self) -> AsyncConnection:
        if self._connection is None:
            if self._engine is None:
                self._engine = make_engine(self._url)
            connection = await self._engine.connect()
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            self._connection = connection
        return self._connection

    async def _close(self) -> None:
        self._held = False
        connection, self._connection = self._connection, None
        engine, self._engine = self._engine, None
        if connection is not None:
            try:
                await connection.close()
            except Exception as error:
                log.info("leader connection close failed error=%s", type(error).__name__)
        if engine is not None:
            await engine.dispose()


def leader_lock(url: str, key: int) -> LeaderLock | None:
    """The lock for the database at ``url``: an advisory lock on PostgreSQL; ``None`` on SQLite,
    which serves one worker only."""
    if make_url(url).get_backend_name() in ("postgresql", "postgres"):
        return PostgresAdvisoryLock(url, key)
    return None
