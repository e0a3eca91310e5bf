"""The team dashboard's data layer: accounts, sessions, throttling, audit, notes, and every read
of cases and coaches the dashboard does, each taking a :class:`TeamScope`.

Rules of this module (those of :mod:`storage.sql` apply):

* **Scope is enforced here, in the query.** Every read of a case, a coach, a note or an audit
  row takes a :class:`TeamScope` and adds its condition to the ``WHERE`` clause: a coordinator
  sees the cases of their partnership; a coach the cases of their partnership that are theirs,
  offered to them, or not taken by anyone yet (the team queue); an admin no case at all. Out of
  scope looks exactly like "does not exist" (``None`` or an empty list), so the web layer turns
  both into the same 404.
* SQL only (SQLite and PostgreSQL): the dashboard runs where the service's database runs; the
  memory store is for the conversation tests. :class:`SqlTeam` is registered as
  ``TEAM_DATA_KEY`` on the SQL backend only (:mod:`storage.assembly`), so any SQL transaction
  carries it: :class:`SqlTeamStore` pairs it with the core repositories of the same transaction,
  so an action and its audit row commit together, stamped by the storage's clock.
* The audit log is append-only here: :meth:`SqlTeam.audit` inserts, and only
  :meth:`SqlTeam.purge_audit` (retention) deletes.
* Nothing is logged.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    String,
    and_,
    delete,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.ids import CaseId, CoachId, PartnershipId, row_number
from storage.appointments import APPOINTMENTS, RATINGS
from storage.appointments_port import RatingRecord
from storage.appointments_sql import _rating
from storage.assembly import SQL, SQL_ADAPTERS, RepositoryKey
from storage.case_team import CASE_MEMBERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, unseal
from storage.escalation import BLIND_SPOT_COUNTS, ERASED_CASES
from storage.ports import Storage, Transaction
from storage.routing import CASES, COACHES, INTAKE_AAD, OFFERS, RELAY_MESSAGES
from storage.routing_port import CaseRecord, CoachRecord, ErasedCaseRecord, OfferRecord
from storage.routing_sql import SqlCases, coach_from_row, decode_object
from storage.safety import SAFETY_EVENTS
from storage.team import (
    CASE_NOTES,
    COUNTED_AAD,
    NOTE_AAD,
    TEAM_AUDIT,
    TEAM_COUNTED_CASES,
    TEAM_DOMAIN_COUNTS,
    TEAM_LOGIN_ATTEMPTS,
    TEAM_SESSIONS,
    TEAM_USERS,
    TOTP_AAD,
    TeamRole,
)

# Not taken by anyone yet: waiting, offered to someone, or in the team queue (escalated).
UNCLAIMED = ("waiting", "offered", "escalated")


@dataclass(frozen=True)
class TeamScope:
    """Who asks: the data layer's whole notion of access."""

    user_id: int
    role: TeamRole
    partnership: PartnershipId | None
    coach: CoachId | None

    def case_condition(self) -> ColumnElement[bool]:
        if self.role == "admin" or self.partnership is None:
            return false()
        same = CASES.c.partnership == self.partnership
        if self.role == "coordinator":
            return same
        if self.coach is None:
            return and_(same, CASES.c.status.in_(UNCLAIMED))
        offered_to_me = (
            select(OFFERS.c.id)
            .where(
                OFFERS.c.case_id == CASES.c.id,
                OFFERS.c.coach_id == self.coach,
                OFFERS.c.status == "open",
            )
            .exists()
        )
        # A colleague in the case's team (the young person said yes) sees it too.
        member_of = (
            select(CASE_MEMBERS.c.id)
            .where(
                CASE_MEMBERS.c.case_id == CASES.c.id,
                CASE_MEMBERS.c.coach == self.coach,
                CASE_MEMBERS.c.status == "active",
            )
            .exists()
        )
        return and_(
            same,
            or_(
                CASES.c.coach_id == self.coach,
                CASES.c.status.in_(UNCLAIMED),
                offered_to_me,
                member_of,
            ),
        )

    def erased_condition(self) -> ColumnElement[bool]:
        """The same rule for what is left of an erased case: a coordinator sees those of the
        partnership; a coach those that were theirs or nobody's yet; an admin none."""
        if self.role == "admin" or self.partnership is None:
            return false()
        same = ERASED_CASES.c.partnership == self.partnership
        if self.role == "coordinator":
            return same
        if self.coach is None:
            return and_(same, ERASED_CASES.c.coach_id.is_(None))
        return and_(
            same, or_(ERASED_CASES.c.coach_id == self.coach, ERASED_CASES.c.coach_id.is_(None))
        )

    def coach_condition(self) -> ColumnElement[bool]:
        if self.role == "admin" or self.partnership is None:
            return false()
        return COACHES.c.partnership == self.partnership


