"""Ports: what the rest of Opstap may ask of storage, independent of the technology.

Rules of this module:

* Protocols named by role (``SessionRepository``); adapters live in :mod:`storage.sql`
  (``SqlSessions`` ...) and :mod:`storage.memory` (``MemorySessions`` ...). One contract test
  suite (``tests/storage/test_contract.py``) runs against every adapter.
* Every repository works inside one :class:`Transaction`: ``async with storage.transaction() as
  tx`` commits on normal exit and rolls back everything (including a :class:`VersionConflict`
  raised halfway) on an exception. :class:`Transaction` is the one transaction class of every
  backend: ``tx[KEY]`` gives a port by its :class:`storage.assembly.RepositoryKey` (the core
  ports' keys are here, a feature's beside its own port), the core ports are also attributes
  (``tx.sessions``). Do not nest transactions or keep one open across network I/O:
  SQLite serialises writers, so an open transaction blocks every other process.
* Datetimes in and out are aware UTC; a naive datetime raises ``ValueError``.
* Nothing here carries message text. ``error_code`` is a short code such as ``"RetryAfter"``
  or ``"telegram.forbidden"`` (letters, digits, ``_.:-``, at most 64), never an exception
  message, which may quote what a person wrote. :func:`check_error_code` enforces it.
* Privacy by design: every table with personal data has a :class:`PersonalData` part in
  ``Storage.personal_data_parts``; ``/mijngegevens`` exports, ``/wis`` erases and the daily
  retention job purges through those parts only, so a feature that adds a table adds a part
  (and a line per column in ``docs/data-inventory.yaml``) and touches no privacy code.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar, cast, get_args, overload

from flows.appointments import Appointment, AppointmentId
from flows.appointments import Status as AppointmentStatus
from flows.followups import RatingKind
from flows.ids import CaseId, CoachId, PartnershipId, PersonId, ReminderKey
from flows.session import JsonValue, Session
from storage.assembly import Adapters, Repository, RepositoryKey

R = TypeVar("R")
C = TypeVar("C")
D = TypeVar("D")

ReminderStatus = Literal["pending", "claimed", "sent", "cancelled", "failed"]
REMINDER_STATUSES: tuple[ReminderStatus, ...] = get_args(ReminderStatus)
AccessAction = Literal["received", "viewed"]
ACCESS_ACTIONS: tuple[AccessAction, ...] = get_args(AccessAction)

ERROR_CODE_MAX = 64
_ERROR_CODE = re.compile(rf"[A-Za-z0-9_.:\-]{{1,{ERROR_CODE_MAX}}}")
_TOKEN_HASH = re.compile(r"[0-9a-f]{64}")


# How long a claimed reminder belongs to its worker. Short, so the reminders of a worker that
# was killed mid-send go out within a minute; the tick bounds every send well below it.
REMINDER_LEASE = timedelta(seconds=40)


class VersionConflict(Exception):
    """The session changed (or appeared) since it was read: re-read and re-apply the input."""


@dataclass(frozen=True)
class ReminderRecord:
    id: int
    person: PersonId
    key: ReminderKey
    due_at: datetime
    # The session version the reminder was scheduled with: if the session has moved on by the
    # time the reminder is due, the sender drops it.
    session_version: int
    status: ReminderStatus
    # Claims so far (a deferral during quiet hours does not count).
    attempts: int


@dataclass(frozen=True)
class ConsentRecord:
    """One consent given (``given=True``) or refused/withdrawn, as the person saw it."""

    person: PersonId
    category: str
    given: bool
    notice_version: str
    # sha256 hex of the rendered text shown with the buttons: proves what was agreed to.
    text_hash: str
    at: datetime


@dataclass(frozen=True)
class AccessRecord:
    """A partnership (and coach) received or viewed a person's intake."""

    person: PersonId
    partnership: str
    coach: str | None
    action: AccessAction
    at: datetime


