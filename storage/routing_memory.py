"""In-memory adapters of the routing ports, for fast service tests.

Rules of this module (those of :mod:`storage.memory` apply): the same contract as
:mod:`storage.routing_sql`, proved by the same tests. Stored values are immutable (frozen rows,
JSON text for the dictionaries), so :meth:`RoutingState.copy` is a full snapshot. With a keyring
the intake, offer reasons and relay texts are sealed as a database would hold them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.ids import CaseId, CoachId, PartnershipId, PersonId, row_number
from flows.session import JsonValue
from storage.assembly import MEMORY_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, unseal
from storage.ports import check_token_hash
from storage.routing import INTAKE_AAD, REASONS_AAD, TEXT_AAD
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
    ErasedCaseRecord,
    OfferRecord,
    OfferStatus,
    RelayDirection,
    RelayRecord,
)
from storage.routing_sql import case_number, decode_object, encode_json


@dataclass(frozen=True)
class _Invite:
    coach: CoachId
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class _Case:
    record: CaseRecord  # with an empty intake: the sealed intake is beside it
    intake: str


@dataclass(frozen=True)
class _Offer:
    record: OfferRecord  # with empty reasons: the JSON is beside it
    reasons: str


@dataclass(frozen=True)
class _Message:
    record: RelayRecord  # with an empty text: the sealed text is beside it
    text: str


@dataclass
class RoutingState:
    coaches: dict[CoachId, CoachRecord] = field(default_factory=dict)
    invites: dict[str, _Invite] = field(default_factory=dict)
    cases: dict[int, _Case] = field(default_factory=dict)
    offers: dict[int, _Offer] = field(default_factory=dict)
    messages: dict[int, _Message] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)
    coach_messages: dict[int, CoachMessageRecord] = field(default_factory=dict)
    erased: dict[int, ErasedCaseRecord] = field(default_factory=dict)
    blind_spots: dict[tuple[str, str, str, str], int] = field(default_factory=dict)

    def copy(self) -> RoutingState:
        return RoutingState(
            coaches=dict(self.coaches),
            invites=dict(self.invites),
            cases=dict(self.cases),
            offers=dict(self.offers),
            messages=dict(self.messages),
            next_id=dict(self.next_id),
            coach_messages=dict(self.coach_messages),
            erased=dict(self.erased),
            blind_spots=dict(self.blind_spots),
        )

    def new_id(self, table: str) -> int:
        value = self.next_id.get(table, 1)
        self.next_id[table] = value + 1
        return value


class MemoryCoaches:
    def __init__(self, state: RoutingState) -> None:
        self._state = state

    async def add(self, coach: CoachRecord) -> None:
        if coach.id in self._state.coaches:
            raise ValueError("a coach with this id exists")
        if coach.person is not None and await self.by_person(coach.person) is not None:
            raise ValueError("this chat belongs to another coach")
        self._state.coaches[coach.id] = coach

    async def get(self, coach_id: CoachId) -> CoachRecord | None:
        return self._state.coaches.get(coach_id)

    async def by_person(self, person: PersonId) -> CoachRecord | None:
        return next((c for c in self._state.coaches.values() if c.person == person), None)

    async def of_partnership(self, partnership: PartnershipId) -> list[CoachRecord]:
        return sorted(
            (c for c in self._state.coaches.values() if c.partnership == partnership),
            key=lambda c: c.id,
        )

    async def all(self) -> list[CoachRecord]:
        return sorted(self._state.coaches.values(), key=lambda c: (c.partnership, c.id))

    def _set(self, coach_id: CoachId, **changes: object) -> None:
        coach = self._state.coaches.get(coach_id)
        if coach is not None:
            self._state.coaches[coach_id] = replace(coach, **changes)  # type: ignore[arg-type]

    async def bind(self, coach_id: CoachId, person: PersonId) -> None:
        other = await self.by_person(person)
        if other is not None and other.id != coach_id:
            raise ValueError("this chat belongs to another coach")
        self._set(coach_id, person=person)

    async def set_active(self, coach_id: CoachId, active: bool) -> None:
        self._set(coach_id, active=active)

    async def set_current_case(self, coach_id: CoachId, case: CaseId | None) -> None:
        if case is not None:
            case_number(case)
        self._set(coach_id, current_case=case)

    async def set_absent(self, coach_id: CoachId, until: datetime | None) -> None:
        self._set(coach_id, absent_until=None if until is None else to_utc(until))

    async def mark_assigned(self, coach_id: CoachId, at: datetime) -> None:
        self._set(coach_id, last_assigned_at=to_utc(at))

    async def add_invite(
        self, token_hash: str, coach_id: CoachId, created_at: datetime, expires_at: datetime
    ) -> None:
        check_token_hash(token_hash)
        if coach_id not in self._state.coaches:
            raise ValueError("unknown coach")
        self._state.invites[token_hash] = _Invite(coach_id, to_utc(expires_at), None)

    async def redeem_invite(self, token_hash: str, now: datetime) -> CoachId | None:
        invite = self._state.invites.get(check_token_hash(token_hash))
        now = to_utc(now)
        if invite is None or invite.used_at is not None or invite.expires_at <= now:
            return None
        self._state.invites[token_hash] = replace(invite, used_at=now)
        return invite.coach


class MemoryCases:
    def __init__(self, state: RoutingState, keyring: Keyring | None = None) -> None:
        self._state = state
        self._keyring = keyring

    def _record(self, stored: _Case) -> CaseRecord:
        intake = decode_object(unseal(self._keyring, stored.intake, INTAKE_AAD))
        return replace(stored.record, intake=intake)

    def _stored(self, case_id: CaseId) -> _Case | None:
        number = row_number(case_id)
        return None if number is None else self._state.cases.get(number)

    def _set(self, case_id: CaseId, **changes: object) -> None:
        stored = self._stored(case_id)
        if stored is not None:
            record = replace(stored.record, **changes)  # type: ignore[arg-type]
            self._state.cases[int(case_id)] = replace(stored, record=record)

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
        number = self._state.new_id("cases")
        record = CaseRecord(
            id=CaseId(str(number)),
            person=person,
            partnership=partnership,
            municipality_nis=municipality_nis,
            language=language,
            status="waiting",
            coach=None,
            outcome=None,
            intake={},
            created_at=now,
            updated_at=now,
            accepted_at=None,
            closed_at=None,
            promised_at=None,
            reopened=0,
        )
        sealed = seal(self._keyring, encode_json(intake), INTAKE_AAD)
        self._state.cases[number] = _Case(record, sealed)
        return self._record(self._state.cases[number])

    async def get(self, case_id: CaseId) -> CaseRecord | None:
        stored = self._stored(case_id)
        return None if stored is None else self._record(stored)

    async def latest_of(self, person: PersonId) -> CaseRecord | None:
        found = await self.all_of(person)
        return found[-1] if found else None

    async def all_of(self, person: PersonId) -> list[CaseRecord]:
        return [
            self._record(c)
            for _, c in sorted(self._state.cases.items())
            if c.record.person == person
        ]

    async def of_coach(
        self, coach_id: CoachId, statuses: tuple[CaseStatus, ...]
    ) -> list[CaseRecord]:
        return [
            self._record(c)
            for _, c in sorted(self._state.cases.items())
            if c.record.coach == coach_id and c.record.status in statuses
        ]

    async def set_status(self, case_id: CaseId, status: CaseStatus, now: datetime) -> None:
        self._set(case_id, status=status, updated_at=to_utc(now))

    async def accept(self, case_id: CaseId, coach_id: CoachId, now: datetime) -> None:
        now = to_utc(now)
        self._set(case_id, status="open", coach=coach_id, accepted_at=now, updated_at=now)

    async def close(self, case_id: CaseId, outcome: CaseOutcome, now: datetime) -> None:
        now = to_utc(now)
        self._set(case_id, status="closed", outcome=outcome, closed_at=now, updated_at=now)

    async def reopen(self, case_id: CaseId, now: datetime) -> None:
        stored = self._stored(case_id)
        if stored is None:
            return
        self._set(
            case_id,
            status="open",
            outcome=None,
            closed_at=None,
            updated_at=to_utc(now),
            reopened=stored.record.reopened + 1,
        )

    async def promise(self, case_id: CaseId, at: datetime) -> None:
        self._set(case_id, promised_at=to_utc(at))

    async def set_intake(self, case_id: CaseId, intake: dict[str, JsonValue]) -> None:
        stored = self._stored(case_id)
        if stored is not None:
            sealed = seal(self._keyring, encode_json(intake), INTAKE_AAD)
            self._state.cases[int(case_id)] = replace(stored, intake=sealed)

    def _offer(self, stored: _Offer) -> OfferRecord:
        reasons = unseal(self._keyring, stored.reasons, REASONS_AAD)
        return replace(stored.record, reasons=decode_object(reasons))

    async def add_offer(
        self,
        case_id: CaseId,
        coach_id: CoachId,
        reasons: dict[str, JsonValue],
        sent_at: datetime,
        deadline_at: datetime,
    ) -> OfferRecord:
        if self._stored(case_id) is None:
            raise ValueError("unknown case")
        number = self._state.new_id("offers")
        record = OfferRecord(
            id=number,
            case=case_id,
            coach=coach_id,
            status="open",
            reasons={},
            sent_at=to_utc(sent_at),
            deadline_at=to_utc(deadline_at),
            answered_at=None,
        )
        sealed = seal(self._keyring, encode_json(reasons), REASONS_AAD)
        self._state.offers[number] = _Offer(record, sealed)
        return self._offer(self._state.offers[number])

    async def get_offer(self, offer_id: int) -> OfferRecord | None:
        stored = self._state.offers.get(offer_id)
        return None if stored is None else self._offer(stored)

    async def offers_of(self, case_id: CaseId) -> list[OfferRecord]:
        return [
            self._offer(o)
            for _, o in sorted(self._state.offers.items())
            if o.record.case == case_id
        ]

    async def answer_offer(self, offer_id: int, status: OfferStatus, now: datetime) -> bool:
        stored = self._state.offers.get(offer_id)
        if stored is None or stored.record.status != "open":
            return False
        record = replace(stored.record, status=status, answered_at=to_utc(now))
        self._state.offers[offer_id] = replace(stored, record=record)
        return True

    async def loads(self, coach_ids: tuple[CoachId, ...]) -> dict[CoachId, int]:
        found: dict[CoachId, int] = dict.fromkeys(coach_ids, 0)
        for stored in self._state.cases.values():
            coach = stored.record.coach
            if coach in found and stored.record.status == "open":
                found[coach] += 1
        for offer in self._state.offers.values():
            if offer.record.coach in found and offer.record.status == "open":
                found[offer.record.coach] += 1
        return found

    def _message(self, stored: _Message) -> RelayRecord:
        return replace(stored.record, text=unseal(self._keyring, stored.text, TEXT_AAD))

    async def add_message(
        self,
        case_id: CaseId,
        direction: RelayDirection,
        text: str,
        now: datetime,
        *,
        delivered: bool,
    ) -> RelayRecord:
        if self._stored(case_id) is None:
            raise ValueError("unknown case")
        number = self._state.new_id("relay_messages")
        record = RelayRecord(number, case_id, direction, "", to_utc(now), delivered)
        sealed = seal(self._keyring, text, TEXT_AAD)
        self._state.messages[number] = _Message(record, sealed)
        return self._message(self._state.messages[number])

    async def messages_of(self, case_id: CaseId) -> list[RelayRecord]:
        return [
            self._message(m)
            for _, m in sorted(self._state.messages.items())
            if m.record.case == case_id
        ]

    async def mark_delivered(self, message_ids: tuple[int, ...]) -> None:
        for number in message_ids:
            stored = self._state.messages.get(number)
            if stored is not None:
                record = replace(stored.record, delivered=True)
                self._state.messages[number] = replace(stored, record=record)

    def _delete_cases(self, numbers: list[int]) -> int:
        cases = {CaseId(str(n)) for n in numbers}
        for number in numbers:
            del self._state.cases[number]
        for offer_id in [i for i, o in self._state.offers.items() if o.record.case in cases]:
            del self._state.offers[offer_id]
        for message_id in [i for i, m in self._state.messages.items() if m.record.case in cases]:
            del self._state.messages[message_id]
        for ref in [i for i, m in self._state.coach_messages.items() if m.case in cases]:
            del self._state.coach_messages[ref]
        for coach in list(self._state.coaches.values()):
            if coach.current_case in cases:
                self._state.coaches[coach.id] = replace(coach, current_case=None)
        return len(numbers)

    async def erase(self, person: PersonId) -> int:
        return self._delete_cases(
            [n for n, c in self._state.cases.items() if c.record.person == person]
        )

    async def purge_closed(self, before: datetime) -> int:
        before = to_utc(before)
        return self._delete_cases(
            [
                n
                for n, c in self._state.cases.items()
                if c.record.status == "closed"
                and c.record.closed_at is not None
                and c.record.closed_at < before
            ]
        )

    # --- escalation ----------------------------------------------------------------------

    async def escalate(self, case_id: CaseId, now: datetime) -> bool:
        stored = self._stored(case_id)
        if stored is None:
            return False
        now = to_utc(now)
        first = stored.record.escalated_at is None
        self._set(
            case_id,
            status="escalated",
            updated_at=now,
            escalated_at=now if first else stored.record.escalated_at,
        )
        return first

    async def mark_fallback(self, case_id: CaseId, now: datetime) -> bool:
        stored = self._stored(case_id)
        if stored is None or stored.record.fallback_at is not None:
            return False
        self._set(case_id, fallback_at=to_utc(now))
        return True

    async def of_partnership(
        self, partnership: PartnershipId, statuses: tuple[CaseStatus, ...]
    ) -> list[CaseRecord]:
        return [
            self._record(c)
            for _, c in sorted(self._state.cases.items())
            if c.record.partnership == partnership and c.record.status in statuses
        ]

    async def offers_of_coach(
        self, coach_id: CoachId, statuses: tuple[OfferStatus, ...]
    ) -> list[OfferRecord]:
        return [
            self._offer(o)
            for _, o in sorted(self._state.offers.items())
            if o.record.coach == coach_id and o.record.status in statuses
        ]

    async def add_coach_message(
        self,
        case_id: CaseId,
        coach_id: CoachId,
        chat: PersonId,
        message_id: int,
        kind: CoachMessageKind,
        now: datetime,
    ) -> None:
        if self._stored(case_id) is None:
            raise ValueError("unknown case")
        number = self._state.new_id("coach_messages")
        self._state.coach_messages[number] = CoachMessageRecord(
            number, case_id, coach_id, chat, message_id, kind, to_utc(now), False
        )

    async def coach_messages_of(self, case_id: CaseId) -> list[CoachMessageRecord]:
        return [m for _, m in sorted(self._state.coach_messages.items()) if m.case == case_id]

    async def mark_redacted(self, ids: tuple[int, ...]) -> None:
        for number in ids:
            found = self._state.coach_messages.get(number)
            if found is not None:
                self._state.coach_messages[number] = replace(found, redacted=True)

    async def record_erased(self, case: CaseRecord, now: datetime) -> None:
        self._state.erased[int(case.id)] = ErasedCaseRecord(
            case.id, case.partnership, case.coach, to_utc(now)
        )

    async def erased_of(self, partnership: PartnershipId) -> list[ErasedCaseRecord]:
        return [e for _, e in sorted(self._state.erased.items()) if e.partnership == partnership]

    async def purge_erased(self, before: datetime) -> int:
        before = to_utc(before)
        gone = [n for n, e in self._state.erased.items() if e.erased_at < before]
        for number in gone:
            del self._state.erased[number]
        return len(gone)

    async def count_blind_spot(
        self, month: str, kind: str, municipality_nis: str, partnership: str
    ) -> None:
        key = (month, kind, municipality_nis, partnership)
        self._state.blind_spots[key] = self._state.blind_spots.get(key, 0) + 1

    async def blind_spots(self) -> list[BlindSpotCount]:
        return [
            BlindSpotCount(month, kind, nis, partnership, count)
            for (month, kind, nis, partnership), count in sorted(self._state.blind_spots.items())
        ]


MEMORY_ADAPTERS.register(COACHES_KEY, lambda c: MemoryCoaches(c.state.part(RoutingState)))
MEMORY_ADAPTERS.register(CASES_KEY, lambda c: MemoryCases(c.state.part(RoutingState), c.keyring))
