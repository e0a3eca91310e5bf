"""An in-memory :class:`storage.ports.Storage` for fast service tests.

Rules of this module:

* Same contract as :mod:`storage.sql`, proved by the same suite (``tests/storage``). Sessions go
  through :mod:`storage.codec`, so what comes back is what a database would give back.
* A transaction works on a copy of the state and swaps it in on commit; an exception discards
  the copy. Transactions on one :class:`MemoryDatabase` run one at a time (an ``asyncio.Lock``),
  like SQLite's writers: never open a second transaction while holding one.
* Several :class:`MemoryStorage` objects may share one :class:`MemoryDatabase`, standing in for
  several processes on one database.
* The state is this module's core tables plus one part per feature, by type
  (:meth:`MemoryState.part`); each ``*_memory`` module registers its adapters' factories
  (:mod:`storage.assembly`) and keeps its tables in its own part, so a transaction is
  :class:`storage.ports.Transaction` like on SQL and nothing here names a feature's tables.
* Not for production: nothing survives the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, Self, TypeVar, cast

from flows.ids import PersonId, ReminderKey
from flows.session import Session

# The adapter modules of every port, imported so that their factories are registered
# (storage.assembly) before the first transaction: a feature adds its *_memory module here.
from storage import (  # noqa: F401
    appointments_memory,
    case_team_memory,
    help_keyboard_memory,
    inbox_memory,
    referral_memory,
    relay_files_memory,
    routing_memory,
    safety_memory,
    web_transcript_memory,
)
from storage.assembly import MEMORY_ADAPTERS, MemoryContext, RepositoryKey
from storage.codec import session_from_row, session_to_row, to_utc
from storage.crypto import Keyring
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


@dataclass(frozen=True)
class _Reminder:
    id: int
    person: PersonId
    key: ReminderKey
    due_at: datetime
    session_version: int
    status: ReminderStatus
    attempts: int
    claimed_by: str | None
    claimed_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    def record(self) -> ReminderRecord:
        return ReminderRecord(
            id=self.id,
            person=self.person,
            key=self.key,
            due_at=self.due_at,
            session_version=self.session_version,
            status=self.status,
            attempts=self.attempts,
        )


class MemoryPart(Protocol):
    """A feature's tables in memory (``RoutingState``, ``ReferralState``, ...): values are
    immutable, so ``copy()`` copies the containers and is a full snapshot."""

    def copy(self) -> Self: ...


P = TypeVar("P", bound=MemoryPart)


@dataclass
class MemoryState:
    """One snapshot of the memory database: the core tables of this module, and every feature's
    part by its type (made empty on first use, by the feature's memory adapter)."""

    # Values are immutable (encoded rows are never changed after creation, the rest are frozen
    # dataclasses), so copying the dicts is a full snapshot.
    sessions: dict[PersonId, dict[str, Any]] = field(default_factory=dict)
    reminders: dict[int, _Reminder] = field(default_factory=dict)
    next_reminder_id: int = 1
    consents: list[ConsentRecord] = field(default_factory=list)
    accesses: list[AccessRecord] = field(default_factory=list)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    parts: dict[type[Any], MemoryPart] = field(default_factory=dict)

    def part(self, kind: type[P]) -> P:
        """The feature's part of this snapshot (``state.part(RoutingState)``)."""
        found = self.parts.get(kind)
        if found is None:
            found = self.parts[kind] = kind()
        return cast(P, found)

    def copy(self) -> MemoryState:
        return MemoryState(
            sessions=dict(self.sessions),
            reminders=dict(self.reminders),
            next_reminder_id=self.next_reminder_id,
            consents=list(self.consents),
            accesses=list(self.accesses),
            counts=dict(self.counts),
            parts={kind: part.copy() for kind, part in self.parts.items()},
        )


class MemoryDatabase:
    """The shared state behind one or more :class:`MemoryStorage` objects."""

    def __init__(self) -> None:
        self.state = MemoryState()
        self.lock = asyncio.Lock()


class MemorySessions:
    def __init__(self, state: MemoryState, keyring: Keyring | None = None) -> None:
        self._state = state
        self._keyring = keyring

    async def get(self, person: PersonId) -> Session | None:
        row = self._state.sessions.get(person)
        return None if row is None else session_from_row(row, self._keyring)

    async def save(self, session: Session, *, expected_version: int | None) -> None:
        row = session_to_row(session, self._keyring)
        stored = self._state.sessions.get(session.person)
        if expected_version is None:
            if stored is not None:
                raise VersionConflict("session was changed or created concurrently")
        elif stored is None or stored["version"] != expected_version:
            raise VersionConflict("session was changed or created concurrently")
        self._state.sessions[session.person] = row

    async def delete(self, person: PersonId) -> None:
        self._state.sessions.pop(person, None)

    async def purge(self, *, unfinished_before: datetime, finished_before: datetime) -> int:
        unfinished_before, finished_before = to_utc(unfinished_before), to_utc(finished_before)
        expired = [
            person
            for person, row in self._state.sessions.items()
            if row["updated_at"]
            < (finished_before if row["status"] == "done" else unfinished_before)
        ]
        for person in expired:
            del self._state.sessions[person]
        return len(expired)


class MemoryReminders:
    def __init__(self, state: MemoryState, now: WallClock = system_now) -> None:
        self._state = state
        self._now = now

    def _pending_with(self, person: PersonId, key: ReminderKey, other_than: int) -> bool:
        return any(
            r.person == person and r.key == key and r.status == "pending" and r.id != other_than
            for r in self._state.reminders.values()
        )

    async def schedule(
        self, person: PersonId, key: ReminderKey, due_at: datetime, session_version: int
    ) -> int:
        due_at = to_utc(due_at)
        now = self._now()
        for reminder in self._state.reminders.values():
            if reminder.person == person and reminder.key == key and reminder.status == "pending":
                self._state.reminders[reminder.id] = replace(
                    reminder,
                    due_at=due_at,
                    session_version=session_version,
                    attempts=0,
                    last_error=None,
                    updated_at=now,
                )
                return reminder.id
        reminder_id = self._state.next_reminder_id
        self._state.next_reminder_id += 1
        self._state.reminders[reminder_id] = _Reminder(
            id=reminder_id,
            person=person,
            key=key,
            due_at=due_at,
            session_version=session_version,
            status="pending",
            attempts=0,
            claimed_by=None,
            claimed_at=None,
            last_error=None,
            created_at=now,
            updated_at=now,
        )
        return reminder_id

    async def cancel(self, person: PersonId, prefix: str) -> int:
        return self._cancel(person, prefix)

    async def cancel_all(self, person: PersonId) -> int:
        return self._cancel(person, "")

    def _cancel(self, person: PersonId, prefix: str) -> int:
        now = self._now()
        cancelled = 0
        for reminder in list(self._state.reminders.values()):
            if (
                reminder.person == person
                and reminder.status == "pending"
                and reminder.key.startswith(prefix)
            ):
                self._state.reminders[reminder.id] = replace(
                    reminder, status="cancelled", updated_at=now
                )
                cancelled += 1
        return cancelled

    async def pending(self, person: PersonId) -> list[ReminderRecord]:
        found = [
            r
            for r in self._state.reminders.values()
            if r.person == person and r.status == "pending"
        ]
        found.sort(key=lambda r: (r.due_at, r.id))
        return [r.record() for r in found]

    async def claim_due(
        self,
        now: datetime,
        *,
        worker: str,
        limit: int = 50,
        lease: timedelta = REMINDER_LEASE,
        prefixes: tuple[str, ...] | None = None,
    ) -> list[ReminderRecord]:
        if limit <= 0:
            return []
        now = to_utc(now)
        expired = now - lease
        due = [
            r
            for r in self._state.reminders.values()
            if (prefixes is None or r.person.startswith(prefixes))
            and (
                (r.status == "pending" and r.due_at <= now)
                or (r.status == "claimed" and r.claimed_at is not None and r.claimed_at <= expired)
            )
        ]
        due.sort(key=lambda r: (r.due_at, r.id))
        claimed: list[ReminderRecord] = []
        for reminder in due[:limit]:
            updated = replace(
                reminder,
                status="claimed",
                claimed_by=worker,
                claimed_at=now,
                attempts=reminder.attempts + 1,
                updated_at=now,
            )
            self._state.reminders[reminder.id] = updated
            claimed.append(updated.record())
        return claimed

    async def release_claims(self, worker: str) -> int:
        mine = [
            r
            for r in self._state.reminders.values()
            if r.status == "claimed" and r.claimed_by == worker
        ]
        for r in mine:
            superseded = self._pending_with(r.person, r.key, r.id)
            self._state.reminders[r.id] = replace(
                r,
                status="cancelled" if superseded else "pending",
                claimed_by=None,
                claimed_at=None,
                attempts=max(r.attempts - 1, 0),
                updated_at=self._now(),
            )
        return len(mine)

    def _finish(self, reminder_id: int, **changes: Any) -> None:
        reminder = self._state.reminders.get(reminder_id)
        if reminder is None or reminder.status != "claimed":
            return
        self._state.reminders[reminder_id] = replace(
            reminder, claimed_by=None, claimed_at=None, updated_at=self._now(), **changes
        )

    def _back_to_pending(self, reminder_id: int, due_at: datetime, **changes: Any) -> None:
        reminder = self._state.reminders.get(reminder_id)
        if reminder is None:
            return
        superseded = self._pending_with(reminder.person, reminder.key, reminder_id)
        status: ReminderStatus = "cancelled" if superseded else "pending"
        self._finish(reminder_id, status=status, due_at=due_at, **changes)

    async def mark_sent(self, reminder_id: int) -> None:
        self._finish(reminder_id, status="sent")

    async def mark_failed(self, reminder_id: int, error_code: str) -> None:
        self._finish(reminder_id, status="failed", last_error=check_error_code(error_code))

    async def release(self, reminder_id: int, *, retry_at: datetime, error_code: str) -> None:
        self._back_to_pending(
            reminder_id, to_utc(retry_at), last_error=check_error_code(error_code)
        )

    async def defer(self, reminder_id: int, due_at: datetime) -> None:
        reminder = self._state.reminders.get(reminder_id)
        if reminder is None:
            return
        self._back_to_pending(reminder_id, to_utc(due_at), attempts=max(reminder.attempts - 1, 0))

    async def all_of(self, person: PersonId) -> list[ReminderRecord]:
        found = [r for r in self._state.reminders.values() if r.person == person]
        found.sort(key=lambda r: (r.created_at, r.id))
        return [r.record() for r in found]

    async def erase(self, person: PersonId) -> int:
        gone = [r.id for r in self._state.reminders.values() if r.person == person]
        for reminder_id in gone:
            del self._state.reminders[reminder_id]
        return len(gone)

    async def purge_finished(self, before: datetime) -> int:
        before = to_utc(before)
        gone = [
            r.id
            for r in self._state.reminders.values()
            if r.status in ("sent", "cancelled", "failed") and r.updated_at < before
        ]
        for reminder_id in gone:
            del self._state.reminders[reminder_id]
        return len(gone)


class MemoryConsents:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def record(self, consent: ConsentRecord) -> None:
        self._state.consents.append(replace(consent, at=to_utc(consent.at)))

    async def history(self, person: PersonId) -> list[ConsentRecord]:
        # Stable sort: records with the same time stay in insertion order, like ORDER BY at, id.
        return sorted((c for c in self._state.consents if c.person == person), key=lambda c: c.at)

    async def current(self, person: PersonId) -> dict[str, ConsentRecord]:
        return {c.category: c for c in await self.history(person)}

    async def erase(self, person: PersonId) -> int:
        before = len(self._state.consents)
        self._state.consents = [c for c in self._state.consents if c.person != person]
        return before - len(self._state.consents)

    async def purge(self, before: datetime) -> int:
        before = to_utc(before)
        newest: dict[PersonId, datetime] = {}
        for c in self._state.consents:
            newest[c.person] = max(c.at, newest.get(c.person, c.at))
        stale = {
            person
            for person, at in newest.items()
            if at < before and person not in self._state.sessions
        }
        count = len(self._state.consents)
        self._state.consents = [c for c in self._state.consents if c.person not in stale]
        return count - len(self._state.consents)


class MemoryPrivacy:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def record_access(
        self,
        person: PersonId,
        partnership: str,
        coach: str | None,
        action: AccessAction,
        at: datetime,
    ) -> None:
        self._state.accesses.append(AccessRecord(person, partnership, coach, action, to_utc(at)))

    async def accesses(self, person: PersonId) -> list[AccessRecord]:
        return sorted((a for a in self._state.accesses if a.person == person), key=lambda a: a.at)

    async def erase_accesses(self, person: PersonId) -> int:
        count = len(self._state.accesses)
        self._state.accesses = [a for a in self._state.accesses if a.person != person]
        return count - len(self._state.accesses)

    async def purge_accesses(self, before: datetime) -> int:
        before = to_utc(before)
        count = len(self._state.accesses)
        self._state.accesses = [a for a in self._state.accesses if a.at >= before]
        return count - len(self._state.accesses)

    async def add_count(self, month: str, metric: str, amount: int = 1) -> None:
        key = (month, metric)
        self._state.counts[key] = self._state.counts.get(key, 0) + amount

    async def counts(self) -> dict[tuple[str, str], int]:
        return dict(self._state.counts)


MEMORY_ADAPTERS.register(SESSIONS_KEY, lambda c: MemorySessions(c.state, c.keyring))
MEMORY_ADAPTERS.register(REMINDERS_KEY, lambda c: MemoryReminders(c.state, c.now))
MEMORY_ADAPTERS.register(CONSENTS_KEY, lambda c: MemoryConsents(c.state))
MEMORY_ADAPTERS.register(PRIVACY_KEY, lambda c: MemoryPrivacy(c.state))


class MemoryStorage:
    """:class:`storage.ports.Storage` in memory; pass ``database`` to share state and
    ``keyring`` to keep sessions encrypted like a database would."""

    def __init__(
        self,
        database: MemoryDatabase | None = None,
        keyring: Keyring | None = None,
        now: WallClock = system_now,
    ) -> None:
        self.database = database if database is not None else MemoryDatabase()
        self.keyring = keyring
        self.now = now
        self.personal_data_parts: list[PersonalData] = core_parts()
        self._closed = False

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        if self._closed:
            raise RuntimeError("storage is closed")
        async with self.database.lock:
            working = self.database.state.copy()
            yield Transaction(MEMORY_ADAPTERS, MemoryContext(working, self.keyring, self.now))
            # Reached only when the block did not raise: commit by swapping the copy in.
            self.database.state = working

    def provides(self, key: RepositoryKey[Any]) -> bool:
        return key in MEMORY_ADAPTERS

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Transaction]:
        if self._closed:
            raise RuntimeError("storage is closed")
        # A snapshot without the lock (as SQLite's WAL read): what is written here is dropped.
        working = self.database.state.copy()
        yield Transaction(MEMORY_ADAPTERS, MemoryContext(working, self.keyring, self.now))

    async def close(self) -> None:
        self._closed = True

    async def scrub(self) -> None:
        # Nothing is on disk.
        return None

    async def ping(self) -> bool:
        return not self._closed
