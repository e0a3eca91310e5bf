"""SQL adapters of the routing ports (:class:`storage.routing_port.CoachRepository`,
:class:`storage.routing_port.CaseRepository`) for SQLite and PostgreSQL.

Rules of this module (those of :mod:`storage.sql` apply):

* SQLAlchemy Core on the transaction's connection; nothing is logged.
* ``cases.intake``, ``offers.reasons`` and ``relay_messages.text`` are sealed with the keyring
  (none: plaintext)
  with the associated data ``"<table>.<column>"``, so a value moved to another column does not
  decrypt.
* State changes that race (an offer answered by a coach while the deadline tick expires it, an
  invite opened twice) are compare-and-set ``UPDATE ... WHERE`` statements whose row count says
  who won.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import RowMapping, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.ids import CaseId, CoachId, PartnershipId, PersonId, row_number
from flows.session import JsonValue
from storage.assembly import SQL_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, unseal
from storage.escalation import BLIND_SPOT_COUNTS, COACH_MESSAGES, ERASED_CASES
from storage.ports import check_token_hash
from storage.routing import (
    CASES,
    COACH_INVITES,
    COACHES,
    INTAKE_AAD,
    OFFERS,
    REASONS_AAD,
    RELAY_MESSAGES,
    TEXT_AAD,
)
from storage.routing_port import (
    CASES_KEY,
    COACHES_KEY,
    BlindSpotCount,
    CaseOutcome,
    CaseRecord,
    CaseStatus,
    CoachMessageKind,
    CoachMessageRecord,
    CoachRecord,
    CoachRole,
    ErasedCaseRecord,
    OfferRecord,
    OfferStatus,
    RelayDirection,
    RelayRecord,
)


def encode_json(value: Mapping[str, JsonValue] | list[str]) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def decode_object(text: str) -> dict[str, JsonValue]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("stored value is not a JSON object")
    return cast(dict[str, JsonValue], value)


def decode_list(text: str) -> tuple[str, ...]:
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("stored value is not a JSON list of strings")
    return tuple(value)


def coach_from_row(row: RowMapping) -> CoachRecord:
    current = row["current_case"]
    person = row["person"]
    return CoachRecord(
        id=CoachId(row["id"]),
        partnership=PartnershipId(row["partnership"]),
        first_name=row["first_name"],
        organisation=row["organisation"],
        domains=decode_list(row["domains"]),
        languages=decode_list(row["languages"]),
        capacity=int(row["capacity"]),
        role=cast(CoachRole, row["role"]),
        hours=row["hours"],
        active=bool(row["active"]),
        person=None if person is None else PersonId(person),
        current_case=None if current is None else CaseId(str(current)),
        last_assigned_at=row["last_assigned_at"],
        created_at=row["created_at"],
        absent_until=row["absent_until"],
    )


def coach_to_row(coach: CoachRecord) -> dict[str, Any]:
    return {
        "id": coach.id,
        "partnership": coach.partnership,
        "first_name": coach.first_name,
        "organisation": coach.organisation,
        "domains": encode_json(list(coach.domains)),
        "languages": encode_json(list(coach.languages)),
        "capacity": coach.capacity,
        "role": coach.role,
        "hours": coach.hours,
        "active": coach.active,
        "person": coach.person,
        "current_case": None if coach.current_case is None else int(coach.current_case),
        "last_assigned_at": None
        if coach.last_assigned_at is None
        else to_utc(coach.last_assigned_at),
        "created_at": to_utc(coach.created_at),
        "absent_until": None if coach.absent_until is None else to_utc(coach.absent_until),
    }


def case_number(case_id: CaseId) -> int:
    """The row id of a case id (``CaseId("12")`` -> 12); ``ValueError`` for anything else."""
    number = row_number(case_id)
    if number is None:
        raise ValueError("a case id is a number")
    return number


class SqlCoaches:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _one(self, *where: Any) -> CoachRecord | None:
        result = await self._conn.execute(select(COACHES).where(*where))
        row = result.mappings().first()
        return None if row is None else coach_from_row(row)

    async def add(self, coach: CoachRecord) -> None:
        await self._conn.execute(COACHES.insert().values(coach_to_row(coach)))

    async def get(self, coach_id: CoachId) -> CoachRecord | None:
        return await self._one(COACHES.c.id == coach_id)

    async def by_person(self, person: PersonId) -> CoachRecord | None:
        return await self._one(COACHES.c.person == person)

    async def of_partnership(self, partnership: PartnershipId) -> list[CoachRecord]:
        result = await self._conn.execute(
            select(COACHES).where(COACHES.c.partnership == partnership).order_by(COACHES.c.id)
        )
        return [coach_from_row(row) for row in result.mappings()]

    async def all(self) -> list[CoachRecord]:
        result = await self._conn.execute(
            select(COACHES).order_by(COACHES.c.partnership, COACHES.c.id)
        )
        return [coach_from_row(row) for row in result.mappings()]

    async def _set(self, coach_id: CoachId, **values: Any) -> None:
        await self._conn.execute(update(COACHES).where(COACHES.c.id == coach_id).values(values))

    async def bind(self, coach_id: CoachId, person: PersonId) -> None:
        await self._set(coach_id, person=person)

    async def set_active(self, coach_id: CoachId, active: bool) -> None:
        await self._set(coach_id, active=active)

    async def set_current_case(self, coach_id: CoachId, case: CaseId | None) -> None:
        await self._set(coach_id, current_case=None if case is None else case_number(case))

    async def mark_assigned(self, coach_id: CoachId, at: datetime) -> None:
        await self._set(coach_id, last_assigned_at=to_utc(at))

    async def set_absent(self, coach_id: CoachId, until: datetime | None) -> None:
        await self._set(coach_id, absent_until=None if until is None else to_utc(until))

    async def add_invite(
        self, token_hash: str, coach_id: CoachId, created_at: datetime, expires_at: datetime
    ) -> None:
        await self._conn.execute(
            COACH_INVITES.insert().values(
                token_hash=check_token_hash(token_hash),
                coach_id=coach_id,
                created_at=to_utc(created_at),
                expires_at=to_utc(expires_at),
                used_at=None,
            )
        )

    async def redeem_invite(self, token_hash: str, now: datetime) -> CoachId | None:
        now = to_utc(now)
        result = await self._conn.execute(
            update(COACH_INVITES)
            .where(
                COACH_INVITES.c.token_hash == check_token_hash(token_hash),
                COACH_INVITES.c.used_at.is_(None),
                COACH_INVITES.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(COACH_INVITES.c.coach_id)
        )
        coach = result.scalar_one_or_none()
        return None if coach is None else CoachId(coach)


class SqlCases:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    def _case(self, row: RowMapping) -> CaseRecord:
        coach = row["coach_id"]
        outcome = row["outcome"]
        return CaseRecord(
            id=CaseId(str(row["id"])),
            person=PersonId(row["person"]),
            partnership=PartnershipId(row["partnership"]),
            municipality_nis=row["municipality_nis"],
            language=row["language"],
            status=cast(CaseStatus, row["status"]),
            coach=None if coach is None else CoachId(coach),
            outcome=None if outcome is None else cast(CaseOutcome, outcome),
            intake=decode_object(unseal(self._keyring, row["intake"], INTAKE_AAD)),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            accepted_at=row["accepted_at"],
            closed_at=row["closed_at"],
            promised_at=row["promised_at"],
            reopened=int(row["reopened"]),
            escalated_at=row["escalated_at"],
            fallback_at=row["fallback_at"],
        )

    def _offer(self, row: RowMapping) -> OfferRecord:
        return OfferRecord(
            id=int(row["id"]),
            case=CaseId(str(row["case_id"])),
            coach=CoachId(row["coach_id"]),
            status=cast(OfferStatus, row["status"]),
            reasons=decode_object(unseal(self._keyring, row["reasons"], REASONS_AAD)),
            sent_at=row["sent_at"],
            deadline_at=row["deadline_at"],
            answered_at=row["answered_at"],
        )

    def _message(self, row: RowMapping) -> RelayRecord:
        return RelayRecord(
            id=int(row["id"]),
            case=CaseId(str(row["case_id"])),
            direction=cast(RelayDirection, row["direction"]),
            text=unseal(self._keyring, row["text"], TEXT_AAD),
            at=row["at"],
            delivered=bool(row["delivered"]),
        )

    async def _cases(self, *where: Any) -> list[CaseRecord]:
        result = await self._conn.execute(select(CASES).where(*where).order_by(CASES.c.id))
        return [self._case(row) for row in result.mappings()]

    async def create(
        self,
        person: PersonId,
        partnership: PartnershipId,
        municipality_nis: str | None,
        language: str,
        intake: dict[str, JsonValue],
        now: datetime,
    ) -> CaseRecord:
        now = to_utc(now)
        result = await self._conn.execute(
            CASES.insert()
            .values(
                person=person,
                partnership=partnership,
                municipality_nis=municipality_nis,
                language=language,
                status="waiting",
                coach_id=None,
                outcome=None,
                intake=seal(self._keyring, encode_json(intake), INTAKE_AAD),
                created_at=now,
                updated_at=now,
                accepted_at=None,
                closed_at=None,
                promised_at=None,
                reopened=0,
                escalated_at=None,
                fallback_at=None,
            )
            .returning(*CASES.c)
        )
        return self._case(result.mappings().one())

    async def get(self, case_id: CaseId) -> CaseRecord | None:
        number = row_number(case_id)
        if number is None:
            return None
        found = await self._cases(CASES.c.id == number)
        return found[0] if found else None

    async def latest_of(self, person: PersonId) -> CaseRecord | None:
        result = await self._conn.execute(
            select(CASES).where(CASES.c.person == person).order_by(CASES.c.id.desc()).limit(1)
        )
        row = result.mappings().first()
        return None if row is None else self._case(row)

    async def all_of(self, person: PersonId) -> list[CaseRecord]:
        return await self._cases(CASES.c.person == person)

    async def of_coach(
        self, coach_id: CoachId, statuses: tuple[CaseStatus, ...]
    ) -> list[CaseRecord]:
        return await self._cases(CASES.c.coach_id == coach_id, CASES.c.status.in_(statuses))

    async def _set(self, case_id: CaseId, **values: Any) -> None:
        await self._conn.execute(
            update(CASES).where(CASES.c.id == case_number(case_id)).values(values)
        )

    async def set_status(self, case_id: CaseId, status: CaseStatus, now: datetime) -> None:
        await self._set(case_id, status=status, updated_at=to_utc(now))

    async def accept(self, case_id: CaseId, coach_id: CoachId, now: datetime) -> None:
        now = to_utc(now)
        await self._set(case_id, status="open", coach_id=coach_id, accepted_at=now, updated_at=now)

    async def close(self, case_id: CaseId, outcome: CaseOutcome, now: datetime) -> None:
        now = to_utc(now)
        await self._set(case_id, status="closed", outcome=outcome, closed_at=now, updated_at=now)

    async def reopen(self, case_id: CaseId, now: datetime) -> None:
        await self._set(
            case_id,
            status="open",
            outcome=None,
            closed_at=None,
            updated_at=to_utc(now),
            reopened=CASES.c.reopened + 1,
        )

    async def promise(self, case_id: CaseId, at: datetime) -> None:
        await self._set(case_id, promised_at=to_utc(at))

    async def set_intake(self, case_id: CaseId, intake: dict[str, JsonValue]) -> None:
        await self._set(case_id, intake=seal(self._keyring, encode_json(intake), INTAKE_AAD))

    async def add_offer(
        self,
        case_id: CaseId,
        coach_id: CoachId,
        reasons: dict[str, JsonValue],
        sent_at: datetime,
        deadline_at: datetime,
    ) -> OfferRecord:
        result = await self._conn.execute(
            OFFERS.insert()
            .values(
                case_id=case_number(case_id),
                coach_id=coach_id,
                status="open",
                reasons=seal(self._keyring, encode_json(reasons), REASONS_AAD),
                sent_at=to_utc(sent_at),
                deadline_at=to_utc(deadline_at),
                answered_at=None,
            )
            .returning(*OFFERS.c)
        )
        return self._offer(result.mappings().one())

    async def get_offer(self, offer_id: int) -> OfferRecord | None:
        result = await self._conn.execute(select(OFFERS).where(OFFERS.c.id == offer_id))
        row = result.mappings().first()
        return None if row is None else self._offer(row)

    async def offers_of(self, case_id: CaseId) -> list[OfferRecord]:
        result = await self._conn.execute(
            select(OFFERS).where(OFFERS.c.case_id == case_number(case_id)).order_by(OFFERS.c.id)
        )
        return [self._offer(row) for row in result.mappings()]

    async def answer_offer(self, offer_id: int, status: OfferStatus, now: datetime) -> bool:
        result = await self._conn.execute(
            update(OFFERS)
            .where(OFFERS.c.id == offer_id, OFFERS.c.status == "open")
            .values(status=status, answered_at=to_utc(now))
        )
        return result.rowcount == 1

    async def loads(self, coach_ids: tuple[CoachId, ...]) -> dict[CoachId, int]:
        found: dict[CoachId, int] = dict.fromkeys(coach_ids, 0)
        if not coach_ids:
            return found
        cases = await self._conn.execute(
            select(CASES.c.coach_id, func.count())
            .where(CASES.c.coach_id.in_(coach_ids), CASES.c.status == "open")
            .group_by(CASES.c.coach_id)
        )
        offers = await self._conn.execute(
            select(OFFERS.c.coach_id, func.count())
            .where(OFFERS.c.coach_id.in_(coach_ids), OFFERS.c.status == "open")
            .group_by(OFFERS.c.coach_id)
        )
        for coach, count in [*cases.all(), *offers.all()]:
            found[CoachId(coach)] += int(count)
        return found

    async def add_message(
        self,
        case_id: CaseId,
        direction: RelayDirection,
        text: str,
        now: datetime,
        *,
        delivered: bool,
    ) -> RelayRecord:
        result = await self._conn.execute(
            RELAY_MESSAGES.insert()
            .values(
                case_id=case_number(case_id),
                direction=direction,
                text=seal(self._keyring, text, TEXT_AAD),
                at=to_utc(now),
                delivered=delivered,
            )
            .returning(*RELAY_MESSAGES.c)
        )
        return self._message(result.mappings().one())

    async def messages_of(self, case_id: CaseId) -> list[RelayRecord]:
        result = await self._conn.execute(
            select(RELAY_MESSAGES)
            .where(RELAY_MESSAGES.c.case_id == case_number(case_id))
            .order_by(RELAY_MESSAGES.c.id)
        )
        return [self._message(row) for row in result.mappings()]

    async def mark_delivered(self, message_ids: tuple[int, ...]) -> None:
        if message_ids:
            await self._conn.execute(
                update(RELAY_MESSAGES)
                .where(RELAY_MESSAGES.c.id.in_(message_ids))
                .values(delivered=True)
            )

    async def _delete_cases(self, *where: Any) -> int:
        # Offers and messages go with their case (ON DELETE CASCADE), deleted explicitly as
        # well so the result does not depend on SQLite's foreign_keys pragma.
        ids = select(CASES.c.id).where(*where)
        await self._conn.execute(delete(OFFERS).where(OFFERS.c.case_id.in_(ids)))
        await self._conn.execute(delete(RELAY_MESSAGES).where(RELAY_MESSAGES.c.case_id.in_(ids)))
        await self._conn.execute(delete(COACH_MESSAGES).where(COACH_MESSAGES.c.case_id.in_(ids)))
        # A coach whose current case goes away writes to no case.
        await self._conn.execute(
            update(COACHES).where(COACHES.c.current_case.in_(ids)).values(current_case=None)
        )
        result = await self._conn.execute(delete(CASES).where(*where))
        return result.rowcount

    async def erase(self, person: PersonId) -> int:
        return await self._delete_cases(CASES.c.person == person)

    async def purge_closed(self, before: datetime) -> int:
        return await self._delete_cases(
            CASES.c.status == "closed", CASES.c.closed_at < to_utc(before)
        )

    # --- escalation ----------------------------------------------------------------------

    async def escalate(self, case_id: CaseId, now: datetime) -> bool:
        now = to_utc(now)
        number = case_number(case_id)
        first = await self._conn.execute(
            update(CASES)
            .where(CASES.c.id == number, CASES.c.escalated_at.is_(None))
            .values(status="escalated", escalated_at=now, updated_at=now)
        )
        if first.rowcount == 1:
            return True
        await self._set(case_id, status="escalated", updated_at=now)
        return False

    async def mark_fallback(self, case_id: CaseId, now: datetime) -> bool:
        result = await self._conn.execute(
            update(CASES)
            .where(CASES.c.id == case_number(case_id), CASES.c.fallback_at.is_(None))
            .values(fallback_at=to_utc(now))
        )
        return result.rowcount == 1

    async def of_partnership(
        self, partnership: PartnershipId, statuses: tuple[CaseStatus, ...]
    ) -> list[CaseRecord]:
        return await self._cases(CASES.c.partnership == partnership, CASES.c.status.in_(statuses))

    async def offers_of_coach(
        self, coach_id: CoachId, statuses: tuple[OfferStatus, ...]
    ) -> list[OfferRecord]:
        result = await self._conn.execute(
            select(OFFERS)
            .where(OFFERS.c.coach_id == coach_id, OFFERS.c.status.in_(statuses))
            .order_by(OFFERS.c.id)
        )
        return [self._offer(row) for row in result.mappings()]

    async def add_coach_message(
        self,
        case_id: CaseId,
        coach_id: CoachId,
        chat: PersonId,
        message_id: int,
        kind: CoachMessageKind,
        now: datetime,
    ) -> None:
        await self._conn.execute(
            insert(COACH_MESSAGES).values(
                case_id=case_number(case_id),
                coach_id=coach_id,
                chat=chat,
                message_id=message_id,
                kind=kind,
                sent_at=to_utc(now),
                redacted=False,
            )
        )

    async def coach_messages_of(self, case_id: CaseId) -> list[CoachMessageRecord]:
        result = await self._conn.execute(
            select(COACH_MESSAGES)
            .where(COACH_MESSAGES.c.case_id == case_number(case_id))
            .order_by(COACH_MESSAGES.c.id)
        )
        return [
            CoachMessageRecord(
                id=int(row["id"]),
                case=CaseId(str(row["case_id"])),
                coach=CoachId(row["coach_id"]),
                chat=PersonId(row["chat"]),
                message_id=int(row["message_id"]),
                kind=cast(CoachMessageKind, row["kind"]),
                sent_at=row["sent_at"],
                redacted=bool(row["redacted"]),
            )
            for row in result.mappings()
        ]

    async def mark_redacted(self, ids: tuple[int, ...]) -> None:
        if ids:
            await self._conn.execute(
                update(COACH_MESSAGES).where(COACH_MESSAGES.c.id.in_(ids)).values(redacted=True)
            )

    async def record_erased(self, case: CaseRecord, now: datetime) -> None:
        await self._conn.execute(
            delete(ERASED_CASES).where(ERASED_CASES.c.case_id == case_number(case.id))
        )
        await self._conn.execute(
            insert(ERASED_CASES).values(
                case_id=case_number(case.id),
                partnership=case.partnership,
                coach_id=case.coach,
                erased_at=to_utc(now),
            )
        )

    async def erased_of(self, partnership: PartnershipId) -> list[ErasedCaseRecord]:
        result = await self._conn.execute(
            select(ERASED_CASES)
            .where(ERASED_CASES.c.partnership == partnership)
            .order_by(ERASED_CASES.c.case_id)
        )
        return [
            ErasedCaseRecord(
                case=CaseId(str(row["case_id"])),
                partnership=PartnershipId(row["partnership"]),
                coach=None if row["coach_id"] is None else CoachId(row["coach_id"]),
                erased_at=row["erased_at"],
            )
            for row in result.mappings()
        ]

    async def purge_erased(self, before: datetime) -> int:
        result = await self._conn.execute(
            delete(ERASED_CASES).where(ERASED_CASES.c.erased_at < to_utc(before))
        )
        return result.rowcount

    async def count_blind_spot(
        self, month: str, kind: str, municipality_nis: str, partnership: str
    ) -> None:
        values = {
            "month": month,
            "kind": kind,
            "municipality_nis": municipality_nis,
            "partnership": partnership,
            "count": 1,
        }
        if self._conn.dialect.name == "postgresql":
            pg = pg_insert(BLIND_SPOT_COUNTS).values(values)
            statement: Any = pg.on_conflict_do_update(
                index_elements=list(BLIND_SPOT_COUNTS.primary_key.columns),
                set_={"count": BLIND_SPOT_COUNTS.c.count + 1},
            )
        else:
            lite = sqlite_insert(BLIND_SPOT_COUNTS).values(values)
            statement = lite.on_conflict_do_update(
                index_elements=list(BLIND_SPOT_COUNTS.primary_key.columns),
                set_={"count": BLIND_SPOT_COUNTS.c.count + 1},
            )
        await self._conn.execute(statement)

    async def blind_spots(self) -> list[BlindSpotCount]:
        result = await self._conn.execute(
            select(BLIND_SPOT_COUNTS).order_by(
                BLIND_SPOT_COUNTS.c.month,
                BLIND_SPOT_COUNTS.c.kind,
                BLIND_SPOT_COUNTS.c.municipality_nis,
                BLIND_SPOT_COUNTS.c.partnership,
            )
        )
        return [
            BlindSpotCount(
                month=row["month"],
                kind=row["kind"],
                municipality_nis=row["municipality_nis"],
                partnership=row["partnership"],
                count=int(row["count"]),
            )
            for row in result.mappings()
        ]


SQL_ADAPTERS.register(COACHES_KEY, lambda c: SqlCoaches(c.conn))
SQL_ADAPTERS.register(CASES_KEY, lambda c: SqlCases(c.conn, c.keyring))
