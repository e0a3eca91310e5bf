"""In-memory adapter of :class:`storage.safety_port.SafetyEventRepository`, for fast service tests.

Rules of this module (those of :mod:`storage.memory` apply): the same contract as
:mod:`storage.safety_sql`, proved by the same tests (``tests/safety_net/test_storage.py``).
Records are frozen, so :meth:`SafetyState.copy` is a full snapshot. With a keyring the category
is kept sealed, as a database would hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.ids import CaseId, PersonId
from storage.assembly import MEMORY_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, unseal
from storage.safety import CATEGORY_AAD, merge_categories
from storage.safety_port import SAFETY_KEY, SafetyEventRecord, check_safety_category


@dataclass
class SafetyState:
    events: dict[int, SafetyEventRecord] = field(default_factory=dict)
    next_id: int = 1

    def copy(self) -> SafetyState:
        return SafetyState(events=dict(self.events), next_id=self.next_id)


class MemorySafetyEvents:
    def __init__(self, state: SafetyState, keyring: Keyring | None = None) -> None:
        self._state = state
        self._keyring = keyring

    def _out(self, event: SafetyEventRecord | None) -> SafetyEventRecord | None:
        if event is None:
            return None
        return replace(event, category=unseal(self._keyring, event.category, CATEGORY_AAD))

    def _all(self, events: list[SafetyEventRecord]) -> list[SafetyEventRecord]:
        return [e for e in map(self._out, events) if e is not None]

    def _stored(self, person: PersonId) -> SafetyEventRecord | None:
        return next(
            (e for e in self._state.events.values() if e.person == person and e.is_open), None
        )

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
        current = self._stored(person)
        if current is not None:
            kept = current.categories
            updated = replace(
                current,
                category=sealed,
                categories=merge_categories(kept, new),
                last_flag_at=now,
                flags=current.flags + 1,
                case_id=case_id if case_id is not None else current.case_id,
            )
            self._state.events[updated.id] = updated
            return replace(updated, category=category), False
        event = SafetyEventRecord(
            id=self._state.next_id,
            person=person,
            case_id=case_id,
            category=sealed,
            opened_at=now,
            last_flag_at=now,
            flags=1,
            acknowledged_at=None,
            acknowledged_by=None,
            closed_at=None,
            closed_by=None,
            escalated_at=None,
            categories=(new,),
        )
        self._state.next_id += 1
        self._state.events[event.id] = event
        return replace(event, category=category), True

    async def current(self, person: PersonId) -> SafetyEventRecord | None:
        return self._out(self._stored(person))

    async def is_open(self, person: PersonId) -> bool:
        return self._stored(person) is not None

    async def get(self, event_id: int) -> SafetyEventRecord | None:
        return self._out(self._state.events.get(event_id))

    async def acknowledge(
        self, event_id: int, by: PersonId, now: datetime
    ) -> SafetyEventRecord | None:
        event = self._state.events.get(event_id)
        if event is not None and event.is_open and event.acknowledged_at is None:
            event = replace(event, acknowledged_at=to_utc(now), acknowledged_by=by)
            self._state.events[event_id] = event
        return self._out(event)

    async def close(self, event_id: int, by: PersonId, now: datetime) -> SafetyEventRecord | None:
        event = self._state.events.get(event_id)
        if event is None or not event.is_open:
            return self._out(event)
        now = to_utc(now)
        if event.acknowledged_at is None:
            event = replace(event, acknowledged_at=now, acknowledged_by=by)
        event = replace(event, closed_at=now, closed_by=by)
        self._state.events[event_id] = event
        return self._out(event)

    async def mark_escalated(self, event_id: int, now: datetime) -> None:
        event = self._state.events.get(event_id)
        if event is not None:
            self._state.events[event_id] = replace(event, escalated_at=to_utc(now))

    async def open_events(self) -> list[SafetyEventRecord]:
        found = [e for e in self._state.events.values() if e.is_open]
        return self._all(sorted(found, key=lambda e: (e.opened_at, e.id)))

    async def of(self, person: PersonId) -> list[SafetyEventRecord]:
        found = [e for e in self._state.events.values() if e.person == person]
        return self._all(sorted(found, key=lambda e: (e.opened_at, e.id)))

    async def erase(self, person: PersonId) -> int:
        gone = [e.id for e in self._state.events.values() if e.person == person]
        for event_id in gone:
            del self._state.events[event_id]
        return len(gone)

    async def purge_closed(self, before: datetime) -> int:
        before = to_utc(before)
        gone = [
            e.id
            for e in self._state.events.values()
            if e.closed_at is not None and e.closed_at < before
        ]
        for event_id in gone:
            del self._state.events[event_id]
        return len(gone)


MEMORY_ADAPTERS.register(
    SAFETY_KEY, lambda c: MemorySafetyEvents(c.state.part(SafetyState), c.keyring)
)
