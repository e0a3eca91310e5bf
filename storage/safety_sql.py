"""SQL adapter of :class:`storage.safety_port.SafetyEventRepository` (SQLite and PostgreSQL).

Rules of this module (those of :mod:`storage.sql` apply): SQLAlchemy Core on the transaction's
connection; opening an event is ``INSERT ... ON CONFLICT DO NOTHING`` against the partial
unique index, then the open row is read again, so two concurrent flags of one person end up in
one event on both databases. The category is sealed with the keyring (none: plaintext). Nothing
is logged.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, RowMapping, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.ids import CaseId, PersonId
from storage.assembly import SQL_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, unseal
from storage.safety import (
    CATEGORIES_AAD,
    CATEGORY_AAD,
    OPEN_PREDICATE,
    SAFETY_EVENTS,
    join_categories,
    merge_categories,
    split_categories,
)
from storage.safety_port import SAFETY_KEY, SafetyEventRecord, check_safety_category

T = SAFETY_EVENTS


def _record(row: RowMapping, keyring: Keyring | None) -> SafetyEventRecord:
    return SafetyEventRecord(
        id=int(row["id"]),
        person=PersonId(row["person"]),
        case_id=None if row["case_id"] is None else CaseId(row["case_id"]),
        category=unseal(keyring, row["category"], CATEGORY_AAD),
        opened_at=row["opened_at"],
        last_flag_at=row["last_flag_at"],
        flags=int(row["flags"]),
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=None
        if row["acknowledged_by"] is None
        else PersonId(row["acknowledged_by"]),
        closed_at=row["closed_at"],
        closed_by=None if row["closed_by"] is None else PersonId(row["closed_by"]),
        escalated_at=row["escalated_at"],
        categories=split_categories(
            None
            if row["categories"] is None
            else unseal(keyring, row["categories"], CATEGORIES_AAD)
        ),
    )


class SqlSafetyEvents:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    async def _one(self, *conditions: ColumnElement[bool]) -> SafetyEventRecord | None:
        result = await self._conn.execute(select(T).where(*conditions))
        row = result.mappings().first()
        return None if row is None else _record(row, self._keyring)

    def _seal_categories(self, codes: tuple[str, ...]) -> str:
        return seal(self._keyring, join_categories(codes), CATEGORIES_AAD)

    async def open_or_get(
        self,
        person: PersonId,
        category: str,
        now: datetime,
        *,
        case_id: CaseId | None = None,
        flagged: str | None = None,
    ) -> tuple[SafetyEventRecord, bool]:
        sealed = seal(self._keyring, check_safety_category(category), CATEGORY_AAD)
        new = check_safety_category(flagged or category)
        now = to_utc(now)
        values = {
            "person": person,
            "case_id": case_id,
            "category": sealed,
            "categories": self._seal_categories((new,)),
            "opened_at": now,
            "last_flag_at": now,
            "flags": 1,
        }
        if self._conn.dialect.name == "postgresql":
            insert: postgresql.Insert | sqlite.Insert = postgresql.insert(T).values(values)
        else:
            insert = sqlite.insert(T).values(values)
        statement = insert.on_conflict_do_nothing(
            index_elements=[T.c.person], index_where=text(OPEN_PREDICATE)
        ).returning(T.c.id)
        result = await self._conn.execute(statement)
        if result.scalar_one_or_none() is not None:
            opened = await self.current(person)
            assert opened is not None  # inserted just now, in this transaction
            return opened, True
        before = await self.current(person)
        kept = before.all_categories if before is not None else ()
        changes: dict[str, object] = {
            "category": sealed,
            "categories": self._seal_categories(merge_categories(kept, new)),
            "last_flag_at": now,
            "flags": T.c.flags + 1,
        }
        if case_id is not None:
            changes["case_id"] = case_id
        await self._conn.execute(
            update(T).where(T.c.person == person, T.c.closed_at.is_(None)).values(changes)
        )
        event = await self.current(person)
        assert event is not None  # the conflict means an open row exists
        return event, False

    async def current(self, person: PersonId) -> SafetyEventRecord | None:
        return await self._one(T.c.person == person, T.c.closed_at.is_(None))

    async def is_open(self, person: PersonId) -> bool:
        result = await self._conn.execute(
            select(T.c.id).where(T.c.person == person, T.c.closed_at.is_(None)).limit(1)
        )
        return result.first() is not None

    async def get(self, event_id: int) -> SafetyEventRecord | None:
        return await self._one(T.c.id == event_id)

    async def acknowledge(
        self, event_id: int, by: PersonId, now: datetime
    ) -> SafetyEventRecord | None:
        await self._conn.execute(
            update(T)
            .where(T.c.id == event_id, T.c.closed_at.is_(None), T.c.acknowledged_at.is_(None))
            .values(acknowledged_at=to_utc(now), acknowledged_by=by)
        )
        return await self.get(event_id)

    async def close(self, event_id: int, by: PersonId, now: datetime) -> SafetyEventRecord | None:
        now = to_utc(now)
        await self._conn.execute(
            update(T)
            .where(T.c.id == event_id, T.c.closed_at.is_(None), T.c.acknowledged_at.is_(None))
            .values(acknowledged_at=now, acknowledged_by=by)
        )
        await self._conn.execute(
            update(T)
            .where(T.c.id == event_id, T.c.closed_at.is_(None))
            .values(closed_at=now, closed_by=by)
        )
        return await self.get(event_id)

    async def mark_escalated(self, event_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(T).where(T.c.id == event_id).values(escalated_at=to_utc(now))
        )

    async def open_events(self) -> list[SafetyEventRecord]:
        result = await self._conn.execute(
            select(T).where(T.c.closed_at.is_(None)).order_by(T.c.opened_at, T.c.id)
        )
        return [_record(row, self._keyring) for row in result.mappings()]

    async def of(self, person: PersonId) -> list[SafetyEventRecord]:
        result = await self._conn.execute(
            select(T).where(T.c.person == person).order_by(T.c.opened_at, T.c.id)
        )
        return [_record(row, self._keyring) for row in result.mappings()]

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(T).where(T.c.person == person))
        return result.rowcount

    async def purge_closed(self, before: datetime) -> int:
        result = await self._conn.execute(
            delete(T).where(T.c.closed_at.is_not(None), T.c.closed_at < to_utc(before))
        )
        return result.rowcount


SQL_ADAPTERS.register(SAFETY_KEY, lambda c: SqlSafetyEvents(c.conn, c.keyring))