def months_back(moment: datetime, months: int) -> datetime:
    """The same wall time ``months`` calendar months earlier (31 March - 1 = 28/29 February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month0 = divmod(index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return moment.replace(year=year, month=month0 + 1, day=min(moment.day, last_day))


@dataclass(frozen=True)
class RetentionPolicy:
    """How long personal data is kept; the daily retention job hands it to every part."""

    # An intake left unfinished (active or paused) this long after its last input.
    abandoned: timedelta = timedelta(days=30)
    # A closed case, and a finished intake, this many months after it closed / last changed.
    closed_months: int = 12
    # Safety events (crisis screenings, alerts) follow their own policy (the safety feature).
    safety_events: timedelta = timedelta(days=365)
    # The web chat cookie lives 60 days: a transcript not seen that long is useless after that
    # (storage/web_transcript.py; the name is from the cookie bindings that came before).
    web_identities: timedelta = timedelta(days=60)
    # Reminders that were sent, cancelled or failed.
    finished_reminders: timedelta = timedelta(days=30)
    # Telegram keeps an undelivered update 24 hours; a week of dedupe keys is plenty.
    processed_updates: timedelta = timedelta(days=7)

    def abandoned_before(self, now: datetime) -> datetime:
        return now - self.abandoned

    def closed_before(self, now: datetime) -> datetime:
        return months_back(now, self.closed_months)


def check_error_code(error_code: str) -> str:
    """Return ``error_code`` if it is a short code; raise ``ValueError`` otherwise."""
    if not _ERROR_CODE.fullmatch(error_code):
        raise ValueError("error_code must be a short code (A-Za-z0-9_.:-, at most 64), not text")
    return error_code


def check_token_hash(token_hash: str) -> str:
    """Return ``token_hash`` if it is a lowercase sha256 hex digest; raise ``ValueError``.

    Refusing anything else keeps a raw cookie token from being stored by mistake.
    """
    if not _TOKEN_HASH.fullmatch(token_hash):
        raise ValueError("token_hash must be the lowercase sha256 hex digest of the token")
    return token_hash


class SessionRepository(Protocol):
    async def get(self, person: PersonId) -> Session | None: ...

    async def save(self, session: Session, *, expected_version: int | None) -> None:
        """Insert (``expected_version=None``: no session may exist yet) or replace the session
        stored with version ``expected_version``. Raises :class:`VersionConflict` otherwise."""
        ...

    async def delete(self, person: PersonId) -> None:
        """Remove the person's session; nothing happens when there is none."""
        ...

    async def purge(self, *, unfinished_before: datetime, finished_before: datetime) -> int:
        """Delete sessions not ``done`` whose last change is before ``unfinished_before``, and
        ``done`` ones before ``finished_before`` (retention). Returns how many."""
        ...


class ReminderRepository(Protocol):
    async def schedule(
        self, person: PersonId, key: ReminderKey, due_at: datetime, session_version: int
    ) -> int:
        """Create the pending reminder ``(person, key)`` or replace the pending one in place
        (same id, attempts reset). A claimed one being sent right now is left alone. Returns
        the id."""
        ...

    async def cancel(self, person: PersonId, prefix: str) -> int:
        """Cancel the person's pending reminders whose key starts with ``prefix`` (exact,
        case-sensitive; ``_`` and ``%`` are not wildcards). Returns how many."""
        ...

    async def cancel_all(self, person: PersonId) -> int:
        """Cancel all the person's pending reminders. Returns how many."""
        ...

    async def pending(self, person: PersonId) -> list[ReminderRecord]:
        """The person's pending reminders, soonest first."""
        ...

    async def claim_due(
        self,
        now: datetime,
        *,
        worker: str,
        limit: int = 50,
        lease: timedelta = REMINDER_LEASE,
        prefixes: tuple[str, ...] | None = None,
    ) -> list[ReminderRecord]:
        """Claim up to ``limit`` reminders for ``worker``: pending ones due at ``now`` and
        claimed ones whose lease (``claimed_at + lease``) has run out because their worker died.
        Each claim counts an attempt. Two workers never get the same reminder from one call.
        With ``prefixes`` (``("tg:", "web:")``) only reminders of persons whose id starts with
        one of them: a process claims only what its channels can deliver.
        Returned soonest first, with status ``"claimed"``."""
        ...

    async def release_claims(self, worker: str) -> int:
        """Every reminder ``worker`` still holds goes back to pending at its due time, the
        claim's attempt taken back (a graceful stop). Returns how many."""
        ...

    async def mark_sent(self, reminder_id: int) -> None:
        """Claimed -> sent. No effect unless the reminder is claimed."""
        ...

    async def release(self, reminder_id: int, *, retry_at: datetime, error_code: str) -> None:
        """Claimed -> pending again, due at ``retry_at`` (backoff), remembering ``error_code``.
        If a newer pending reminder with the same key exists meanwhile, this one is cancelled
        instead: the newer one replaced it. No effect unless the reminder is claimed."""
        ...

    async def mark_failed(self, reminder_id: int, error_code: str) -> None:
        """Claimed -> failed (given up). No effect unless the reminder is claimed."""
        ...

    async def defer(self, reminder_id: int, due_at: datetime) -> None:
        """Claimed -> pending at ``due_at`` (quiet hours), taking back the attempt the claim
        counted. Superseded like :meth:`release`. No effect unless the reminder is claimed."""
        ...

    async def all_of(self, person: PersonId) -> list[ReminderRecord]:
        """Every reminder row of the person, whatever its status, oldest first (export)."""
        ...

    async def erase(self, person: PersonId) -> int:
        """Delete every reminder row of the person (erasure). Returns how many."""
        ...

    async def purge_finished(self, before: datetime) -> int:
        """Delete sent, cancelled and failed reminders last changed before ``before``."""
        ...


