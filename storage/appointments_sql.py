"""SQL adapters of the appointment ports (:class:`storage.appointments_port.AppointmentRepository`,
:class:`storage.appointments_port.RatingRepository`,
:class:`storage.appointments_port.ReachabilityRepository`).

Rules of this module (those of :mod:`storage.sql` apply): SQLAlchemy Core on the transaction's
connection; nothing is logged. ``appointments.options``, ``appointments.place`` and
``ratings.ratings`` are sealed with the keyring (none: plaintext) with the associated data
``"<table>.<column>"``. :meth:`SqlAppointments.save` is a compare-and-set on (status, revision):
``UPDATE ... WHERE id AND status AND revision``, whose row count says who won.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.appointments import Appointment, AppointmentId, PlaceKind, Slot, Status
from flows.followups import RatingKind
from flows.ids import CaseId, CoachId, PersonId
from storage.appointments import (
    APPOINTMENTS,
    OPTIONS_AAD,
    PLACE_AAD,
    RATINGS,
    RATINGS_AAD,
    REACHABILITY,
)
from storage.appointments_port import (
    APPOINTMENTS_KEY,
    RATINGS_KEY,
    REACHABILITY_KEY,
    AppointmentRecord,
    RatingRecord,
    ReachabilityRecord,
)
from storage.assembly import SQL_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, seal_optional, unseal, unseal_optional

A, R, U = APPOINTMENTS, RATINGS, REACHABILITY


def options_json(options: tuple[Slot, ...]) -> str:
    return json.dumps(
        [
            {
                "starts_at": to_utc(o.starts_at).isoformat(),
                "kind": o.kind,
                "place": o.place,
                "minutes": o.minutes,
            }
            for o in options
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def options_from_json(text: str) -> tuple[Slot, ...]:
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError("stored options are not a JSON list")
    return tuple(
        Slot(
            starts_at=datetime.fromisoformat(item["starts_at"]),
            kind=cast(PlaceKind, item["kind"]),
            place=str(item["place"]),
            minutes=int(item["minutes"]),
        )
        for item in value
    )


def ratings_json(ratings: dict[str, str | None]) -> str:
    return json.dumps(ratings, ensure_ascii=False, separators=(",", ":"))


def ratings_from_json(text: str) -> dict[str, str | None]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("stored ratings are not a JSON object")
    return {str(k): None if v is None else str(v) for k, v in value.items()}


def appointment_values(appointment: Appointment, keyring: Keyring | None) -> dict[str, Any]:
    slot = appointment.slot
    chosen = appointment.options.index(slot) if slot in appointment.options else None
    return {
        "case_id": appointment.case,
        "person": appointment.person,
        "coach": appointment.coach,
        "options": seal(keyring, options_json(appointment.options), OPTIONS_AAD),
        "status": appointment.status,
        "chosen": chosen,
        "starts_at": None if slot is None else to_utc(slot.starts_at),
        "kind": None if slot is None else slot.kind,
        "place": seal_optional(keyring, None if slot is None else slot.place, PLACE_AAD),
        "revision": appointment.revision,
        "missed_in_row": appointment.missed_in_row,
    }


def appointment_from_row(row: RowMapping, keyring: Keyring | None) -> Appointment:
    options = options_from_json(unseal(keyring, row["options"], OPTIONS_AAD))
    chosen = row["chosen"]
    slot = None
    if chosen is not None and 0 <= int(chosen) < len(options):
        slot = options[int(chosen)]
    elif row["starts_at"] is not None:
        # The option list is the source; the columns are there to be queried and shown.
        place = unseal_optional(keyring, row["place"], PLACE_AAD) or ""
        slot = Slot(row["starts_at"], cast(PlaceKind, row["kind"]), place)
    return Appointment(
        id=AppointmentId(int(row["id"])),
        case=CaseId(row["case_id"]),
        person=PersonId(row["person"]),
        coach=CoachId(row["coach"]),
        options=options,
        status=cast(Status, row["status"]),
        slot=slot,
        revision=int(row["revision"]),
        missed_in_row=int(row["missed_in_row"]),
    )


class SqlAppointments:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    async def add(self, appointment: Appointment, now: datetime) -> Appointment:
        now = to_utc(now)
        values = appointment_values(appointment, self._keyring)
        result = await self._conn.execute(
            A.insert().values(created_at=now, updated_at=now, **values).returning(A.c.id)
        )
        new_id = AppointmentId(int(result.scalar_one()))
        stored = await self.get(new_id)
        assert stored is not None  # inserted just now, in this transaction
        return stored

    async def get(self, appointment_id: AppointmentId) -> Appointment | None:
        result = await self._conn.execute(select(A).where(A.c.id == appointment_id))
        row = result.mappings().first()
        return None if row is None else appointment_from_row(row, self._keyring)

    async def save(self, appointment: Appointment, *, expected: Appointment, now: datetime) -> bool:
        values = appointment_values(appointment, self._keyring)
        result = await self._conn.execute(
            update(A)
            .where(
                A.c.id == expected.id,
                A.c.status == expected.status,
                A.c.revision == expected.revision,
            )
            .values(updated_at=to_utc(now), **values)
        )
        return result.rowcount == 1

    async def of_case(self, case_id: CaseId) -> list[Appointment]:
        result = await self._conn.execute(
            select(A).where(A.c.case_id == case_id).order_by(A.c.created_at, A.c.id)
        )
        return [appointment_from_row(row, self._keyring) for row in result.mappings()]

    async def all_of(self, person: PersonId) -> list[AppointmentRecord]:
        result = await self._conn.execute(
            select(A).where(A.c.person == person).order_by(A.c.created_at, A.c.id)
        )
        return [
            AppointmentRecord(
                appointment_from_row(row, self._keyring), row["created_at"], row["updated_at"]
            )
            for row in result.mappings()
        ]

    async def case_ids(self) -> list[CaseId]:
        result = await self._conn.execute(select(A.c.case_id).distinct())
        return sorted(CaseId(value) for value in result.scalars())

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(A).where(A.c.person == person))
        return result.rowcount

    async def erase_case(self, case_id: CaseId) -> int:
        result = await self._conn.execute(delete(A).where(A.c.case_id == case_id))
        return result.rowcount


def _rating(row: RowMapping, keyring: Keyring | None) -> RatingRecord:
    return RatingRecord(
        id=int(row["id"]),
        case=CaseId(row["case_id"]),
        person=PersonId(row["person"]),
        kind=cast(RatingKind, row["kind"]),
        taken_at=row["taken_at"],
        ratings=ratings_from_json(unseal(keyring, row["ratings"], RATINGS_AAD)),
    )


class SqlRatings:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    async def add(
        self,
        case_id: CaseId,
        person: PersonId,
        kind: RatingKind,
        ratings: dict[str, str | None],
        taken_at: datetime,
    ) -> RatingRecord:
        result = await self._conn.execute(
            R.insert()
            .values(
                case_id=case_id,
                person=person,
                kind=kind,
                taken_at=to_utc(taken_at),
                ratings=seal(self._keyring, ratings_json(ratings), RATINGS_AAD),
            )
            .returning(R.c.id)
        )
        record = await self.get(int(result.scalar_one()))
        assert record is not None  # inserted just now, in this transaction
        return record

    async def get(self, rating_id: int) -> RatingRecord | None:
        result = await self._conn.execute(select(R).where(R.c.id == rating_id))
        row = result.mappings().first()
        return None if row is None else _rating(row, self._keyring)

    async def set_ratings(self, rating_id: int, ratings: dict[str, str | None]) -> None:
        await self._conn.execute(
            update(R)
            .where(R.c.id == rating_id)
            .values(ratings=seal(self._keyring, ratings_json(ratings), RATINGS_AAD))
        )

    async def of_case(self, case_id: CaseId) -> list[RatingRecord]:
        result = await self._conn.execute(
            select(R).where(R.c.case_id == case_id).order_by(R.c.taken_at, R.c.id)
        )
        return [_rating(row, self._keyring) for row in result.mappings()]

    async def all_of(self, person: PersonId) -> list[RatingRecord]:
        result = await self._conn.execute(
            select(R).where(R.c.person == person).order_by(R.c.taken_at, R.c.id)
        )
        return [_rating(row, self._keyring) for row in result.mappings()]

    async def case_ids(self) -> list[CaseId]:
        result = await self._conn.execute(select(R.c.case_id).distinct())
        return sorted(CaseId(value) for value in result.scalars())

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(R).where(R.c.person == person))
        return result.rowcount

    async def erase_case(self, case_id: CaseId) -> int:
        result = await self._conn.execute(delete(R).where(R.c.case_id == case_id))
        return result.rowcount


class SqlReachability:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def mark_unreachable(self, person: PersonId, now: datetime) -> bool:
        values = {"person": person, "unreachable_since": to_utc(now)}
        if self._conn.dialect.name == "postgresql":
            insert: postgresql.Insert | sqlite.Insert = postgresql.insert(U).values(values)
        else:
            insert = sqlite.insert(U).values(values)
        # ON CONFLICT DO NOTHING: the first mark keeps its time, and a PostgreSQL
        # transaction is not aborted by a duplicate.
        result = await self._conn.execute(insert.on_conflict_do_nothing())
        return result.rowcount == 1

    async def mark_reachable(self, person: PersonId) -> bool:
        result = await self._conn.execute(delete(U).where(U.c.person == person))
        return result.rowcount == 1

    async def get(self, person: PersonId) -> ReachabilityRecord | None:
        result = await self._conn.execute(select(U).where(U.c.person == person))
        row = result.mappings().first()
        if row is None:
            return None
        return ReachabilityRecord(PersonId(row["person"]), row["unreachable_since"])

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(U).where(U.c.person == person))
        return result.rowcount

    async def purge(self, before: datetime) -> int:
        result = await self._conn.execute(delete(U).where(U.c.unreachable_since < to_utc(before)))
        return result.rowcount


SQL_ADAPTERS.register(APPOINTMENTS_KEY, lambda c: SqlAppointments(c.conn, c.keyring))
SQL_ADAPTERS.register(RATINGS_KEY, lambda c: SqlRatings(c.conn, c.keyring))
SQL_ADAPTERS.register(REACHABILITY_KEY, lambda c: SqlReachability(c.conn))
