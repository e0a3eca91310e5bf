"""Routing's port: coaches, cases, offers, the relay and their repositories.

Technology-free (no SQL, no memory adapter): records, the ``Protocol`` and its
:class:`storage.assembly.RepositoryKey`. Never imports :mod:`storage.ports` (which imports the
keys here for the transaction's typed attributes); the tables live in ``storage/routing.py``,
the adapters in ``storage/routing_sql.py`` and ``storage/routing_memory.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, get_args

from flows.ids import CaseId, CoachId, PartnershipId, PersonId
from flows.session import JsonValue
from storage.assembly import RepositoryKey

# --- routing: coaches, cases, offers and the relay ------------------------------------------
#
# Rules of this section: a case is one young person's submitted intake in one partnership; an
# offer is that case proposed to one coach until a deadline; the relay keeps the messages
# between coach and young person with the case. ``cases.intake`` and relay texts are encrypted
# at rest (``EncryptedText``); coach rows hold a coach's work data only (first name, team).
# Only the current, open offer of a case can be answered: ``answer_offer`` is a compare-and-set,
# so a coach's click and the deadline tick can never both win.

CoachRole = Literal["coach", "coordinator"]
COACH_ROLES: tuple[CoachRole, ...] = get_args(CoachRole)
CaseStatus = Literal["waiting", "offered", "open", "closed", "escalated"]
"""``escalated``: no coach or coordinator took it in time; it is in the partnership's team
queue (the dashboard lists it, the coordinators get a daily digest) until someone takes it."""
CASE_STATUSES: tuple[CaseStatus, ...] = get_args(CaseStatus)
OfferStatus = Literal["open", "accepted", "declined", "expired", "withdrawn"]
"""``withdrawn``: the coach blocked the bot, was deactivated or went absent."""
OFFER_STATUSES: tuple[OfferStatus, ...] = get_args(OfferStatus)
CaseOutcome = Literal["work", "training", "referred", "not_reached", "ongoing", "stopped", "other"]
"""The outcomes as stored; :mod:`flows.routing.outcomes` is the list buttons and reports use."""
CASE_OUTCOMES: tuple[CaseOutcome, ...] = get_args(CaseOutcome)
CoachMessageKind = Literal["card", "relay", "other"]
COACH_MESSAGE_KINDS: tuple[CoachMessageKind, ...] = get_args(CoachMessageKind)
RelayDirection = Literal["to_coach", "to_young"]
RELAY_DIRECTIONS: tuple[RelayDirection, ...] = get_args(RelayDirection)


@dataclass(frozen=True)
class CoachRecord:
    id: CoachId
    partnership: PartnershipId
    first_name: str
    """Shown to young people; never their Telegram name or handle."""
    organisation: str
    domains: tuple[str, ...]
    languages: tuple[str, ...]
    capacity: int
    """The most open cases (open offers count too)."""
    role: CoachRole
    hours: str | None
    """Own working hours (``"mon-fri 09:00-17:00"``); ``None``: the partnership's."""
    active: bool
    person: PersonId | None
    """The coach's chat (``tg:<chat id>``) once the invite link was opened."""
    current_case: CaseId | None
    """Where the coach's plain messages go (set by accepting a case or ``/case N``)."""
    last_assigned_at: datetime | None
    created_at: datetime
    absent_until: datetime | None = None
    """Absence mode (holiday, sick leave): no new offers until then (set in the dashboard)."""

    def is_absent(self, now: datetime) -> bool:
        return self.absent_until is not None and now < self.absent_until


@dataclass(frozen=True)
class CaseRecord:
    id: CaseId
    person: PersonId
    partnership: PartnershipId
    municipality_nis: str | None
    language: str
    status: CaseStatus
    coach: CoachId | None
    outcome: CaseOutcome | None
    intake: dict[str, JsonValue]
    """What the card shows (``flows.routing.card.card_answers``), decrypted."""
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None
    promised_at: datetime | None
    """The latest "you hear from us by ..." the young person was told."""
    reopened: int
    escalated_at: datetime | None = None
    """When the case went to the partnership's team queue (status ``escalated``)."""
    fallback_at: datetime | None = None
    """When the young person was pointed to the region's general service (once)."""


