"""Run the Alembic migrations in ``storage/migrations`` from code.

Rules of this module:

* Alembic is configured here without an ini file, and the scripts are found next to this module
  (``Path(__file__).parent``), so migrating works from an installed package.
* :func:`upgrade` runs inside the caller's event loop (Alembic's connection-sharing recipe):
  ``env.py`` receives the open connection and does not start a loop of its own.
  :func:`upgrade_sync` is for scripts without a loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolation would read "%" in a password as a placeholder.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revisions() -> tuple[str, ...]:
    # Features add their migrations as branches off 0001 while they are built side by side;
    # ``upgrade`` applies every head, so nobody waits for a merge migration.
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


async def upgrade(url: str, revision: str = "heads") -> None:
    """Migrate the database at ``url`` up to ``revision`` (default: the newest)."""
    await _run(url, lambda config: command.upgrade(config, revision))


async def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at ``url`` down to ``revision`` (default: empty)."""
    await _run(url, lambda config: command.downgrade(config, revision))


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at (``None``: never migrated)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


async def current_heads(url: str) -> tuple[str, ...]:
    """Every revision the database at ``url`` is at (one per applied branch), sorted."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            heads = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()
            )
            return tuple(sorted(heads))
    finally:
        await engine.dispose()


def upgrade_sync(url: str, revision: str = "heads") -> None:
    asyncio.run(upgrade(url, revision))


async def _run(url: str, action: Callable[[Config], None]) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:

            def run(sync_connection: Connection) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_connection
                action(config)

            await connection.run_sync(run)
    finally:
        await engine.dispose()
