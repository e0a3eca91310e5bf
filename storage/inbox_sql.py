"""SQL adapters of the durable inbox (:class:`storage.ports.UpdateLog`) and the outbox
(:class:`storage.ports.OutboxRepository`), SQLite and PostgreSQL.

Rules of this module (those of :mod:`storage.sql` apply): SQLAlchemy Core on the transaction's
connection; payloads and bodies are sealed with the keyring (none: plaintext JSON). Inserts that
may meet a duplicate use ``ON CONFLICT DO NOTHING``, so a PostgreSQL transaction never aborts on
one. Nothing is logged.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import RowMapping, Table, delete, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.ids import PersonId
from flows.session import JsonValue
from storage.assembly import SQL_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, unseal
from storage.inbox import BODY_AAD, INBOX_PENDING, OUTBOX, PAYLOAD_AAD
from storage.ports import OUTBOX_KEY, UPDATES_KEY, OutboxRecord, PendingUpdate
from storage.tables import PROCESSED_UPDATES

P = INBOX_PENDING
D = PROCESSED_UPDATES
O = OUTBOX  # noqa: E741


def _insert(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def arrival_order(update: PendingUpdate) -> tuple[datetime, int, str]:
    """Arrival time, then the key as a number where it is one (Telegram's update ids)."""
    key = update.update_key
    return (update.received_at, len(key) if key.isdigit() else 0, key)


def encode_body(body: dict[str, JsonValue]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def decode_body(raw: str) -> dict[str, JsonValue]:
    found = json.loads(raw)
    if not isinstance(found, dict):
        raise ValueError("an outbox body is a JSON object")
    return cast(dict[str, JsonValue], found)


class SqlUpdateLog:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    async def first_time(self, channel: str, update_key: str, now: datetime) -> bool:
        statement = (
            _insert(self._conn, D)
            .values(channel=channel, update_key=update_key, seen_at=to_utc(now))
            .on_conflict_do_nothing()
        )
        result = await self._conn.execute(statement)
        await self._conn.execute(
            delete(P).where(P.c.channel == channel, P.c.update_key == update_key)
        )
        return result.rowcount == 1

    async def seen(self, channel: str, update_key: str) -> bool:
        result = await self._conn.execute(
            select(D.c.update_key)
            .where(D.c.channel == channel, D.c.update_key == update_key)
            .limit(1)
        )
        return result.first() is not None

    async def hold(
        self, channel: str, update_key: str, person: PersonId | None, payload: str, now: datetime
    ) -> bool:
        handled = exists().where(D.c.channel == channel, D.c.update_key == update_key)
        if (await self._conn.execute(select(handled))).scalar():
            return False
        statement = (
            _insert(self._conn, P)
            .values(
                channel=channel,
                update_key=update_key,
                person=person,
                payload=seal(self._keyring, payload, PAYLOAD_AAD),
                received_at=to_utc(now),
                attempts=0,
            )
            .on_conflict_do_nothing()
        )
        result = await self._conn.execute(statement)
        return result.rowcount == 1

    async def pending(
        self, channel: str, *, received_before: datetime | None = None, limit: int = 500
    ) -> list[PendingUpdate]:
        query = select(P).where(P.c.channel == channel)
        if received_before is not None:
            query = query.where(P.c.received_at < to_utc(received_before))
        result = await self._conn.execute(query.order_by(P.c.received_at).limit(limit))
        found = [
            PendingUpdate(
                channel=row["channel"],
                update_key=row["update_key"],
                person=None if row["person"] is None else PersonId(row["person"]),
                payload=unseal(self._keyring, row["payload"], PAYLOAD_AAD),
                received_at=row["received_at"],
                attempts=int(row["attempts"]),
            )
            for row in result.mappings()
        ]
        return sorted(found, key=arrival_order)

    async def attempted(self, channel: str, update_key: str) -> int:
        where = (P.c.channel == channel, P.c.update_key == update_key)
        await self._conn.execute(update(P).where(*where).values(attempts=P.c.attempts + 1))
        found = (await self._conn.execute(select(P.c.attempts).where(*where))).scalar()
        return 0 if found is None else int(found)

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(P).where(P.c.person == person))
        return result.rowcount

    async def purge_pending(self, before: datetime) -> int:
        result = await self._conn.execute(delete(P).where(P.c.received_at < to_utc(before)))
        return result.rowcount

    async def prune(self, older_than: datetime) -> int:
        result = await self._conn.execute(delete(D).where(D.c.seen_at < to_utc(older_than)))
        return result.rowcount


class SqlOutbox:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    def _record(self, row: RowMapping) -> OutboxRecord:
        return OutboxRecord(
            id=int(row["id"]),
            person=PersonId(row["person"]),
            body=decode_body(unseal(self._keyring, row["body"], BODY_AAD)),
            created_at=row["created_at"],
            attempts=int(row["attempts"]),
            about=None if row["about"] is None else PersonId(row["about"]),
        )

    async def add(
        self,
        person: PersonId,
        body: dict[str, JsonValue],
        now: datetime,
        *,
        about: PersonId | None = None,
    ) -> int:
        values: dict[str, Any] = {
            "person": person,
            "about": about,
            "body": seal(self._keyring, encode_body(body), BODY_AAD),
            "created_at": to_utc(now),
            "attempts": 0,
            "claimed_at": None,
        }
        statement = _insert(self._conn, O).values(values).returning(O.c.id)
        return int((await self._conn.execute(statement)).scalar_one())

    async def unsent(
        self,
        *,
        created_before: datetime | None = None,
        prefixes: tuple[str, ...] = (),
        limit: int = 200,
    ) -> list[OutboxRecord]:
        query = select(O)
        if created_before is not None:
            query = query.where(O.c.created_at < to_utc(created_before))
        if prefixes:
            query = query.where(or_(*(O.c.person.startswith(p, autoescape=True) for p in prefixes)))
        result = await self._conn.execute(query.order_by(O.c.id).limit(limit))
        return [self._record(row) for row in result.mappings()]

    async def of(self, person: PersonId) -> list[OutboxRecord]:
        result = await self._conn.execute(select(O).where(O.c.person == person).order_by(O.c.id))
        return [self._record(row) for row in result.mappings()]

    async def claim(self, ids: tuple[int, ...], now: datetime, lease: timedelta) -> tuple[int, ...]:
        taken: list[int] = []
        free_since = to_utc(now - lease)
        for message_id in ids:
            result = await self._conn.execute(
                update(O)
                .where(
                    O.c.id == message_id,
                    or_(O.c.claimed_at.is_(None), O.c.claimed_at < free_since),
                )
                .values(claimed_at=to_utc(now))
            )
            if result.rowcount == 1:
                taken.append(message_id)
        return tuple(taken)

    async def remove(self, ids: tuple[int, ...]) -> int:
        if not ids:
            return 0
        result = await self._conn.execute(delete(O).where(O.c.id.in_(ids)))
        return result.rowcount

    async def attempted(self, message_id: int) -> int:
        await self._conn.execute(
            update(O).where(O.c.id == message_id).values(attempts=O.c.attempts + 1)
        )
        found = (
            await self._conn.execute(select(O.c.attempts).where(O.c.id == message_id))
        ).scalar()
        return 0 if found is None else int(found)

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(
            delete(O).where(or_(O.c.person == person, O.c.about == person))
        )
        return result.rowcount

    async def purge(self, before: datetime) -> int:
        result = await self._conn.execute(delete(O).where(O.c.created_at < to_utc(before)))
        return result.rowcount


SQL_ADAPTERS.register(UPDATES_KEY, lambda c: SqlUpdateLog(c.conn, c.keyring))
SQL_ADAPTERS.register(OUTBOX_KEY, lambda c: SqlOutbox(c.conn, c.keyring))