@dataclass(frozen=True)
class OfferRecord:
    id: int
    case: CaseId
    coach: CoachId
    status: OfferStatus
    reasons: dict[str, JsonValue]
    """Why this coach (``flows.routing.assign.Choice.to_json``): ids and numbers only."""
    sent_at: datetime
    deadline_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class RelayRecord:
    id: int
    case: CaseId
    direction: RelayDirection
    text: str
    at: datetime
    delivered: bool


@dataclass(frozen=True)
class CoachMessageRecord:
    """A message the bot sent to a coach's chat about a case: ids only, so the bot can edit it
    (a declined card) or delete it (after ``/wis``) later."""

    id: int
    case: CaseId
    coach: CoachId
    chat: PersonId
    message_id: int
    kind: CoachMessageKind
    sent_at: datetime
    redacted: bool


@dataclass(frozen=True)
class ErasedCaseRecord:
    """What is left of a case erased at the young person's request: no person, no answers."""

    case: CaseId
    partnership: PartnershipId
    coach: CoachId | None
    erased_at: datetime


@dataclass(frozen=True)
class BlindSpotCount:
    """An anonymous count of intakes no partnership could take, per month and place."""

    month: str
    kind: str
    """``blind_spot``, ``outside_flanders`` or ``no_place``."""
    municipality_nis: str
    """``""`` when the place is unknown."""
    partnership: str
    """A partnership serving part of the municipality (``""``: none)."""
    count: int


class CoachRepository(Protocol):
    async def add(self, coach: CoachRecord) -> None: ...

    async def get(self, coach_id: CoachId) -> CoachRecord | None: ...

    async def by_person(self, person: PersonId) -> CoachRecord | None:
        """The coach bound to this chat, active or not."""
        ...

    async def of_partnership(self, partnership: PartnershipId) -> list[CoachRecord]:
        """Ordered by id."""
        ...

    async def all(self) -> list[CoachRecord]:
        """Ordered by partnership, then id."""
        ...

    async def bind(self, coach_id: CoachId, person: PersonId) -> None:
        """Bind the coach to a chat (a chat belongs to one coach: check ``by_person`` first)."""
        ...

    async def set_active(self, coach_id: CoachId, active: bool) -> None: ...

    async def set_current_case(self, coach_id: CoachId, case: CaseId | None) -> None: ...

    async def set_absent(self, coach_id: CoachId, until: datetime | None) -> None:
        """Absence mode until ``until`` (``None``: present again)."""
        ...

    async def mark_assigned(self, coach_id: CoachId, at: datetime) -> None:
        """Remember when the coach last got an offer (fairness)."""
        ...

    async def add_invite(
        self, token_hash: str, coach_id: CoachId, created_at: datetime, expires_at: datetime
    ) -> None:
        """Store an invite by the sha256 hex of its token (never the token)."""
        ...

    async def redeem_invite(self, token_hash: str, now: datetime) -> CoachId | None:
        """Use the invite once: the coach id when it exists, is unused and not expired (it is
        marked used), else ``None``."""
        ...