# Telegram redelivers an update for 24 hours; a dedupe key is kept an hour longer.
DEDUPE_WINDOW = timedelta(hours=25)


@dataclass(frozen=True)
class PendingUpdate:
    """An update that arrived and was stored, but is not handled yet (the durable inbox)."""

    channel: str
    update_key: str
    person: PersonId | None
    payload: str
    """The update as the channel received it (Telegram's JSON); encrypted at rest."""
    received_at: datetime
    attempts: int


class UpdateLog(Protocol):
    """The durable inbox: updates are held (stored as pending) when they arrive, and handled
    (recorded under their key, the pending row gone) in the transaction of their effects."""

    async def first_time(self, channel: str, update_key: str, now: datetime) -> bool:
        """Record the update as handled (and drop its pending row); ``True`` when it was not
        handled before. Inside a transaction that rolls back, both go back, so the update is
        pending again and a retried delivery is processed again."""
        ...

    async def seen(self, channel: str, update_key: str) -> bool:
        """Whether the update was handled already (a read: nothing is recorded)."""
        ...

    async def hold(
        self, channel: str, update_key: str, person: PersonId | None, payload: str, now: datetime
    ) -> bool:
        """Store an update that just arrived as pending; ``True`` when it is new (neither
        handled nor pending already), so the caller handles it now."""
        ...

    async def pending(
        self, channel: str, *, received_before: datetime | None = None, limit: int = 500
    ) -> list[PendingUpdate]:
        """Pending updates in arrival order (for Telegram: by update id)."""
        ...

    async def attempted(self, channel: str, update_key: str) -> int:
        """One more attempt at a pending update; returns the attempts so far."""
        ...

    async def erase(self, person: PersonId) -> int:
        """Drop the person's pending updates (``/wis``)."""
        ...

    async def purge_pending(self, before: datetime) -> int:
        """Drop pending updates received before ``before`` (stuck for days)."""
        ...

    async def prune(self, older_than: datetime) -> int:
        """Forget updates seen before ``older_than``. Returns how many."""
        ...


@dataclass(frozen=True)
class OutboxRecord:
    """A message caused by a state change, stored in that change's transaction and sent by
    the relay after the commit (``bot.outbox``)."""

    id: int
    person: PersonId
    body: dict[str, JsonValue]
    """The rendered message (text, buttons, flags); encrypted at rest."""
    created_at: datetime
    attempts: int


