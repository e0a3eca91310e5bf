"""Appointments' port: appointments, ratings, reachability and their repositories.

Technology-free (no SQL, no memory adapter): records, the ``Protocol`` and its
:class:`storage.assembly.RepositoryKey`. Never imports :mod:`storage.ports` (which imports the
keys here for the transaction's typed attributes); the tables live in ``storage/appointments.py``,
the adapters in ``storage/appointments_sql.py`` and ``storage/appointments_memory.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, get_args

from flows.appointments import Appointment, AppointmentId
from flows.appointments import Status as AppointmentStatus
from flows.followups import RatingKind
from flows.ids import CaseId, PersonId
from storage.assembly import RepositoryKey

# --- appointments: proposals, bookings, attendance; ratings over time; reachability ---------
#
# Rules of this section: an appointment row is a :class:`flows.appointments.Appointment` (the
# pure state machine decides, storage keeps); ``save`` is a compare-and-set on (status,
# revision), and every transition changes one of them, so a coach's click and a young person's
# click can never both win. Options and the place are encrypted (``EncryptedText``) for
# consistency with the other free-ish text; ratings are encrypted because a domain's number says
# something about a person's health or money. Reachability holds only *that* and *since when* a
# young person can no longer be reached (they blocked the bot).

APPOINTMENT_STATUSES: tuple[AppointmentStatus, ...] = get_args(AppointmentStatus)
RATING_KINDS: tuple[RatingKind, ...] = get_args(RatingKind)


@dataclass(frozen=True)
class AppointmentRecord:
    """An appointment with its bookkeeping times (export)."""

    appointment: Appointment
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RatingRecord:
    id: int
    case: CaseId
    person: PersonId
    kind: RatingKind
    taken_at: datetime
    ratings: dict[str, str | None]
    """Domain id -> "1".."5", "skip", or ``None`` while a re-rating waits for that answer."""

    @property
    def complete(self) -> bool:
        return all(value is not None for value in self.ratings.values())


@dataclass(frozen=True)
class ReachabilityRecord:
    person: PersonId
    unreachable_since: datetime


class AppointmentRepository(Protocol):
    async def add(self, appointment: Appointment, now: datetime) -> Appointment:
        """Store a new appointment; returns it with the id the store gave it (the id passed
        in is ignored)."""
        ...

    async def get(self, appointment_id: AppointmentId) -> Appointment | None: ...

    async def save(self, appointment: Appointment, *, expected: Appointment, now: datetime) -> bool:
        """Replace the stored appointment if it still has ``expected``'s status and revision;
        ``False`` (and no change) when someone else changed it first."""
        ...

    async def of_case(self, case_id: CaseId) -> list[Appointment]:
        """Oldest first."""
        ...

    async def all_of(self, person: PersonId) -> list[AppointmentRecord]:
        """Every appointment of the person, oldest first (export)."""
        ...

    async def case_ids(self) -> list[CaseId]:
        """Every case that has appointments (retention finds the orphans)."""
        ...

    async def erase(self, person: PersonId) -> int: ...

    async def erase_case(self, case_id: CaseId) -> int: ...


class RatingRepository(Protocol):
    async def add(
        self,
        case_id: CaseId,
        person: PersonId,
        kind: RatingKind,
        ratings: dict[str, str | None],
        taken_at: datetime,
    ) -> RatingRecord: ...

    async def get(self, rating_id: int) -> RatingRecord | None: ...

    async def set_ratings(self, rating_id: int, ratings: dict[str, str | None]) -> None:
        """Replace the ratings (an answer, or a withdrawn consent)."""
        ...

    async def of_case(self, case_id: CaseId) -> list[RatingRecord]:
        """Oldest first."""
        ...

    async def all_of(self, person: PersonId) -> list[RatingRecord]:
        """Oldest first (export)."""
        ...

    async def case_ids(self) -> list[CaseId]: ...

    async def erase(self, person: PersonId) -> int: ...

    async def erase_case(self, case_id: CaseId) -> int: ...


class ReachabilityRepository(Protocol):
    async def mark_unreachable(self, person: PersonId, now: datetime) -> bool:
        """Remember that the person cannot be reached; ``True`` when that is new (an earlier
        mark keeps its time)."""
        ...

    async def mark_reachable(self, person: PersonId) -> bool:
        """Forget the mark; ``True`` when there was one."""
        ...

    async def get(self, person: PersonId) -> ReachabilityRecord | None: ...

    async def erase(self, person: PersonId) -> int: ...

    async def purge(self, before: datetime) -> int:
        """Delete marks older than ``before``."""
        ...


APPOINTMENTS_KEY: RepositoryKey[AppointmentRepository] = RepositoryKey("appointments")
RATINGS_KEY: RepositoryKey[RatingRepository] = RepositoryKey("ratings")
REACHABILITY_KEY: RepositoryKey[ReachabilityRepository] = RepositoryKey("reachability")
