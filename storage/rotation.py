"""Key rotation: re-encrypt every encrypted column under the keyring's active key.

Rules of this module:

* The columns are found, not listed: every column of ``SQLModel.metadata`` whose type is
  :class:`storage.db.EncryptedText` (so a feature's new encrypted column is rotated too).
* Batches of ``batch`` rows per transaction, walked by primary key, so a long rotation neither
  holds one huge transaction nor blocks the service for long (SQLite has one writer).
* Each row is updated with a compare-and-set on the old value: a value the running service
  rewrote meanwhile (already under the active key) is left alone, never overwritten.
* Plaintext rows (written before a key was configured) are encrypted as well.
* Only counts come back; no value is ever logged or printed.
* Afterwards the database is scrubbed (:mod:`storage.scrub`): no old-key copy stays behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, RowMapping, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from storage.codec import aad
from storage.crypto import Keyring
from storage.db import EncryptedText, make_engine
from storage.scrub import scrub_engine


@dataclass
class RotationReport:
    # Values looked at, and values rewritten per "table.column".
    checked: int = 0
    rewritten: dict[str, int] = field(default_factory=dict)

    @property
    def total_rewritten(self) -> int:
        return sum(self.rewritten.values())


def encrypted_columns() -> list[tuple[Table, list[Column[Any]]]]:
    """Every table with :class:`EncryptedText` columns, and those columns."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        if columns:
            found.append((table, columns))
    return found


async def rotate(url: str, keyring: Keyring, *, batch: int = 200) -> RotationReport:
    engine = make_engine(url)
    try:
        report = await rotate_engine(engine, keyring, batch=batch)
        # The values under the old key must not linger in the WAL or in dead rows.
        await scrub_engine(engine)
        return report
    finally:
        await engine.dispose()


async def rotate_engine(
    engine: AsyncEngine, keyring: Keyring, *, batch: int = 200
) -> RotationReport:
    report = RotationReport()
    for table, columns in encrypted_columns():
        keys = list(table.primary_key.columns)
        if len(keys) != 1:
            raise ValueError(f"{table.name}: key rotation needs a one-column primary key")
        key = keys[0]
        last: Any = None
        while True:
            query = select(key, *columns).order_by(key).limit(batch)
            if last is not None:
                query = query.where(key > last)
            async with engine.begin() as conn:
                rows = (await conn.execute(query)).mappings().all()
                for row in rows:
                    await _rotate_row(conn, table, key, columns, row, keyring, report)
            if len(rows) < batch:
                break
            last = rows[-1][key.name]
    return report


async def _rotate_row(
    conn: AsyncConnection,
    table: Table,
    key: Column[Any],
    columns: list[Column[Any]],
    row: RowMapping,
    keyring: Keyring,
    report: RotationReport,
) -> None:
    changes: dict[str, str] = {}
    for column in columns:
        value = row[column.name]
        if value is None:
            continue
        report.checked += 1
        if not keyring.needs_rotation(value):
            continue
        where = aad(table.name, column.name)
        changes[column.name] = keyring.encrypt(keyring.decrypt(value, where), where)
    if not changes:
        return
    unchanged = [table.c[name] == row[name] for name in changes]
    result = await conn.execute(
        update(table).where(key == row[key.name], *unchanged).values(changes)
    )
    if result.rowcount == 1:
        for name in changes:
            label = f"{table.name}.{name}"
            report.rewritten[label] = report.rewritten.get(label, 0) + 1
