"""The appointment tables (appointments, ratings, reachability) and their personal-data parts.

Rules of this module (those of :mod:`storage.tables` apply; it imports this module so the
tables are on ``SQLModel.metadata``):

* ``appointments`` keeps a :class:`flows.appointments.Appointment`: the options offered (JSON,
  :class:`storage.db.EncryptedText`), the status, the chosen option, its start, kind and place
  (the place encrypted like the options), the revision that makes old reminder rows stale, and
  the missed-in-a-row count. No text a person typed.
* ``ratings`` keeps the young person's own numbers per life domain, with the case, the moment
  and the occasion (``intake``, ``three_months``, ``closing``). Numbers for health or addiction
  are special-category data: the JSON is ``EncryptedText``.
* ``reachability`` says only since when a young person cannot be reached (they blocked the
  bot); it goes when they come back.
* No foreign key to ``cases``: the routing tables live in another migration branch. A row whose
  case is gone is removed by the retention job (:meth:`AppointmentPart.purge_expired`); erasing
  a person removes theirs at once.
* Parts: ``appointments``, ``ratings`` and ``reachability`` (registered by
  ``bot/appointments/wiring.py``). Withdrawing the consent for sensitive domains removes those
  domains' numbers from every rating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Table
from sqlmodel import Field, SQLModel

from flows.ids import CaseId, PersonId
from flows.intake.domains import CONSENT_DOMAINS
from flows.session import JsonValue
from storage.appointments_port import APPOINTMENT_STATUSES, RATING_KINDS
from storage.codec import aad
from storage.db import EncryptedText, UtcDateTime
from storage.ports import RetentionPolicy, Transaction

OPTIONS_AAD = aad("appointments", "options")
PLACE_AAD = aad("appointments", "place")
RATINGS_AAD = aad("ratings", "ratings")


def _among(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class AppointmentRow(SQLModel, table=True):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_person", "person"),
        Index("ix_appointments_case_id", "case_id"),
        CheckConstraint(_among("status", APPOINTMENT_STATUSES), name="ck_appointments_status"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str
    person: str
    coach: str
    # JSON list of {starts_at, kind, place, minutes}, sealed.
    options: str = Field(sa_type=EncryptedText, nullable=False)
    status: str
    chosen: int | None = Field(default=None, nullable=True)
    starts_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    kind: str | None = Field(default=None, nullable=True)
    place: str | None = Field(default=None, sa_type=EncryptedText, nullable=True)
    revision: int
    missed_in_row: int
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class RatingRow(SQLModel, table=True):
    __tablename__ = "ratings"
    __table_args__ = (
        Index("ix_ratings_person", "person"),
        Index("ix_ratings_case_id", "case_id"),
        CheckConstraint(_among("kind", RATING_KINDS), name="ck_ratings_kind"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str
    person: str
    kind: str
    taken_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    # JSON object domain -> "1".."5" | "skip" | null, sealed.
    ratings: str = Field(sa_type=EncryptedText, nullable=False)


class ReachabilityRow(SQLModel, table=True):
    __tablename__ = "reachability"

    person: str = Field(primary_key=True)
    unreachable_since: datetime = Field(sa_type=UtcDateTime, nullable=False)


def _table(model: type[SQLModel]) -> Table:
    return SQLModel.metadata.tables[str(model.__tablename__)]


APPOINTMENTS: Table = _table(AppointmentRow)
RATINGS: Table = _table(RatingRow)
REACHABILITY: Table = _table(ReachabilityRow)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


async def _orphans(tx: Transaction, case_ids: list[CaseId]) -> list[CaseId]:
    return [case_id for case_id in case_ids if await tx.cases.get(case_id) is None]


@dataclass(frozen=True)
class AppointmentPart:
    name: str = "appointments"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        found: list[JsonValue] = []
        for record in await tx.appointments.all_of(person):
            a = record.appointment
            options: list[JsonValue] = [
                {
                    "starts_at": _iso(o.starts_at),
                    "kind": o.kind,
                    "place": o.place,
                    "minutes": o.minutes,
                }
                for o in a.options
            ]
            found.append(
                {
                    "case": a.case,
                    "coach": a.coach,
                    "status": a.status,
                    "options": options,
                    "starts_at": _iso(a.slot.starts_at) if a.slot else None,
                    "kind": a.slot.kind if a.slot else None,
                    "place": a.slot.place if a.slot else None,
                    "missed_in_row": a.missed_in_row,
                    "created_at": _iso(record.created_at),
                    "updated_at": _iso(record.updated_at),
                }
            )
        return found

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx.appointments.erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        # Kept as long as their case: the case's own retention decides (closed + N months).
        gone = 0
        for case_id in await _orphans(tx, await tx.appointments.case_ids()):
            gone += await tx.appointments.erase_case(case_id)
        return gone

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        return 0


@dataclass(frozen=True)
class RatingPart:
    name: str = "ratings"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        return [
            {
                "case": r.case,
                "kind": r.kind,
                "taken_at": _iso(r.taken_at),
                "ratings": dict(r.ratings),
            }
            for r in await tx.ratings.all_of(person)
        ]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx.ratings.erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        gone = 0
        for case_id in await _orphans(tx, await tx.ratings.case_ids()):
            gone += await tx.ratings.erase_case(case_id)
        return gone

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        if category not in CONSENT_DOMAINS:
            return 0
        dropped = 0
        withdrawn = CONSENT_DOMAINS[category]
        for record in await tx.ratings.all_of(person):
            kept = {d: v for d, v in record.ratings.items() if d not in withdrawn}
            if len(kept) != len(record.ratings):
                dropped += len(record.ratings) - len(kept)
                await tx.ratings.set_ratings(record.id, kept)
        return dropped


@dataclass(frozen=True)
class ReachabilityPart:
    name: str = "reachability"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        record = await tx.reachability.get(person)
        if record is None:
            return []
        return [{"unreachable_since": _iso(record.unreachable_since)}]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx.reachability.erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        return await tx.reachability.purge(policy.closed_before(now))

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        return 0
