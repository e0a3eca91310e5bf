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
* Only the core lives here: sessions, reminders, the update log, the outbox, consents, privacy,
  retention, :class:`PersonalData`, :class:`Storage`, :class:`Transaction` and their records.
  A feature's records, ``Protocol`` and key live in its own technology-free
  ``storage/<feature>_port.py`` (``storage.routing_port``, ``storage.safety_port``, ...), never
  here and never re-exported from here (``tests/test_architecture.py`` fails otherwise).
* Import direction: a ``*_port`` module never imports this one; this module imports the keys of
  the features whose ports are also typed attributes of :class:`Transaction` (``tx.cases``,
  ``tx.safety``, ``tx.appointments`` ...) at the top, at run time, so the descriptors are real and
  typed and there is no import cycle.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar, cast, get_args, overload

from flows.ids import PersonId, ReminderKey
from flows.session import JsonValue, Session
from storage.appointments_port import APPOINTMENTS_KEY, RATINGS_KEY, REACHABILITY_KEY
from storage.assembly import Adapters, Repository, RepositoryKey
from storage.routing_port import CASES_KEY, COACHES_KEY
from storage.safety_port import SAFETY_KEY

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
    about: PersonId | None = None
    """The young person whose data a message for someone else carries (``/wis`` erases it)."""


class OutboxRepository(Protocol):
    async def add(
        self,
        person: PersonId,
        body: dict[str, JsonValue],
        now: datetime,
        *,
        about: PersonId | None = None,
    ) -> int:
        """Store a message to send; returns its id (ids grow in insertion order). ``about``:
        the young person whose data a message for ``person`` carries (erased with them)."""
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

    async def erase(self, person: PersonId) -> int:
        """Drop the unsent messages to ``person`` and those ``about`` them (``/wis``)."""
        ...

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

    def provides(self, key: RepositoryKey[Any]) -> bool:
        """Whether this storage's transactions have a repository for ``key`` (its backend
        registered an adapter for it): what a feature asks before it relies on a port that not
        every backend has (``storage.provides(TEAM_DATA_KEY)``), instead of asking the class."""
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


# --- the transaction: one class, assembled from the registered repositories ------------------
#
# The core ports' keys; a feature's key lives beside its own port (storage.referral,
# storage.relay_files_port, ...) and is reached as ``tx[KEY]``. The routing, safety and
# appointments keys are imported above: their ports are also attributes, for the call sites.
# How a backend registers its factories: storage.assembly.

SESSIONS_KEY: RepositoryKey[SessionRepository] = RepositoryKey("sessions")
REMINDERS_KEY: RepositoryKey[ReminderRepository] = RepositoryKey("reminders")
UPDATES_KEY: RepositoryKey[UpdateLog] = RepositoryKey("updates")
OUTBOX_KEY: RepositoryKey[OutboxRepository] = RepositoryKey("outbox")
CONSENTS_KEY: RepositoryKey[ConsentRepository] = RepositoryKey("consents")
PRIVACY_KEY: RepositoryKey[PrivacyRepository] = RepositoryKey("privacy")


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
