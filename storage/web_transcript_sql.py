"""SQL adapter of :class:`storage.web_transcript.WebTranscriptRepository` (SQLite and PostgreSQL).

Rules of this module (those of :mod:`storage.sql` apply): SQLAlchemy Core on the transaction's
connection; the body is sealed with the keyring (none: plaintext JSON). Appends of one person
are serialised so ids of one person commit in increasing order: SQLite has one writer at a time
(``BEGIN IMMEDIATE``), PostgreSQL takes ``pg_advisory_xact_lock`` on a number derived from the
person id, held to the end of the transaction. A duplicate ref is ``ON CONFLICT DO NOTHING``.
Nothing is logged.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import RowMapping, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.ids import PersonId
from flows.session import JsonValue
from storage.assembly import SQL_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, unseal
from storage.web_transcript import BODY_AAD, WEB_TRANSCRIPT
from storage.web_transcript_port import (
    WEB_TRANSCRIPT_KEY,
    NewTranscriptEntry,
    TranscriptBounds,
    TranscriptEntry,
    TranscriptSide,
    check_transcript_ref,
)

T = WEB_TRANSCRIPT


def lock_key(person: PersonId) -> int:
    """A signed 64-bit number for ``pg_advisory_xact_lock``, the same in every process."""
    return int.from_bytes(hashlib.sha256(person.encode()).digest()[:8], "big", signed=True)


def encode_body(body: dict[str, JsonValue]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def decode_body(raw: str) -> dict[str, JsonValue]:
    found = json.loads(raw)
    if not isinstance(found, dict):
        raise ValueError("a transcript body is a JSON object")
    return cast(dict[str, JsonValue], found)


def _entry(row: RowMapping, keyring: Keyring | None) -> TranscriptEntry:
    return TranscriptEntry(
        id=int(row["id"]),
        person=PersonId(row["person"]),
        ref=row["ref"],
        side=cast(TranscriptSide, row["side"]),
        body=decode_body(unseal(keyring, row["body"], BODY_AAD)),
        at=row["at"],
        seen_at=row["seen_at"],
    )


class SqlWebTranscript:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    async def _serialise(self, person: PersonId) -> None:
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(person)}
            )

    async def _by_ref(self, person: PersonId, ref: str) -> TranscriptEntry | None:
        result = await self._conn.execute(select(T).where(T.c.person == person, T.c.ref == ref))
        row = result.mappings().first()
        return None if row is None else _entry(row, self._keyring)

    async def append(
        self, person: PersonId, entries: tuple[NewTranscriptEntry, ...], now: datetime
    ) -> list[TranscriptEntry]:
        if not entries:
            return []
        await self._serialise(person)
        now = to_utc(now)
        stored: list[TranscriptEntry] = []
        for entry in entries:
            values: dict[str, Any] = {
                "person": person,
                "ref": check_transcript_ref(entry.ref),
                "side": entry.side,
                "body": seal(self._keyring, encode_body(entry.body), BODY_AAD),
                "at": now,
                "seen_at": None,
            }
            if self._conn.dialect.name == "postgresql":
                insert: postgresql.Insert | sqlite.Insert = postgresql.insert(T).values(values)
            else:
                insert = sqlite.insert(T).values(values)
            statement = insert.on_conflict_do_nothing(
                index_elements=[T.c.person, T.c.ref]
            ).returning(T.c.id)
            new_id = (await self._conn.execute(statement)).scalar_one_or_none()
            if new_id is None:
                existing = await self._by_ref(person, entry.ref)
                assert existing is not None  # the conflict means the row exists
                stored.append(existing)
                continue
            stored.append(
                TranscriptEntry(
                    id=int(new_id),
                    person=person,
                    ref=entry.ref,
                    side=entry.side,
                    body=dict(entry.body),
                    at=now,
                    seen_at=None,
                )
            )
        return stored

    async def after(self, person: PersonId, after: int, limit: int = 500) -> list[TranscriptEntry]:
        result = await self._conn.execute(
            select(T).where(T.c.person == person, T.c.id > after).order_by(T.c.id).limit(limit)
        )
        return [_entry(row, self._keyring) for row in result.mappings()]

    async def bounds(self, person: PersonId) -> TranscriptBounds:
        result = await self._conn.execute(
            select(func.min(T.c.id), func.max(T.c.id)).where(T.c.person == person)
        )
        first, last = result.one()
        return TranscriptBounds(
            first=None if first is None else int(first), last=0 if last is None else int(last)
        )

    async def has_ref(self, person: PersonId, ref: str) -> bool:
        result = await self._conn.execute(
            select(T.c.id).where(T.c.person == person, T.c.ref == ref).limit(1)
        )
        return result.first() is not None

    async def mark_seen(self, person: PersonId, up_to: int, now: datetime) -> int:
        result = await self._conn.execute(
            update(T)
            .where(T.c.person == person, T.c.id <= up_to, T.c.seen_at.is_(None))
            .values(seen_at=to_utc(now))
        )
        return result.rowcount

    async def trim(self, person: PersonId, keep: int) -> int:
        newest = (
            select(T.c.id).where(T.c.person == person).order_by(T.c.id.desc()).limit(keep)
        ).scalar_subquery()
        cutoff = select(func.min(T.c.id)).where(T.c.id.in_(newest)).scalar_subquery()
        result = await self._conn.execute(delete(T).where(T.c.person == person, T.c.id < cutoff))
        return result.rowcount

    async def erase(self, person: PersonId) -> int:
        await self._serialise(person)
        result = await self._conn.execute(delete(T).where(T.c.person == person))
        return result.rowcount

    async def purge(self, *, seen_before: datetime, any_before: datetime) -> int:
        result = await self._conn.execute(
            delete(T).where(
                or_(
                    T.c.at < to_utc(any_before),
                    (T.c.at < to_utc(seen_before))
                    & or_(T.c.seen_at.is_not(None), T.c.side == "young"),
                )
            )
        )
        return result.rowcount


SQL_ADAPTERS.register(WEB_TRANSCRIPT_KEY, lambda c: SqlWebTranscript(c.conn, c.keyring))