class OutboxRepository(Protocol):
    async def add(self, person: PersonId, body: dict[str, JsonValue], now: datetime) -> int:
        """Store a message to send; returns its id (ids grow in insertion order)."""
        ...

    async def unsent(
        self,
        *,
        created_before: datetime | None = None,
        prefixes: tuple[str, ...] = (),
        limit: int = 200,
    ) -> list[OutboxRecord]:
        """Messages still to send, oldest first; only persons whose id starts with one of
        ``prefixes`` (the channels this process has; empty: all)."""
        ...

    async def of(self, person: PersonId) -> list[OutboxRecord]: ...

    async def claim(self, ids: tuple[int, ...], now: datetime, lease: timedelta) -> tuple[int, ...]:
        """Take the messages for sending by a sweep: those not taken by another sweep within
        ``lease`` (compare-and-set, so two workers never both send a leftover). Returns the
        ids taken."""
        ...

    async def remove(self, ids: tuple[int, ...]) -> int:
        """The messages were sent: drop them."""
        ...

    async def attempted(self, message_id: int) -> int:
        """One more failed attempt; returns the attempts so far."""
        ...

    async def erase(self, person: PersonId) -> int: ...

    async def purge(self, before: datetime) -> int:
        """Drop messages created before ``before`` (stuck for days)."""
        ...


class ConsentRepository(Protocol):
    """Consent records: appended, never changed; the newest per category is what holds."""

    async def record(self, consent: ConsentRecord) -> None: ...

    async def history(self, person: PersonId) -> list[ConsentRecord]:
        """Every record of the person, oldest first."""
        ...

    async def current(self, person: PersonId) -> dict[str, ConsentRecord]:
        """The newest record per category."""
        ...

    async def erase(self, person: PersonId) -> int: ...

    async def purge(self, before: datetime) -> int:
        """Delete the records of people who have no session any more and whose newest record
        is from before ``before``: proof of consent is kept as long as the data it covers."""
        ...


class PrivacyRepository(Protocol):
    """The data access log and the anonymous counts that survive an erasure."""

    async def record_access(
        self,
        person: PersonId,
        partnership: str,
        coach: str | None,
        action: AccessAction,
        at: datetime,
    ) -> None:
        """Log that ``partnership`` (and ``coach``) received or viewed the person's intake."""
        ...

    async def accesses(self, person: PersonId) -> list[AccessRecord]:
        """Oldest first."""
        ...

    async def erase_accesses(self, person: PersonId) -> int: ...

    async def purge_accesses(self, before: datetime) -> int: ...

    async def add_count(self, month: str, metric: str, amount: int = 1) -> None:
        """Add to an anonymous monthly count (``month`` is ``"2026-11"``). Never a person id."""
        ...

    async def counts(self) -> dict[tuple[str, str], int]:
        """Every count, by (month, metric)."""
        ...


class PersonalData(Protocol):
    """One table's (or one feature's) personal data, as export, erasure and retention see it.

    Every method runs inside the caller's transaction and must not do network I/O. ``name`` is
    the key of the part in the export file and in the counts a purge logs.
    """

    @property
    def name(self) -> str: ...

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        """Everything stored about ``person`` here, decrypted, as JSON values."""
        ...

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        """Delete everything of ``person`` here. Returns how many rows."""
        ...

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        """Delete what the policy no longer allows to keep. Returns how many rows."""
        ...

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        """Consent ``category`` was withdrawn: stop keeping what depends on it. Returns how
        many values or rows were dropped."""
        ...


WallClock = Callable[[], datetime]
"""Where bookkeeping timestamps (``created_at``, ``updated_at``) come from: the composition
root's clock (``bot.clock``), so a frozen clock in tests freezes them too."""


def system_now() -> datetime:
    """The default :data:`WallClock` when none is injected (tools, scripts)."""
    return datetime.now(UTC)


