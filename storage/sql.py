"""SQL adapters for the ports in :mod:`storage.ports` (SQLite and PostgreSQL).

Rules of this module:

* SQLAlchemy Core on one ``AsyncConnection`` per transaction; no ORM session, no lazy loading.
* Statements that must not abort a PostgreSQL transaction on a duplicate use
  ``INSERT ... ON CONFLICT`` instead of catching ``IntegrityError`` (after an error PostgreSQL
  refuses every further statement of the transaction).
* Dialect differences stay in this module and are named where they occur (``_claim_due_*``).
* Nothing is logged: rows hold personal data.
* A transaction is :class:`storage.ports.Transaction` on one connection; each ``*_sql`` module
  registers its adapters' factories (:mod:`storage.assembly`), from the connection, the keyring
  and the clock given here, so no timestamp of a bookkeeping column comes from the wall.
* Encryption at rest happens in the codec and here, with the keyring given to
  :func:`open_storage` (none: plaintext); the columns are :class:`storage.db.EncryptedText`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Executable,
    RowMapping,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from flows.ids import PersonId, ReminderKey
from flows.session import Session

# The adapter modules of every port, imported so that their factories are registered
# (storage.assembly) before the first transaction: a feature adds its *_sql module here.
from storage import (  # noqa: F401
    appointments_sql,
    case_team_sql,
    handovers_sql,
    help_keyboard_sql,
    inbox_sql,
    referral_sql,
    relay_files_sql,
    routing_sql,
    safety_sql,
    team_sql,
    web_transcript_sql,
)
from storage.assembly import SQL_ADAPTERS, RepositoryKey, SqlContext
from storage.codec import session_from_row, session_to_row, to_utc
from storage.crypto import Keyring
from storage.db import READ_ONLY_OPTION, is_postgres, make_engine
from storage.personal import core_parts
from storage.ports import (
    CONSENTS_KEY,
    PRIVACY_KEY,
    REMINDER_LEASE,
    REMINDERS_KEY,
    SESSIONS_KEY,
    AccessAction,
    AccessRecord,
    ConsentRecord,
    PersonalData,
    ReminderRecord,
    ReminderStatus,
    Transaction,
    VersionConflict,
    WallClock,
    check_error_code,
    system_now,
)
from storage.scrub import scrub_engine
from storage.tables import (
    CONSENTS,
    DATA_ACCESS_LOG,
    PENDING_PREDICATE,
    REMINDERS,
    REPORT_COUNTS,
    SESSIONS,
)

PING_TIMEOUT_S = 5.0

_REMINDER_COLUMNS = (
    REMINDERS.c.id,
    REMINDERS.c.person,
    REMINDERS.c.key,
    REMINDERS.c.due_at,
    REMINDERS.c.session_version,
    REMINDERS.c.status,
    REMINDERS.c.attempts,
)


def _insert(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which knows ``ON CONFLICT``."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _record(mapping: RowMapping) -> ReminderRecord:
    return ReminderRecord(
        id=int(mapping["id"]),
        person=PersonId(mapping["person"]),
        key=ReminderKey(mapping["key"]),
        due_at=mapping["due_at"],
        session_version=int(mapping["session_version"]),
        status=cast(ReminderStatus, mapping["status"]),
        attempts=int(mapping["attempts"]),
    )


class SqlSessions:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    async def get(self, person: PersonId) -> Session | None:
        result = await self._conn.execute(select(SESSIONS).where(SESSIONS.c.person == person))
        row = result.first()
        return None if row is None else session_from_row(row._asdict(), self._keyring)

    async def save(self, session: Session, *, expected_version: int | None) -> None:
        values = session_to_row(session, self._keyring)
        if expected_version is None:
            insert = _insert(self._conn, SESSIONS).values(values)
            statement: Executable = insert.on_conflict_do_nothing()
        else:
            statement = (
                update(SESSIONS)
                .where(SESSIONS.c.person == session.person)
                .where(SESSIONS.c.version == expected_version)
                .values({k: v for k, v in values.items() if k != "person"})
            )
        result = await self._conn.execute(statement)
        if result.rowcount != 1:
            raise VersionConflict("session was changed or created concurrently")

    async def delete(self, person: PersonId) -> None:
        await self._conn.execute(delete(SESSIONS).where(SESSIONS.c.person == person))

    async def purge(self, *, unfinished_before: datetime, finished_before: datetime) -> int:
        expired = or_(
            and_(SESSIONS.c.status != "done", SESSIONS.c.updated_at < to_utc(unfinished_before)),
            and_(SESSIONS.c.status == "done", SESSIONS.c.updated_at < to_utc(finished_before)),
        )
        result = await self._conn.execute(delete(SESSIONS).where(expired))
        return result.rowcount


class SqlReminders:
    def __init__(self, conn: AsyncConnection, now: WallClock = system_now) -> None:
        self._conn = conn
        # Only for bookkeeping columns (created_at, updated_at); decisions use the caller's time.
        self._now = now

    async def schedule(
        self, person: PersonId, key: ReminderKey, due_at: datetime, session_version: int
    ) -> int:
        now = self._now()
        insert = _insert(self._conn, REMINDERS).values(
            person=person,
            key=key,
            due_at=to_utc(due_at),
            session_version=session_version,
            status="pending",
            attempts=0,
            claimed_by=None,
            claimed_at=None,
            last_error=None,
            created_at=now,
            updated_at=now,
        )
        # Upsert against the partial unique index: atomic even when two transactions schedule
        # the same key at once (the second waits for the first, then updates its row).
        statement = insert.on_conflict_do_update(
            index_elements=[REMINDERS.c.person, REMINDERS.c.key],
            index_where=text(PENDING_PREDICATE),
            set_={
                "due_at": insert.excluded.due_at,
                "session_version": insert.excluded.session_version,
                "attempts": 0,
                "last_error": None,
                "updated_at": insert.excluded.updated_at,
            },
        ).returning(REMINDERS.c.id)
        result = await self._conn.execute(statement)
        return int(result.scalar_one())

    async def cancel(self, person: PersonId, prefix: str) -> int:
        # substr() rather than LIKE: LIKE treats "_" and "%" as wildcards and is
        # case-insensitive on SQLite; substr compares characters exactly on both databases.
        matches = func.substr(REMINDERS.c.key, 1, len(prefix)) == prefix
        return await self._cancel_where(person, matches)

    async def cancel_all(self, person: PersonId) -> int:
        return await self._cancel_where(person, None)

    async def _cancel_where(self, person: PersonId, extra: ColumnElement[bool] | None) -> int:
        conditions = [REMINDERS.c.person == person, REMINDERS.c.status == "pending"]
        if extra is not None:
            conditions.append(extra)
        result = await self._conn.execute(
            update(REMINDERS).where(*conditions).values(status="cancelled", updated_at=self._now())
        )
        return result.rowcount

    async def pending(self, person: PersonId) -> list[ReminderRecord]:
        result = await self._conn.execute(
            select(*_REMINDER_COLUMNS)
            .where(REMINDERS.c.person == person, REMINDERS.c.status == "pending")
            .order_by(REMINDERS.c.due_at, REMINDERS.c.id)
        )
        return [_record(row) for row in result.mappings()]

    async def claim_due(
        self,
        now: datetime,
        *,
        worker: str,
        limit: int = 50,
        lease: timedelta = REMINDER_LEASE,
        prefixes: tuple[str, ...] | None = None,
    ) -> list[ReminderRecord]:
        if limit <= 0 or prefixes == ():
            return []
        now = to_utc(now)
        mine: list[ColumnElement[bool]] = []
        if prefixes is not None:
            mine.append(
                or_(
                    *(
                        func.substr(REMINDERS.c.person, 1, len(prefix)) == prefix
                        for prefix in prefixes
                    )
                )
            )
        # Two conditions, each served by ix_reminders_status_due_at in due order: an OR of
        # both would make SQLite scan the table.
        pending = and_(REMINDERS.c.status == "pending", REMINDERS.c.due_at <= now, *mine)
        # A claim older than the lease belongs to a worker that died mid-send.
        expired = and_(
            REMINDERS.c.status == "claimed", REMINDERS.c.claimed_at <= now - lease, *mine
        )
        claim = {
            "status": "claimed",
            "claimed_by": worker,
            "claimed_at": now,
            "attempts": REMINDERS.c.attempts + 1,
            "updated_at": now,
        }
        rows: list[RowMapping] = []
        for claimable in (expired, pending):
            if len(rows) >= limit:
                break
            if self._conn.dialect.name == "postgresql":
                rows.extend(await self._claim_due_postgres(claimable, claim, limit - len(rows)))
            else:
                rows.extend(await self._claim_due_sqlite(claimable, claim, limit - len(rows)))
        records = [_record(row) for row in rows]
        records.sort(key=lambda record: (record.due_at, record.id))
        return records

    async def _claim_due_postgres(
        self, claimable: ColumnElement[bool], claim: dict[str, Any], limit: int
    ) -> Sequence[RowMapping]:
        # Rows another worker has locked are skipped rather than waited for, so two workers
        # take disjoint batches; the row locks last until this transaction commits.
        candidates = (
            select(REMINDERS.c.id)
            .where(claimable)
            .order_by(REMINDERS.c.due_at, REMINDERS.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self._conn.execute(
            update(REMINDERS)
            .where(REMINDERS.c.id.in_(candidates.scalar_subquery()))
            .values(claim)
            .returning(*_REMINDER_COLUMNS)
        )
        return result.mappings().all()

    async def _claim_due_sqlite(
        self, claimable: ColumnElement[bool], claim: dict[str, Any], limit: int
    ) -> Sequence[RowMapping]:
        # SQLite silently drops FOR UPDATE SKIP LOCKED. The candidates come from the
        # (status, due_at) index in due order; one UPDATE claims them all and repeats the
        # condition, so a row another process claimed after our SELECT is not claimed twice
        # (BEGIN IMMEDIATE already serialises writers; this keeps the guarantee should that
        # ever change).
        candidates = await self._conn.execute(
            select(REMINDERS.c.id)
            .where(claimable)
            .order_by(REMINDERS.c.due_at, REMINDERS.c.id)
            .limit(limit)
        )
        ids = list(candidates.scalars().all())
        if not ids:
            return []
        result = await self._conn.execute(
            update(REMINDERS)
            .where(REMINDERS.c.id.in_(ids), claimable)
            .values(claim)
            .returning(*_REMINDER_COLUMNS)
        )
        return result.mappings().all()

    async def release_claims(self, worker: str) -> int:
        attempts = case((REMINDERS.c.attempts > 0, REMINDERS.c.attempts - 1), else_=0)
        result = await self._conn.execute(
            update(REMINDERS)
            .where(REMINDERS.c.status == "claimed", REMINDERS.c.claimed_by == worker)
            .values(
                status=self._pending_unless_superseded(),
                claimed_by=None,
                claimed_at=None,
                attempts=attempts,
                updated_at=self._now(),
            )
        )
        return result.rowcount

    async def mark_sent(self, reminder_id: int) -> None:
        await self._finish(reminder_id, {"status": "sent"})

    async def mark_failed(self, reminder_id: int, error_code: str) -> None:
        await self._finish(
            reminder_id, {"status": "failed", "last_error": check_error_code(error_code)}
        )

    async def release(self, reminder_id: int, *, retry_at: datetime, error_code: str) -> None:
        await self._back_to_pending(
            reminder_id,
            due_at=to_utc(retry_at),
            extra={"last_error": check_error_code(error_code)},
        )

    async def defer(self, reminder_id: int, due_at: datetime) -> None:
        # The claim counted an attempt; quiet hours are not a failed attempt.
        attempts = case((REMINDERS.c.attempts > 0, REMINDERS.c.attempts - 1), else_=0)
        await self._back_to_pending(
            reminder_id, due_at=to_utc(due_at), extra={"attempts": attempts}
        )

    async def _finish(self, reminder_id: int, values: dict[str, Any]) -> None:
        await self._conn.execute(
            update(REMINDERS)
            .where(REMINDERS.c.id == reminder_id, REMINDERS.c.status == "claimed")
            .values(claimed_by=None, claimed_at=None, updated_at=self._now(), **values)
        )

    async def _back_to_pending(
        self, reminder_id: int, *, due_at: datetime, extra: dict[str, Any]
    ) -> None:
        status = self._pending_unless_superseded()
        await self._finish(reminder_id, {"status": status, "due_at": due_at, **extra})

    @staticmethod
    def _pending_unless_superseded() -> ColumnElement[str]:
        # A reminder scheduled again while this one was claimed is already pending with the
        # same key; the partial unique index allows only one, and the newer one wins.
        newer = REMINDERS.alias("newer")
        superseded = exists().where(
            newer.c.person == REMINDERS.c.person,
            newer.c.key == REMINDERS.c.key,
            newer.c.status == "pending",
            newer.c.id != REMINDERS.c.id,
        )
        return case((superseded, "cancelled"), else_="pending")

    async def all_of(self, person: PersonId) -> list[ReminderRecord]:
        result = await self._conn.execute(
            select(*_REMINDER_COLUMNS)
            .where(REMINDERS.c.person == person)
            .order_by(REMINDERS.c.created_at, REMINDERS.c.id)
        )
        return [_record(row) for row in result.mappings()]

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(REMINDERS).where(REMINDERS.c.person == person))
        return result.rowcount

    async def purge_finished(self, before: datetime) -> int:
        result = await self._conn.execute(
            delete(REMINDERS).where(
                REMINDERS.c.status.in_(("sent", "cancelled", "failed")),
                REMINDERS.c.updated_at < to_utc(before),
            )
        )
        return result.rowcount


class SqlConsents:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, consent: ConsentRecord) -> None:
        await self._conn.execute(
            CONSENTS.insert().values(
                person=consent.person,
                category=consent.category,
                given=consent.given,
                notice_version=consent.notice_version,
                text_hash=consent.text_hash,
                at=to_utc(consent.at),
            )
        )

    async def history(self, person: PersonId) -> list[ConsentRecord]:
        result = await self._conn.execute(
            select(CONSENTS)
            .where(CONSENTS.c.person == person)
            .order_by(CONSENTS.c.at, CONSENTS.c.id)
        )
        return [
            ConsentRecord(
                person=PersonId(row["person"]),
                category=row["category"],
                given=bool(row["given"]),
                notice_version=row["notice_version"],
                text_hash=row["text_hash"],
                at=row["at"],
            )
            for row in result.mappings()
        ]

    async def current(self, person: PersonId) -> dict[str, ConsentRecord]:
        # Oldest first, so the newest record of each category is the one left in the dict.
        return {record.category: record for record in await self.history(person)}

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(CONSENTS).where(CONSENTS.c.person == person))
        return result.rowcount

    async def purge(self, before: datetime) -> int:
        stale = (
            select(CONSENTS.c.person)
            .group_by(CONSENTS.c.person)
            .having(func.max(CONSENTS.c.at) < to_utc(before))
        )
        result = await self._conn.execute(
            delete(CONSENTS).where(
                CONSENTS.c.person.in_(stale),
                CONSENTS.c.person.not_in(select(SESSIONS.c.person)),
            )
        )
        return result.rowcount


class SqlPrivacy:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record_access(
        self,
        person: PersonId,
        partnership: str,
        coach: str | None,
        action: AccessAction,
        at: datetime,
    ) -> None:
        await self._conn.execute(
            DATA_ACCESS_LOG.insert().values(
                person=person, partnership=partnership, coach=coach, action=action, at=to_utc(at)
            )
        )

    async def accesses(self, person: PersonId) -> list[AccessRecord]:
        result = await self._conn.execute(
            select(DATA_ACCESS_LOG)
            .where(DATA_ACCESS_LOG.c.person == person)
            .order_by(DATA_ACCESS_LOG.c.at, DATA_ACCESS_LOG.c.id)
        )
        return [
            AccessRecord(
                person=PersonId(row["person"]),
                partnership=row["partnership"],
                coach=row["coach"],
                action=cast(AccessAction, row["action"]),
                at=row["at"],
            )
            for row in result.mappings()
        ]

    async def erase_accesses(self, person: PersonId) -> int:
        result = await self._conn.execute(
            delete(DATA_ACCESS_LOG).where(DATA_ACCESS_LOG.c.person == person)
        )
        return result.rowcount

    async def purge_accesses(self, before: datetime) -> int:
        result = await self._conn.execute(
            delete(DATA_ACCESS_LOG).where(DATA_ACCESS_LOG.c.at < to_utc(before))
        )
        return result.rowcount

    async def add_count(self, month: str, metric: str, amount: int = 1) -> None:
        insert = _insert(self._conn, REPORT_COUNTS).values(month=month, metric=metric, count=amount)
        await self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=[REPORT_COUNTS.c.month, REPORT_COUNTS.c.metric],
                set_={"count": REPORT_COUNTS.c.count + insert.excluded.count},
            )
        )

    async def counts(self) -> dict[tuple[str, str], int]:
        result = await self._conn.execute(select(REPORT_COUNTS))
        return {(row["month"], row["metric"]): int(row["count"]) for row in result.mappings()}


SQL_ADAPTERS.register(SESSIONS_KEY, lambda c: SqlSessions(c.conn, c.keyring))
SQL_ADAPTERS.register(REMINDERS_KEY, lambda c: SqlReminders(c.conn, c.now))
SQL_ADAPTERS.register(CONSENTS_KEY, lambda c: SqlConsents(c.conn))
SQL_ADAPTERS.register(PRIVACY_KEY, lambda c: SqlPrivacy(c.conn))


class SqlStorage:
    """:class:`storage.ports.Storage` on an async SQLAlchemy engine (which it owns).

    ``keyring`` encrypts the :class:`storage.db.EncryptedText` columns (none: plaintext).
    """

    def __init__(
        self, engine: AsyncEngine, keyring: Keyring | None = None, now: WallClock = system_now
    ) -> None:
        self.engine = engine
        self.keyring = keyring
        self.now = now
        self.personal_data_parts: list[PersonalData] = core_parts()

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.engine)

    def provides(self, key: RepositoryKey[Any]) -> bool:
        return key in SQL_ADAPTERS

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        # engine.begin(): COMMIT when the block ends normally, ROLLBACK when it raises.
        async with self.engine.begin() as conn:
            yield Transaction(SQL_ADAPTERS, SqlContext(conn, self.keyring, self.now))

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Transaction]:
        async with self.engine.connect() as plain:
            conn = await plain.execution_options(**{READ_ONLY_OPTION: True})
            async with conn.begin():
                if self.is_postgres:
                    await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield Transaction(SQL_ADAPTERS, SqlContext(conn, self.keyring, self.now))

    async def close(self) -> None:
        await self.engine.dispose()

    async def scrub(self) -> None:
        await scrub_engine(self.engine)

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(PING_TIMEOUT_S), self.engine.connect() as conn:
                await conn.execute(select(1))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True


async def open_storage(
    url: str, keyring: Keyring | None = None, *, now: WallClock = system_now
) -> SqlStorage:
    """A :class:`SqlStorage` for ``url``; the schema must already be migrated
    (:func:`storage.migrate.upgrade`). With ``keyring``, personal data is encrypted at rest;
    bookkeeping timestamps come from ``now`` (the runtime's clock)."""
    return SqlStorage(make_engine(url), keyring, now)