# The queue's groups, in the order they are listed.
SAFETY_FIRST, UNCLAIMED_NEXT, THE_REST = 0, 1, 2


def queue_group() -> ColumnElement[int]:
    """0: the young person has an open safety event; 1: nobody took the case yet (waiting,
    offered, team queue); 2: the rest."""
    safety_open = (
        select(SAFETY_EVENTS.c.id)
        .where(SAFETY_EVENTS.c.person == CASES.c.person, SAFETY_EVENTS.c.closed_at.is_(None))
        .exists()
    )
    return sql_case(
        (safety_open, SAFETY_FIRST), (CASES.c.status.in_(UNCLAIMED), UNCLAIMED_NEXT), else_=THE_REST
    )


@dataclass(frozen=True)
class QueuePage:
    """One page of the open cases in scope: ``rows`` are (case, group) in queue order (every
    case of group 0 first, then ``limit`` cases of groups 1 and 2 from ``offset``); ``counts``
    are the whole queue's sizes per group."""

    rows: list[tuple[CaseRecord, int]]
    counts: dict[int, int]
    offset: int
    limit: int

    @property
    def paged(self) -> int:
        """How many cases are paginated (groups 1 and 2)."""
        return self.counts.get(UNCLAIMED_NEXT, 0) + self.counts.get(THE_REST, 0)


@dataclass(frozen=True)
class TeamUser:
    id: int
    email: str
    name: str
    role: TeamRole
    partnership: PartnershipId | None
    coach: CoachId | None
    password_hash: str
    totp_secret: str
    totp_last_step: int
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    def scope(self) -> TeamScope:
        return TeamScope(self.id, self.role, self.partnership, self.coach)


@dataclass(frozen=True)
class TeamSession:
    id_hash: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    address: str


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    user_id: int | None
    actor: str
    partnership: str | None
    action: str
    case: CaseId | None
    target: str | None
    address: str


@dataclass(frozen=True)
class NoteRecord:
    id: int
    case: CaseId
    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class StatsFacts:
    """What the statistics need of a scope's cases, read in SQL without decrypting a case
    (:meth:`SqlTeam.stats_facts`); times are UTC."""

    cases: int
    per_week: tuple[int, ...]  # cases created per week (between the bounds asked for)
    hours_to_acceptance: tuple[float, ...]  # per accepted case
    hours_to_first_contact: tuple[float, ...]  # per case a coach wrote to
    appointments: dict[str, int]  # per status
    outcomes: dict[str, int]  # closed cases per outcome
    domains: dict[str, int]  # intakes per life domain (team_domain_counts)


# How much of an intake's encryption token tells that it changed: "enc:v1:<key id>:" and the
# random nonce that starts the body (a new token has a new nonce).
SEAL_PREFIX = 96


