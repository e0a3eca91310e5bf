"""``make migration NAME=0006_feature MSG="..."``: draft a migration from the table changes.

Rules of this module:

* A scratch SQLite database (deleted afterwards) is migrated to the current heads, and Alembic
  compares it with the tables :mod:`storage.tables` declares; the difference becomes
  ``storage/migrations/versions/<NAME>.py`` with revision id ``NAME`` on top of the one head.
* It is a draft: read it, name constraints, add the data steps and the ``downgrade``, and let
  ``tests/storage/test_migrations.py`` prove it on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from sqlalchemy.engine import Connection

from storage.db import make_engine
from storage.migrate import alembic_config, head_revisions, upgrade

_NAME = re.compile(r"^\d{4}_[a-z][a-z0-9_]*$")


async def draft(name: str, message: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'scratch.db'}"
        await upgrade(url)
        engine = make_engine(url)
        try:
            async with engine.begin() as connection:

                def run(sync_connection: Connection) -> None:
                    config = alembic_config(url)
                    config.attributes["connection"] = sync_connection
                    config.set_main_option("file_template", "%%(rev)s")
                    command.revision(config, message=message, autogenerate=True, rev_id=name)

                await connection.run_sync(run)
        finally:
            await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make migration", description=__doc__)
    parser.add_argument("name", help="revision id and file name, e.g. 0006_dashboard")
    parser.add_argument("message", help="one line: what the migration adds")
    args = parser.parse_args(argv)
    if not _NAME.match(args.name):
        print(f"migration: '{args.name}' is not like 0006_dashboard", file=sys.stderr)
        return 2
    if len(head_revisions()) != 1:
        print(
            "migration: the migrations have more than one head; chain them first", file=sys.stderr
        )
        return 2
    asyncio.run(draft(args.name, args.message))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
