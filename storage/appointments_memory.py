"""In-memory adapters of the appointment ports, for fast service tests.

Rules of this module (those of :mod:`storage.memory` apply): the same contract as
:mod:`storage.appointments_sql`, proved by the same tests (``tests/appointments/
test_storage.py``). Values are frozen, so :meth:`AppointmentState.copy` is a full snapshot.
Nothing is sealed here: no JSON column exists to hold a token, and the encryption itself is
proved on the SQL adapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.appointments import Appointment, AppointmentId
from flows.followups import RatingKind
from flows.ids import CaseId, PersonId
from storage.appointments_port import (
    APPOINTMENTS_KEY,
    RATINGS_KEY,
    REACHABILITY_KEY,
    AppointmentRecord,
    RatingRecord,
    ReachabilityRecord,
)
from storage.assembly import MEMORY_ADAPTERS
from storage.codec import to_utc


@dataclass
class AppointmentState:
    appointments: dict[int, AppointmentRecord] = field(default_factory=dict)
    ratings: dict[int, RatingRecord] = field(default_factory=dict)
    unreachable: dict[PersonId, ReachabilityRecord] = field(default_factory=dict)
    next_appointment: int = 1
    next_rating: int = 1

    def copy(self) -> AppointmentState:
        return AppointmentState(
            appointments=dict(self.appointments),
            ratings=dict(self.ratings),
            unreachable=dict(self.unreachable),
            next_appointment=self.next_appointment,
            next_rating=self.next_rating,
        )


class MemoryAppointments:
    def __init__(self, state: AppointmentState) -> None:
        self._state = state

    async def add(self, appointment: Appointment, now: datetime) -> Appointment:
        now = to_utc(now)
        stored = replace(appointment, id=AppointmentId(self._state.next_appointment))
        self._state.next_appointment += 1
        self._state.appointments[stored.id] = AppointmentRecord(stored, now, now)
        return stored

    async def get(self, appointment_id: AppointmentId) -> Appointment | None:
        record = self._state.appointments.get(appointment_id)
        return None if record is None else record.appointment

    async def save(self, appointment: Appointment, *, expected: Appointment, now: datetime) -> bool:
        record = self._state.appointments.get(expected.id)
        if record is None:
            return False
        current = record.appointment
        if (current.status, current.revision) != (expected.status, expected.revision):
            return False
        stored = replace(appointment, id=expected.id)
        self._state.appointments[expected.id] = replace(
            record, appointment=stored, updated_at=to_utc(now)
        )
        return True

    def _sorted(self) -> list[AppointmentRecord]:
        return sorted(
            self._state.appointments.values(), key=lambda r: (r.created_at, r.appointment.id)
        )

    async def of_case(self, case_id: CaseId) -> list[Appointment]:
        return [r.appointment for r in self._sorted() if r.appointment.case == case_id]

    async def all_of(self, person: PersonId) -> list[AppointmentRecord]:
        return [r for r in self._sorted() if r.appointment.person == person]

    async def case_ids(self) -> list[CaseId]:
        return sorted({r.appointment.case for r in self._state.appointments.values()})

    def _drop(self, ids: list[int]) -> int:
        for appointment_id in ids:
            del self._state.appointments[appointment_id]
        return len(ids)

    async def erase(self, person: PersonId) -> int:
        return self._drop(
            [i for i, r in self._state.appointments.items() if r.appointment.person == person]
        )

    async def erase_case(self, case_id: CaseId) -> int:
        return self._drop(
            [i for i, r in self._state.appointments.items() if r.appointment.case == case_id]
        )


class MemoryRatings:
    def __init__(self, state: AppointmentState) -> None:
        self._state = state

    async def add(
        self,
        case_id: CaseId,
        person: PersonId,
        kind: RatingKind,
        ratings: dict[str, str | None],
        taken_at: datetime,
    ) -> RatingRecord:
        record = RatingRecord(
            self._state.next_rating, case_id, person, kind, to_utc(taken_at), dict(ratings)
        )
        self._state.next_rating += 1
        self._state.ratings[record.id] = record
        return replace(record, ratings=dict(record.ratings))

    async def get(self, rating_id: int) -> RatingRecord | None:
        record = self._state.ratings.get(rating_id)
        # A copy of the dict, so a caller changing it does not change the store.
        return None if record is None else replace(record, ratings=dict(record.ratings))

    async def set_ratings(self, rating_id: int, ratings: dict[str, str | None]) -> None:
        record = self._state.ratings.get(rating_id)
        if record is not None:
            self._state.ratings[rating_id] = replace(record, ratings=dict(ratings))

    def _sorted(self) -> list[RatingRecord]:
        return sorted(self._state.ratings.values(), key=lambda r: (r.taken_at, r.id))

    async def of_case(self, case_id: CaseId) -> list[RatingRecord]:
        return [replace(r, ratings=dict(r.ratings)) for r in self._sorted() if r.case == case_id]

    async def all_of(self, person: PersonId) -> list[RatingRecord]:
        return [replace(r, ratings=dict(r.ratings)) for r in self._sorted() if r.person == person]

    async def case_ids(self) -> list[CaseId]:
        return sorted({r.case for r in self._state.ratings.values()})

    def _drop(self, ids: list[int]) -> int:
        for rating_id in ids:
            del self._state.ratings[rating_id]
        return len(ids)

    async def erase(self, person: PersonId) -> int:
        return self._drop([i for i, r in self._state.ratings.items() if r.person == person])

    async def erase_case(self, case_id: CaseId) -> int:
        return self._drop([i for i, r in self._state.ratings.items() if r.case == case_id])


class MemoryReachability:
    def __init__(self, state: AppointmentState) -> None:
        self._state = state

    async def mark_unreachable(self, person: PersonId, now: datetime) -> bool:
        if person in self._state.unreachable:
            return False
        self._state.unreachable[person] = ReachabilityRecord(person, to_utc(now))
        return True

    async def mark_reachable(self, person: PersonId) -> bool:
        return self._state.unreachable.pop(person, None) is not None

    async def get(self, person: PersonId) -> ReachabilityRecord | None:
        return self._state.unreachable.get(person)

    async def erase(self, person: PersonId) -> int:
        return int(self._state.unreachable.pop(person, None) is not None)

    async def purge(self, before: datetime) -> int:
        before = to_utc(before)
        gone = [p for p, r in self._state.unreachable.items() if r.unreachable_since < before]
        for person in gone:
            del self._state.unreachable[person]
        return len(gone)


MEMORY_ADAPTERS.register(
    APPOINTMENTS_KEY, lambda c: MemoryAppointments(c.state.part(AppointmentState))
)
MEMORY_ADAPTERS.register(RATINGS_KEY, lambda c: MemoryRatings(c.state.part(AppointmentState)))
MEMORY_ADAPTERS.register(
    REACHABILITY_KEY, lambda c: MemoryReachability(c.state.part(AppointmentState))
)