def _user(row: RowMapping, keyring: Keyring | None) -> TeamUser:
    return TeamUser(
        id=int(row["id"]),
        email=row["email"],
        name=row["name"],
        role=cast(TeamRole, row["role"]),
        partnership=None if row["partnership"] is None else PartnershipId(row["partnership"]),
        coach=None if row["coach_id"] is None else CoachId(row["coach_id"]),
        password_hash=row["password_hash"],
        totp_secret=unseal(keyring, row["totp_secret"], TOTP_AAD),
        totp_last_step=int(row["totp_last_step"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
        last_login_at=row["last_login_at"],
    )


def _audit(row: RowMapping) -> AuditRecord:
    case_id = row["case_id"]
    return AuditRecord(
        id=int(row["id"]),
        at=row["at"],
        user_id=row["user_id"],
        actor=row["actor"],
        partnership=row["partnership"],
        action=row["action"],
        case=None if case_id is None else CaseId(str(case_id)),
        target=row["target"],
        address=row["address"],
    )


def _erased(row: RowMapping) -> ErasedCaseRecord:
    return ErasedCaseRecord(
        case=CaseId(str(row["case_id"])),
        partnership=PartnershipId(row["partnership"]),
        coach=None if row["coach_id"] is None else CoachId(row["coach_id"]),
        erased_at=_aware(row["erased_at"]),
    )


class SqlTeam:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring
        self._cases = SqlCases(conn, keyring)

    # --- accounts -------------------------------------------------------------------------

    async def add_user(
        self,
        *,
        email: str,
        name: str,
        role: TeamRole,
        partnership: PartnershipId | None,
        coach: CoachId | None,
        password_hash: str,
        totp_secret: str,
        now: datetime,
    ) -> TeamUser:
        result = await self._conn.execute(
            TEAM_USERS.insert()
            .values(
                email=email.strip().lower(),
                name=name,
                role=role,
                partnership=partnership,
                coach_id=coach,
                password_hash=password_hash,
                totp_secret=seal(self._keyring, totp_secret, TOTP_AAD),
                totp_last_step=0,
                active=True,
                created_at=to_utc(now),
                last_login_at=None,
            )
            .returning(TEAM_USERS.c.id)
        )
        user = await self.user(int(result.scalar_one()))
        assert user is not None  # inserted just now, in this transaction
        return user

    async def user(self, user_id: int) -> TeamUser | None:
        result = await self._conn.execute(select(TEAM_USERS).where(TEAM_USERS.c.id == user_id))
        row = result.mappings().first()
        return None if row is None else _user(row, self._keyring)

    async def user_by_email(self, email: str) -> TeamUser | None:
        result = await self._conn.execute(
            select(TEAM_USERS).where(TEAM_USERS.c.email == email.strip().lower())
        )
        row = result.mappings().first()
        return None if row is None else _user(row, self._keyring)

    async def users(self) -> list[TeamUser]:
        result = await self._conn.execute(select(TEAM_USERS).order_by(TEAM_USERS.c.email))
        return [_user(row, self._keyring) for row in result.mappings()]

    async def set_user_active(self, user_id: int, active: bool) -> None:
        await self._conn.execute(
            update(TEAM_USERS).where(TEAM_USERS.c.id == user_id).values(active=active)
        )
        if not active:
            await self.end_sessions_of(user_id)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self._conn.execute(
            update(TEAM_USERS).where(TEAM_USERS.c.id == user_id).values(password_hash=password_hash)
        )

    async def set_totp_secret(self, user_id: int, secret: str) -> None:
        """A new second factor (a lost authenticator): codes of the old one stop working."""
        await self._conn.execute(
            update(TEAM_USERS)
            .where(TEAM_USERS.c.id == user_id)
            .values(totp_secret=seal(self._keyring, secret, TOTP_AAD), totp_last_step=0)
        )

    async def use_totp_step(self, user_id: int, step: int) -> bool:
        """Compare-and-set: ``True`` when ``step`` is newer than the last one used."""
        result = await self._conn.execute(
            update(TEAM_USERS)
            .where(TEAM_USERS.c.id == user_id, TEAM_USERS.c.totp_last_step < step)
            .values(totp_last_step=step)
        )
        return result.rowcount == 1

    async def logged_in(self, user_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(TEAM_USERS).where(TEAM_USERS.c.id == user_id).values(last_login_at=to_utc(now))
        )

    # --- sessions -------------------------------------------------------------------------

    async def start_session(self, id_hash: str, user_id: int, now: datetime, address: str) -> None:
        now = to_utc(now)
        await self._conn.execute(
            TEAM_SESSIONS.insert().values(
                id_hash=id_hash,
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                address=address[:64],
            )
        )

    async def session(self, id_hash: str) -> TeamSession | None:
        result = await self._conn.execute(
            select(TEAM_SESSIONS).where(TEAM_SESSIONS.c.id_hash == id_hash)
        )
        row = result.mappings().first()
        if row is None:
            return None
        return TeamSession(
            row["id_hash"],
            int(row["user_id"]),
            row["created_at"],
            row["last_seen_at"],
            row["address"],
        )

    async def touch_session(self, id_hash: str, now: datetime) -> None:
        await self._conn.execute(
            update(TEAM_SESSIONS)
            .where(TEAM_SESSIONS.c.id_hash == id_hash)
            .values(last_seen_at=to_utc(now))
        )

    async def sessions_of(self, user_id: int) -> list[TeamSession]:
        """The account's own sessions, newest first (the sessions page)."""
        result = await self._conn.execute(
            select(TEAM_SESSIONS)
            .where(TEAM_SESSIONS.c.user_id == user_id)
            .order_by(TEAM_SESSIONS.c.created_at.desc(), TEAM_SESSIONS.c.id_hash)
        )
        return [
            TeamSession(
                row["id_hash"],
                int(row["user_id"]),
                row["created_at"],
                row["last_seen_at"],
                row["address"],
            )
            for row in result.mappings()
        ]

    async def end_sessions_of_except(self, user_id: int, keep: str) -> int:
        """End every session of the account but ``keep`` (the one asking)."""
        result = await self._conn.execute(
            delete(TEAM_SESSIONS).where(
                TEAM_SESSIONS.c.user_id == user_id, TEAM_SESSIONS.c.id_hash != keep
            )
        )
        return result.rowcount

    async def end_session(self, id_hash: str) -> None:
        await self._conn.execute(delete(TEAM_SESSIONS).where(TEAM_SESSIONS.c.id_hash == id_hash))

    async def end_sessions_of(self, user_id: int) -> None:
        await self._conn.execute(delete(TEAM_SESSIONS).where(TEAM_SESSIONS.c.user_id == user_id))

    async def purge_sessions(self, idle_before: datetime, started_before: datetime) -> int:
        result = await self._conn.execute(
            delete(TEAM_SESSIONS).where(
                or_(
                    TEAM_SESSIONS.c.last_seen_at < to_utc(idle_before),
                    TEAM_SESSIONS.c.created_at < to_utc(started_before),
                )
            )
        )
        return result.rowcount

    # --- login throttling -----------------------------------------------------------------

    async def record_attempt(self, key: str, now: datetime, *, success: bool) -> None:
        await self._conn.execute(
            TEAM_LOGIN_ATTEMPTS.insert().values(key=key[:100], at=to_utc(now), success=success)
        )

    async def failures_since(self, key: str, since: datetime) -> int:
        """Failed attempts of ``key`` since ``since`` and after its last success."""
        last_success = (
            select(func.max(TEAM_LOGIN_ATTEMPTS.c.at))
            .where(TEAM_LOGIN_ATTEMPTS.c.key == key, TEAM_LOGIN_ATTEMPTS.c.success.is_(True))
            .scalar_subquery()
        )
        result = await self._conn.execute(
            select(func.count())
            .select_from(TEAM_LOGIN_ATTEMPTS)
            .where(
                TEAM_LOGIN_ATTEMPTS.c.key == key,
                TEAM_LOGIN_ATTEMPTS.c.success.is_(False),
                TEAM_LOGIN_ATTEMPTS.c.at >= to_utc(since),
                or_(last_success.is_(None), TEAM_LOGIN_ATTEMPTS.c.at > last_success),
            )
        )
        return int(result.scalar_one())

    async def purge_attempts(self, before: datetime) -> int:
        result = await self._conn.execute(
            delete(TEAM_LOGIN_ATTEMPTS).where(TEAM_LOGIN_ATTEMPTS.c.at < to_utc(before))
        )
        return result.rowcount

    # --- audit (append-only) --------------------------------------------------------------

    async def audit(
        self,
        *,
        at: datetime,
        user: TeamUser | None,
        action: str,
        address: str,
        case: CaseId | None = None,
        target: str | None = None,
        partnership: str | None = None,
    ) -> None:
        await self._conn.execute(
            TEAM_AUDIT.insert().values(
                at=to_utc(at),
                user_id=None if user is None else user.id,
                actor="-" if user is None else user.email,
                partnership=partnership
                if partnership is not None
                else (None if user is None else user.partnership),
                action=action[:40],
                case_id=None if case is None else int(case),
                target=None if target is None else target[:80],
                address=address[:64],
            )
        )

    async def audit_rows(
        self, scope: TeamScope, *, case: CaseId | None = None, limit: int = 200
    ) -> list[AuditRecord]:
        """A coordinator's partnership's rows (an admin's: the account rows), newest first."""
        if scope.role == "admin":
            condition: ColumnElement[bool] = TEAM_AUDIT.c.action.like("user.%")
        elif scope.role == "coordinator" and scope.partnership is not None:
            condition = TEAM_AUDIT.c.partnership == scope.partnership
        else:
            condition = false()
        statement = select(TEAM_AUDIT).where(condition)
        if case is not None:
            statement = statement.where(TEAM_AUDIT.c.case_id == int(case))
        result = await self._conn.execute(
            statement.order_by(TEAM_AUDIT.c.at.desc(), TEAM_AUDIT.c.id.desc()).limit(limit)
        )
        return [_audit(row) for row in result.mappings()]

    async def audit_of_cases(self, case_ids: tuple[CaseId, ...]) -> list[AuditRecord]:
        """Who looked at and changed these cases (a young person's export), oldest first."""
        if not case_ids:
            return []
        result = await self._conn.execute(
            select(TEAM_AUDIT)
            .where(TEAM_AUDIT.c.case_id.in_([int(c) for c in case_ids]))
            .order_by(TEAM_AUDIT.c.at, TEAM_AUDIT.c.id)
        )
        return [_audit(row) for row in result.mappings()]

    async def purge_audit(self, before: datetime) -> int:
        result = await self._conn.execute(
            delete(TEAM_AUDIT).where(TEAM_AUDIT.c.at < to_utc(before))
        )
        return result.rowcount

    # --- cases and coaches, scoped --------------------------------------------------------

    async def case(self, scope: TeamScope, case_id: CaseId) -> CaseRecord | None:
        number = row_number(case_id)
        if number is None:
            return None
        result = await self._conn.execute(
            select(CASES).where(CASES.c.id == number, scope.case_condition())
        )
        row = result.mappings().first()
        return None if row is None else self._cases._case(row)

    async def erased_case(self, scope: TeamScope, case_id: CaseId) -> ErasedCaseRecord | None:
        """The anonymous trace of a case erased at the young person's request, in scope."""
        number = row_number(case_id)
        if number is None:
            return None
        result = await self._conn.execute(
            select(ERASED_CASES).where(ERASED_CASES.c.case_id == number, scope.erased_condition())
        )
        row = result.mappings().first()
        return None if row is None else _erased(row)

    async def erased_cases(self, scope: TeamScope, *, limit: int = 20) -> list[ErasedCaseRecord]:
        """The most recently erased cases in scope, newest first."""
        result = await self._conn.execute(
            select(ERASED_CASES)
            .where(scope.erased_condition())
            .order_by(ERASED_CASES.c.erased_at.desc(), ERASED_CASES.c.case_id.desc())
            .limit(limit)
        )
        return [_erased(row) for row in result.mappings()]

    async def queue(
        self, scope: TeamScope, *, offset: int, limit: int, safety_limit: int = 500
    ) -> QueuePage:
        """One page of the queue, ordered and cut in SQL: only the page's cases are read and
        decrypted (see :class:`QueuePage`)."""
        group = queue_group().label("queue_group")
        open_in_scope = and_(scope.case_condition(), CASES.c.status != "closed")
        counted = await self._conn.execute(
            select(group, func.count()).where(open_in_scope).group_by(group)
        )
        counts = {int(g): int(n) for g, n in counted.all()}
        order = (CASES.c.created_at, CASES.c.id)
        first = await self._conn.execute(
            select(CASES, group)
            .where(open_in_scope, queue_group() == SAFETY_FIRST)
            .order_by(*order)
            .limit(safety_limit)
        )
        rows = [(self._cases._case(row), SAFETY_FIRST) for row in first.mappings()]
        page = await self._conn.execute(
            select(CASES, group)
            .where(open_in_scope, queue_group() != SAFETY_FIRST)
            .order_by(group, *order)
            .offset(offset)
            .limit(limit)
        )
        rows += [(self._cases._case(row), int(row["queue_group"])) for row in page.mappings()]
        return QueuePage(rows, counts, offset, limit)

    async def cases(self, scope: TeamScope, *, include_closed: bool = True) -> list[CaseRecord]:
        statement = select(CASES).where(scope.case_condition())
        if not include_closed:
            statement = statement.where(CASES.c.status != "closed")
        result = await self._conn.execute(statement.order_by(CASES.c.id))
        return [self._cases._case(row) for row in result.mappings()]

    async def offers_by_case(
        self,
        scope: TeamScope,
        *,
        include_closed: bool = True,
        only: tuple[CaseId, ...] | None = None,
    ) -> dict[CaseId, list[OfferRecord]]:
        """Every offer of the scope's cases (of ``only`` those, when given) in one query,
        oldest first per case."""
        cases = select(CASES.c.id).where(scope.case_condition())
        if not include_closed:
            cases = cases.where(CASES.c.status != "closed")
        if only is not None:
            cases = cases.where(CASES.c.id.in_([int(c) for c in only if c.isdigit()]))
        result = await self._conn.execute(
            select(OFFERS)
            .where(OFFERS.c.case_id.in_(cases))
            .order_by(OFFERS.c.case_id, OFFERS.c.sent_at, OFFERS.c.id)
        )
        found: dict[CaseId, list[OfferRecord]] = {}
        for row in result.mappings():
            offer = self._cases._offer(row)
            found.setdefault(offer.case, []).append(offer)
        return found

    async def coaches(self, scope: TeamScope) -> list[CoachRecord]:
        result = await self._conn.execute(
            select(COACHES).where(scope.coach_condition()).order_by(COACHES.c.id)
        )
        return [coach_from_row(row) for row in result.mappings()]

    async def coach(self, scope: TeamScope, coach_id: CoachId) -> CoachRecord | None:
        result = await self._conn.execute(
            select(COACHES).where(COACHES.c.id == coach_id, scope.coach_condition())
        )
        row = result.mappings().first()
        return None if row is None else coach_from_row(row)

    # --- notes ----------------------------------------------------------------------------

    async def add_note(
        self, case_id: CaseId, user: TeamUser, text: str, now: datetime
    ) -> NoteRecord:
        result = await self._conn.execute(
            CASE_NOTES.insert()
            .values(
                case_id=int(case_id),
                user_id=user.id,
                author=user.name,
                text=seal(self._keyring, text, NOTE_AAD),
                at=to_utc(now),
            )
            .returning(CASE_NOTES.c.id)
        )
        return NoteRecord(int(result.scalar_one()), case_id, user.name, text, to_utc(now))

    async def notes(self, scope: TeamScope, case_id: CaseId) -> list[NoteRecord]:
        number = row_number(case_id)
        if number is None:
            return []
        result = await self._conn.execute(
            select(CASE_NOTES)
            .where(
                CASE_NOTES.c.case_id == number,
                CASE_NOTES.c.case_id.in_(select(CASES.c.id).where(scope.case_condition())),
            )
            .order_by(CASE_NOTES.c.at, CASE_NOTES.c.id)
        )
        return [
            NoteRecord(
                int(row["id"]),
                CaseId(str(row["case_id"])),
                row["author"],
                unseal(self._keyring, row["text"], NOTE_AAD),
                row["at"],
            )
            for row in result.mappings()
        ]

    async def notes_of_cases(self, case_ids: tuple[CaseId, ...]) -> list[NoteRecord]:
        """Unscoped: for the young person's own export only."""
        if not case_ids:
            return []
        result = await self._conn.execute(
            select(CASE_NOTES)
            .where(CASE_NOTES.c.case_id.in_([int(c) for c in case_ids]))
            .order_by(CASE_NOTES.c.at, CASE_NOTES.c.id)
        )
        return [
            NoteRecord(
                int(row["id"]),
                CaseId(str(row["case_id"])),
                row["author"],
                unseal(self._keyring, row["text"], NOTE_AAD),
                row["at"],
            )
            for row in result.mappings()
        ]

    async def erase_notes_of_cases(self, case_ids: tuple[CaseId, ...]) -> int:
        if not case_ids:
            return 0
        result = await self._conn.execute(
            delete(CASE_NOTES).where(CASE_NOTES.c.case_id.in_([int(c) for c in case_ids]))
        )
        return result.rowcount

    # --- statistics -----------------------------------------------------------------------

    async def count_domains(self, partnership: PartnershipId, domain_ids: frozenset[str]) -> int:
        """Bring ``team_domain_counts`` of ``partnership`` up to date: only cases that are new
        or whose intake changed since they were counted are decrypted (see
        :mod:`storage.team`). Returns how many cases were (re)counted."""
        mark = TEAM_COUNTED_CASES
        seal_start = func.substr(CASES.c.intake, 1, SEAL_PREFIX)
        changed = or_(mark.c.case_id.is_(None), seal_start != mark.c.intake_seal)
        if self._keyring is None:
            changed = true()  # no token to compare: plaintext costs nothing to read
        result = await self._conn.execute(
            select(CASES.c.id, CASES.c.intake, mark.c.domains.label("counted"))
            .select_from(CASES.outerjoin(mark, mark.c.case_id == CASES.c.id))
            .where(CASES.c.partnership == partnership, changed)
        )
        delta: dict[str, int] = {}
        marks: list[dict[str, Any]] = []
        renewed: list[int] = []
        for row in result.mappings():
            intake = decode_object(unseal(self._keyring, row["intake"], INTAKE_AAD))
            listed = intake.get("domains")
            now = sorted(
                {d for d in listed if isinstance(d, str) and d in domain_ids}
                if isinstance(listed, list)
                else set()
            )
            if row["counted"] is not None:
                renewed.append(int(row["id"]))
                for domain in _json_list(unseal(self._keyring, row["counted"], COUNTED_AAD)):
                    delta[domain] = delta.get(domain, 0) - 1
            for domain in now:
                delta[domain] = delta.get(domain, 0) + 1
            token = str(row["intake"])
            marks.append(
                {
                    "case_id": int(row["id"]),
                    "intake_seal": token[:SEAL_PREFIX] if self._keyring is not None else "",
                    "domains": seal(self._keyring, _json_text(now), COUNTED_AAD),
                }
            )
        if renewed:
            await self._conn.execute(delete(mark).where(mark.c.case_id.in_(renewed)))
        if marks:
            await self._conn.execute(mark.insert(), marks)
        for domain, change in sorted(delta.items()):
            if change == 0:
                continue
            updated = await self._conn.execute(
                update(TEAM_DOMAIN_COUNTS)
                .where(
                    TEAM_DOMAIN_COUNTS.c.partnership == partnership,
                    TEAM_DOMAIN_COUNTS.c.domain == domain,
                )
                .values(count=TEAM_DOMAIN_COUNTS.c.count + change)
            )
            if updated.rowcount == 0:
                await self._conn.execute(
                    TEAM_DOMAIN_COUNTS.insert().values(
                        partnership=partnership, domain=domain, count=max(change, 0)
                    )
                )
        return len(marks)

    async def stats_facts(self, scope: TeamScope, weeks: Sequence[datetime]) -> StatsFacts:
        """The scope's counts, waiting times and per-status totals in a few aggregate queries
        (intakes per week between consecutive ``weeks`` bounds); the domains from
        ``team_domain_counts`` (call :meth:`count_domains` first). Nothing is decrypted."""
        in_scope = scope.case_condition()
        created = CASES.c.created_at
        per_week = [
            func.coalesce(
                func.sum(sql_case((and_(created >= start, created < end), 1), else_=0)), 0
            )
            for start, end in pairwise(weeks)
        ]
        counted = await self._conn.execute(select(func.count(), *per_week).where(in_scope))
        total, *weekly = counted.one()
        accepted = await self._conn.execute(
            select(self._hours(CASES.c.created_at, CASES.c.accepted_at)).where(
                in_scope, CASES.c.accepted_at.is_not(None)
            )
        )
        first = (
            select(RELAY_MESSAGES.c.case_id, func.min(RELAY_MESSAGES.c.at).label("first_at"))
            .where(RELAY_MESSAGES.c.direction == "to_young")
            .group_by(RELAY_MESSAGES.c.case_id)
            .subquery()
        )
        contacts = await self._conn.execute(
            select(self._hours(CASES.c.created_at, first.c.first_at))
            .select_from(CASES.join(first, first.c.case_id == CASES.c.id))
            .where(in_scope)
        )
        # appointments.case_id is text (no foreign key, see 0005).
        ids = select(sql_cast(CASES.c.id, String)).where(in_scope)
        appointments = await self._conn.execute(
            select(APPOINTMENTS.c.status, func.count())
            .where(APPOINTMENTS.c.case_id.in_(ids))
            .group_by(APPOINTMENTS.c.status)
        )
        outcomes = await self._conn.execute(
            select(CASES.c.outcome, func.count())
            .where(in_scope, CASES.c.status == "closed", CASES.c.outcome.is_not(None))
            .group_by(CASES.c.outcome)
        )
        domains: dict[str, int] = {}
        if scope.role == "coordinator" and scope.partnership is not None:
            found = await self._conn.execute(
                select(TEAM_DOMAIN_COUNTS.c.domain, TEAM_DOMAIN_COUNTS.c.count).where(
                    TEAM_DOMAIN_COUNTS.c.partnership == scope.partnership,
                    TEAM_DOMAIN_COUNTS.c.count > 0,
                )
            )
            domains = {str(d): int(n) for d, n in found.all()}
        return StatsFacts(
            cases=int(total),
            per_week=tuple(int(n) for n in weekly),
            hours_to_acceptance=tuple(float(h) for h in accepted.scalars() if h is not None),
            hours_to_first_contact=tuple(float(h) for h in contacts.scalars() if h is not None),
            appointments={str(s): int(n) for s, n in appointments.all()},
            outcomes={str(o): int(n) for o, n in outcomes.all()},
            domains=domains,
        )

    def _hours(self, start: Any, end: Any) -> ColumnElement[float]:
        """Hours from ``start`` to ``end``, computed by the database (no datetime per row)."""
        if self._conn.dialect.name == "postgresql":
            return cast(ColumnElement[float], func.extract("epoch", end - start) / 3600.0)
        # SQLite keeps naive UTC text (storage.db.UtcDateTime): julianday reads it in days.
        return cast(ColumnElement[float], (func.julianday(end) - func.julianday(start)) * 24.0)

    async def progress_inputs(
        self, scope: TeamScope
    ) -> tuple[list[CaseRecord], dict[CaseId, list[RatingRecord]]]:
        """The cases in scope with a rating after the intake, and all their ratings: the only
        cases progress between ratings needs (and so the only ones decrypted for it)."""
        ids = select(sql_cast(CASES.c.id, String)).where(scope.case_condition())
        later = (
            select(RATINGS.c.case_id)
            .where(RATINGS.c.case_id.in_(ids), RATINGS.c.kind != "intake")
            .distinct()
        )
        numbers = [int(c) for c in (await self._conn.execute(later)).scalars() if c.isdigit()]
        if not numbers:
            return [], {}
        cases = await self._conn.execute(
            select(CASES).where(CASES.c.id.in_(numbers)).order_by(CASES.c.id)
        )
        rows = await self._conn.execute(
            select(RATINGS)
            .where(RATINGS.c.case_id.in_([str(n) for n in numbers]))
            .order_by(RATINGS.c.taken_at, RATINGS.c.id)
        )
        ratings: dict[CaseId, list[RatingRecord]] = {}
        for row in rows.mappings():
            record = _rating(row, self._keyring)
            ratings.setdefault(record.case, []).append(record)
        return [self._cases._case(row) for row in cases.mappings()], ratings

    async def ratings_by_case(
        self, scope: TeamScope, only: tuple[CaseId, ...]
    ) -> dict[CaseId, list[RatingRecord]]:
        """The ratings of ``only`` (those in scope), oldest first per case."""
        numbers = [c for c in only if c.isdigit()]
        if not numbers:
            return {}
        ids = select(sql_cast(CASES.c.id, String)).where(
            scope.case_condition(), CASES.c.id.in_([int(c) for c in numbers])
        )
        rows = await self._conn.execute(
            select(RATINGS)
            .where(RATINGS.c.case_id.in_(ids))
            .order_by(RATINGS.c.taken_at, RATINGS.c.id)
        )
        found: dict[CaseId, list[RatingRecord]] = {}
        for row in rows.mappings():
            record = _rating(row, self._keyring)
            found.setdefault(record.case, []).append(record)
        return found

    # --- anonymous counts -----------------------------------------------------------------

    async def blind_spots(self, scope: TeamScope) -> dict[str, int]:
        """Intakes from a blind spot (a municipality, or the part of one, that no partnership
        covers) near the scope's partnership, per municipality (NIS code), all months: the
        anonymous ``blind_spot_counts`` counted for that partnership."""
        if scope.role == "admin" or scope.partnership is None:
            return {}
        result = await self._conn.execute(
            select(BLIND_SPOT_COUNTS.c.municipality_nis, func.sum(BLIND_SPOT_COUNTS.c.count))
            .where(
                BLIND_SPOT_COUNTS.c.partnership == scope.partnership,
                BLIND_SPOT_COUNTS.c.kind == "blind_spot",
                BLIND_SPOT_COUNTS.c.municipality_nis != "",
            )
            .group_by(BLIND_SPOT_COUNTS.c.municipality_nis)
        )
        return {str(nis): int(n) for nis, n in result.all()}


def _json_list(text: str) -> list[str]:
    value = json.loads(text)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _json_text(values: list[str]) -> str:
    return json.dumps(values, separators=(",", ":"))


def _aware(value: Any) -> datetime:
    if not isinstance(value, datetime):
        # SQLite returns aggregated datetimes as text.
        value = datetime.fromisoformat(str(value))
    return to_utc(value) if value.tzinfo is not None else to_utc(value.replace(tzinfo=UTC))


TEAM_DATA_KEY: RepositoryKey[SqlTeam] = RepositoryKey("team", backends=(SQL,))
"""The team dashboard's data layer in a transaction (SQL only: ``tx[TEAM_DATA_KEY]``)."""

SQL_ADAPTERS.register(TEAM_DATA_KEY, lambda c: SqlTeam(c.conn, c.keyring))


@dataclass(frozen=True)
class TeamTransaction:
    """The dashboard's view of one transaction: the core ports and its own, side by side."""

    core: Transaction
    team: SqlTeam


class SqlTeamStore:
    """Transactions of the storage, with :class:`SqlTeam` beside the core repositories."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[TeamTransaction]:
        # The storage's own transaction: its clock, its keyring, one connection.
        async with self.storage.transaction() as tx:
            yield TeamTransaction(tx, tx[TEAM_DATA_KEY])


def team_of(tx: object) -> SqlTeam | None:
    """``tx.get(TEAM_DATA_KEY)``: the team repository on a transaction (``None`` off SQL)."""
    return tx.get(TEAM_DATA_KEY) if isinstance(tx, Transaction) else None