class Storage(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Commit on normal exit, roll back on an exception (which propagates)."""
        ...

    def reading(self) -> AbstractAsyncContextManager[Transaction]:
        """A read-only transaction: it never waits for the write lock (SQLite: a deferred
        ``BEGIN`` in WAL mode; PostgreSQL: ``READ ONLY``) and a write in it raises (memory:
        is discarded). For lookups that decide where an input goes, and for the crisis reply's
        language, so that a read never queues behind writers."""
        ...

    @property
    def personal_data_parts(self) -> list[PersonalData]:
        """The registry of :class:`PersonalData` parts; features append theirs at start-up."""
        ...

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """``True`` when the store answers (health checks); never raises."""
        ...

    async def scrub(self) -> None:
        """After an erasure or a key rotation: no readable copy of deleted or replaced values
        stays in the database's files (WAL, free space, dead rows); see ``storage.scrub``.
        Raises when that could not be done now."""
        ...


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


# --- safety: crisis signals and who took them up --------------------------------------------
#
# Rules of this section: a safety event records *that* a young person's message was flagged (or
# that they asked for a person), never what they wrote: a category code, times, the case and
# who acknowledged or closed it. One open event per person: a new flag while one is open only
# updates it. Only closing ends it (a coach's button); "you misunderstood me" does not.

SAFETY_CATEGORY_MAX = 32
_SAFETY_CATEGORY = re.compile(rf"[a-z_]{{1,{SAFETY_CATEGORY_MAX}}}")


def check_safety_category(category: str) -> str:
    """Return ``category`` if it is a short code (``suicide``, ``help_request``); raise
    ``ValueError`` otherwise, so no text a person wrote can end up in the column."""
    if not _SAFETY_CATEGORY.fullmatch(category):
        raise ValueError("a safety category is a short code (a-z and _), not text")
    return category


@dataclass(frozen=True)
class SafetyEventRecord:
    id: int
    person: PersonId
    case_id: CaseId | None
    category: str
    opened_at: datetime
    last_flag_at: datetime
    """The latest flag (or request) while the event was open."""
    flags: int
    """How many flags and requests the event collected."""
    acknowledged_at: datetime | None
    acknowledged_by: PersonId | None
    """The chat of the coach or coordinator who took it up."""
    closed_at: datetime | None
    closed_by: PersonId | None
    escalated_at: datetime | None
    categories: tuple[str, ...] = ()
    """Every category flagged while the event was open, first one first (``category`` is the
    most severe of them)."""

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def all_categories(self) -> tuple[str, ...]:
        """``categories``, or the one ``category`` of an event from before they were kept."""
        return self.categories or (self.category,)


class SafetyEventRepository(Protocol):
    async def open_or_get(
        self,
        person: PersonId,
        category: str,
        now: datetime,
        *,
        case_id: CaseId | None = None,
        flagged: str | None = None,
    ) -> tuple[SafetyEventRecord, bool]:
        """Open an event for ``person``, or update the open one (``category``, ``last_flag_at``,
        ``flags + 1``; ``case_id`` when given). ``flagged`` (default ``category``) is added to
        the event's ``categories``: the event keeps every category it saw. Returns the event
        and ``True`` when it was opened by this call. Two concurrent calls never open two
        events."""
        ...

    async def current(self, person: PersonId) -> SafetyEventRecord | None:
        """The person's open event, if any."""
        ...

    async def is_open(self, person: PersonId) -> bool: ...

    async def get(self, event_id: int) -> SafetyEventRecord | None: ...

    async def acknowledge(
        self, event_id: int, by: PersonId, now: datetime
    ) -> SafetyEventRecord | None:
        """Record who took the open event up (the first acknowledgement stays). Returns the
        event as it is now, ``None`` when it does not exist."""
        ...

    async def close(self, event_id: int, by: PersonId, now: datetime) -> SafetyEventRecord | None:
        """Close the open event (acknowledging it too when nobody had). Closing a closed event
        changes nothing. Returns the event as it is now, ``None`` when it does not exist."""
        ...

    async def mark_escalated(self, event_id: int, now: datetime) -> None:
        """Remember that the coordinator was alerted because nobody acknowledged in time."""
        ...

    async def open_events(self) -> list[SafetyEventRecord]:
        """Every open event, oldest first."""
        ...

    async def of(self, person: PersonId) -> list[SafetyEventRecord]:
        """Every event of the person, oldest first (export)."""
        ...

    async def erase(self, person: PersonId) -> int:
        """Delete every event of the person. Returns how many."""
        ...

    async def purge_closed(self, before: datetime) -> int:
        """Delete events closed before ``before``; open events are never purged."""
        ...


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


# --- web chat transcript: both sides of a web conversation, the web channel's outbox ---------
#
# Rules of this section: an entry is one message as the web page shows it (``body``: a JSON
# object, sealed as a whole because it holds what the young person typed and what the bot and
# their coach said). Ids come from the database and never repeat, so they survive restarts and
# an open page can ask for "everything after id N". Appends for one person are serialised
# (SQLite: one writer; PostgreSQL: a transaction-scoped advisory lock per person), so ids of
# one person become visible in increasing order and a reader never skips one.

TranscriptSide = Literal["bot", "young"]
TRANSCRIPT_SIDES: tuple[TranscriptSide, ...] = get_args(TranscriptSide)
TRANSCRIPT_REF_MAX = 40
_TRANSCRIPT_REF = re.compile(rf"[A-Za-z0-9_-]{{8,{TRANSCRIPT_REF_MAX}}}")


def check_transcript_ref(ref: str) -> str:
    """Return ``ref`` if it is a random reference (8-40 of ``A-Za-z0-9_-``); raise
    ``ValueError`` otherwise, so no text can end up in the clear column."""
    if not _TRANSCRIPT_REF.fullmatch(ref):
        raise ValueError("a transcript ref is 8-40 characters of A-Za-z0-9_-")
    return ref


@dataclass(frozen=True)
class NewTranscriptEntry:
    ref: str
    """Random, chosen by whoever wrote the message (the page for the young person's words):
    the page recognises its own message by it, and a retried input is stored once."""
    side: TranscriptSide
    body: dict[str, JsonValue]


@dataclass(frozen=True)
class TranscriptEntry:
    id: int
    person: PersonId
    ref: str
    side: TranscriptSide
    body: dict[str, JsonValue]
    at: datetime
    seen_at: datetime | None
    """When the page first fetched it; ``None``: not read yet (kept longer, see purge)."""


@dataclass(frozen=True)
class TranscriptBounds:
    first: int | None
    """The lowest id the person still has (``None``: nothing): an open page that shows a
    lower one knows that part of the conversation was erased."""
    last: int
    """The highest id (0: nothing)."""


# --- files in the relay and the warm handover (issue #15) ------------------------------------

RelayFileKind = Literal["photo", "document", "voice"]
RELAY_FILE_KINDS: tuple[RelayFileKind, ...] = get_args(RelayFileKind)


@dataclass(frozen=True)
class NewRelayFile:
    """A photo, PDF or voice note that travels through the relay; ``content`` is the file as
    sent on (metadata already stripped), ``caption`` the words with it."""

    case_id: CaseId
    person: PersonId
    direction: RelayDirection
    kind: RelayFileKind
    mime: str
    content: bytes
    caption: str | None = None


@dataclass(frozen=True)
class RelayFile:
    id: int
    case_id: CaseId
    person: PersonId
    direction: RelayDirection
    kind: RelayFileKind
    mime: str
    size: int
    content: bytes
    caption: str | None
    at: datetime


HandoverStatus = Literal["proposed", "changes", "agreed"]
HANDOVER_STATUSES: tuple[HandoverStatus, ...] = get_args(HandoverStatus)
HandoverDelivery = Literal["telegram", "dashboard"]


@dataclass(frozen=True)
class HandoverRecord:
    """A warm handover to VDAB: the summary the coach prepared (JSON: per domain what was
    achieved, own goals, next steps, contact preference), the young person's answer, and once
    agreed the PDF and how it reached the VDAB contact (``contact`` is the directory's name of
    that contact, ``delivery`` says by which way)."""

    id: int
    case_id: CaseId
    person: PersonId
    coach: CoachId
    status: HandoverStatus
    summary: dict[str, JsonValue]
    created_at: datetime
    answered_at: datetime | None = None
    pdf: bytes | None = None
    contact: str | None = None
    delivery: HandoverDelivery | None = None
    delivered_at: datetime | None = None


CaseMemberStatus = Literal["asked", "active", "declined", "removed"]
CASE_MEMBER_STATUSES: tuple[CaseMemberStatus, ...] = get_args(CaseMemberStatus)


@dataclass(frozen=True)
class CaseMember:
    """A colleague of another partner organisation in a case's team (issue #15): asked by the
    case's coach, in only once the young person said yes, and out when they say so."""

    id: int
    case_id: CaseId
    person: PersonId
    coach: CoachId
    asked_by: CoachId
    status: CaseMemberStatus
    asked_at: datetime
    answered_at: datetime | None = None


# --- the transaction: one class, assembled from the registered repositories ------------------
#
# The core ports' keys; a feature's key lives beside its own port (storage.referral,
# storage.relay_files, ...) and is reached as ``tx[KEY]``. How a backend registers its factories:
# storage.assembly.

SESSIONS_KEY: RepositoryKey[SessionRepository] = RepositoryKey("sessions")
REMINDERS_KEY: RepositoryKey[ReminderRepository] = RepositoryKey("reminders")
UPDATES_KEY: RepositoryKey[UpdateLog] = RepositoryKey("updates")
OUTBOX_KEY: RepositoryKey[OutboxRepository] = RepositoryKey("outbox")
CONSENTS_KEY: RepositoryKey[ConsentRepository] = RepositoryKey("consents")
PRIVACY_KEY: RepositoryKey[PrivacyRepository] = RepositoryKey("privacy")
COACHES_KEY: RepositoryKey[CoachRepository] = RepositoryKey("coaches")
CASES_KEY: RepositoryKey[CaseRepository] = RepositoryKey("cases")
SAFETY_KEY: RepositoryKey[SafetyEventRepository] = RepositoryKey("safety")
APPOINTMENTS_KEY: RepositoryKey[AppointmentRepository] = RepositoryKey("appointments")
RATINGS_KEY: RepositoryKey[RatingRepository] = RepositoryKey("ratings")
REACHABILITY_KEY: RepositoryKey[ReachabilityRepository] = RepositoryKey("reachability")


class Transaction:
    """One unit of work on one backend: ``async with storage.transaction() as tx``.

    The only transaction class. ``tx[KEY]`` gives the repository of a port on this transaction,
    built on first use by the factory the backend registered for ``KEY`` (:mod:`storage.assembly`)
    and kept until the transaction ends; an unknown key raises
    :class:`storage.assembly.UnknownRepository`. The core ports are also attributes, typed by
    their key (``tx.sessions`` is ``tx[SESSIONS_KEY]``).
    """

    __slots__ = ("_adapters", "_built", "_context")

    sessions = Repository(SESSIONS_KEY)
    reminders = Repository(REMINDERS_KEY)
    updates = Repository(UPDATES_KEY)
    outbox = Repository(OUTBOX_KEY)
    consents = Repository(CONSENTS_KEY)
    privacy = Repository(PRIVACY_KEY)
    coaches = Repository(COACHES_KEY)
    cases = Repository(CASES_KEY)
    safety = Repository(SAFETY_KEY)
    appointments = Repository(APPOINTMENTS_KEY)
    ratings = Repository(RATINGS_KEY)
    reachability = Repository(REACHABILITY_KEY)

    def __init__(self, adapters: Adapters[C], context: C) -> None:
        self._adapters: Adapters[Any] = adapters
        self._context: object = context
        self._built: dict[RepositoryKey[Any], object] = {}

    @property
    def backend(self) -> str:
        """``"sql"`` or ``"memory"``: which technology the repositories run on."""
        return self._adapters.backend

    def __getitem__(self, key: RepositoryKey[R]) -> R:
        if key in self._built:
            return cast(R, self._built[key])
        repository = self._adapters.build(key, self._context)
        self._built[key] = repository
        return repository

    @overload
    def get(self, key: RepositoryKey[R]) -> R | None: ...

    @overload
    def get(self, key: RepositoryKey[R], default: D) -> R | D: ...

    def get(self, key: RepositoryKey[R], default: D | None = None) -> R | D | None:
        """``tx[key]``, or ``default`` when this backend has no adapter for ``key`` (the team
        dashboard's SQL-only repository on the memory storage)."""
        if key not in self._adapters:
            return default
        return self[key]

    def __contains__(self, key: object) -> bool:
        """Whether this backend has an adapter for ``key`` (``TEAM_DATA_KEY in tx``)."""
        return key in self._adapters

    def __repr__(self) -> str:
        return f"<Transaction on {self.backend}>"