class CaseRepository(Protocol):
    async def create(
        self,
        person: PersonId,
        partnership: PartnershipId,
        municipality_nis: str | None,
        language: str,
        intake: dict[str, JsonValue],
        now: datetime,
    ) -> CaseRecord:
        """A new case with status ``waiting``."""
        ...

    async def get(self, case_id: CaseId) -> CaseRecord | None: ...

    async def latest_of(self, person: PersonId) -> CaseRecord | None:
        """The person's most recent case."""
        ...

    async def all_of(self, person: PersonId) -> list[CaseRecord]:
        """Oldest first."""
        ...

    async def of_coach(
        self, coach_id: CoachId, statuses: tuple[CaseStatus, ...]
    ) -> list[CaseRecord]:
        """The coach's cases in these statuses, oldest first."""
        ...

    async def set_status(self, case_id: CaseId, status: CaseStatus, now: datetime) -> None: ...

    async def accept(self, case_id: CaseId, coach_id: CoachId, now: datetime) -> None:
        """Status ``open`` with this coach."""
        ...

    async def close(self, case_id: CaseId, outcome: CaseOutcome, now: datetime) -> None: ...

    async def reopen(self, case_id: CaseId, now: datetime) -> None:
        """Status ``open`` again, same coach; the outcome is cleared, ``reopened`` counts."""
        ...

    async def promise(self, case_id: CaseId, at: datetime) -> None:
        """Record the time the young person was last told to expect an answer by."""
        ...

    async def set_intake(self, case_id: CaseId, intake: dict[str, JsonValue]) -> None:
        """Replace the card answers (a consent was withdrawn)."""
        ...

    async def add_offer(
        self,
        case_id: CaseId,
        coach_id: CoachId,
        reasons: dict[str, JsonValue],
        sent_at: datetime,
        deadline_at: datetime,
    ) -> OfferRecord: ...

    async def get_offer(self, offer_id: int) -> OfferRecord | None: ...

    async def offers_of(self, case_id: CaseId) -> list[OfferRecord]:
        """Oldest first."""
        ...

    async def answer_offer(self, offer_id: int, status: OfferStatus, now: datetime) -> bool:
        """Open -> ``status``; ``False`` (and no change) when the offer is no longer open."""
        ...

    async def loads(self, coach_ids: tuple[CoachId, ...]) -> dict[CoachId, int]:
        """Open cases plus open offers per coach (0 for a coach with none)."""
        ...

    async def add_message(
        self,
        case_id: CaseId,
        direction: RelayDirection,
        text: str,
        now: datetime,
        *,
        delivered: bool,
    ) -> RelayRecord: ...

    async def messages_of(self, case_id: CaseId) -> list[RelayRecord]:
        """Oldest first."""
        ...

    async def mark_delivered(self, message_ids: tuple[int, ...]) -> None: ...

    async def erase(self, person: PersonId) -> int:
        """Delete the person's cases with their offers and messages. Returns how many cases."""
        ...

    async def purge_closed(self, before: datetime) -> int:
        """Delete cases closed before ``before`` (with offers and messages)."""
        ...

    # --- escalation (storage/escalation.py, migration 0007_escalation) -------------------

    async def escalate(self, case_id: CaseId, now: datetime) -> bool:
        """Status ``escalated`` (the team queue); ``escalated_at`` keeps its first time.
        ``True`` when the case was not escalated before."""
        ...

    async def mark_fallback(self, case_id: CaseId, now: datetime) -> bool:
        """Record the warm fallback once: ``True`` only for the first call (compare-and-set)."""
        ...

    async def of_partnership(
        self, partnership: PartnershipId, statuses: tuple[CaseStatus, ...]
    ) -> list[CaseRecord]:
        """The partnership's cases in these statuses, oldest first."""
        ...

    async def offers_of_coach(
        self, coach_id: CoachId, statuses: tuple[OfferStatus, ...]
    ) -> list[OfferRecord]:
        """Oldest first."""
        ...

    async def add_coach_message(
        self,
        case_id: CaseId,
        coach_id: CoachId,
        chat: PersonId,
        message_id: int,
        kind: CoachMessageKind,
        now: datetime,
    ) -> None: ...

    async def coach_messages_of(self, case_id: CaseId) -> list[CoachMessageRecord]:
        """Oldest first."""
        ...

    async def mark_redacted(self, ids: tuple[int, ...]) -> None: ...

    async def record_erased(self, case: CaseRecord, now: datetime) -> None:
        """Keep an anonymous trace of a case erased on request (no person, no answers)."""
        ...

    async def erased_of(self, partnership: PartnershipId) -> list[ErasedCaseRecord]: ...

    async def purge_erased(self, before: datetime) -> int: ...

    async def count_blind_spot(
        self, month: str, kind: str, municipality_nis: str, partnership: str
    ) -> None:
        """Add one to an anonymous count (never a person id)."""
        ...

    async def blind_spots(self) -> list[BlindSpotCount]:
        """Every count, by month, kind, municipality and partnership."""
        ...


COACHES_KEY: RepositoryKey[CoachRepository] = RepositoryKey("coaches")
CASES_KEY: RepositoryKey[CaseRepository] = RepositoryKey("cases")
