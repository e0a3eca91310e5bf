"""Alembic environment (async) for Opstap's schema.

Rules of this module:

* ``storage.migrate`` passes an open synchronous connection in ``config.attributes["connection"]``
  (Alembic's connection-sharing recipe) so that migrations run inside the caller's event loop
  and transaction. From the command line there is none: the URL comes from ``-x url=...`` (or
  ``sqlalchemy.url``; only ``bot/settings.py`` reads the environment), and an engine is made
  here with :func:`storage.db.make_engine`, so the SQLite pragmas apply to migrations too.
* ``target_metadata`` is ``SQLModel.metadata`` after importing :mod:`storage.tables`, which
  declares every table.
* All of one upgrade runs in one transaction (PostgreSQL and SQLite both have transactional
  DDL), so a failing migration leaves the schema as it was.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database URL: pass -x url=...")
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: autogenerate writes batch operations for it.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_on(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    engine = make_engine(_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations_on)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    shared = config.attributes.get("connection")
    if shared is None:
        asyncio.run(_run_with_own_engine())
    else:
        run_migrations_on(shared)
