"""Referrals: links and QR posters of partners, personal invitations of coaches, and where each
young person came from. The feature's tables, records, port and personal-data part.

Rules of this module (those of :mod:`storage.tables` apply; it imports this module so the tables
are on ``SQLModel.metadata``):

* ``referral_links``: a partner's link (``https://t.me/<bot>?start=<code>``, ``/?ref=<code>``
  in the web chat) that preselects a partnership. The code is opaque (1-64 of ``A-Za-z0-9_-``)
  and public (it is printed on a poster), so it is kept as it is; ``source`` names the partner
  or the place of the poster, never a person.
* ``referral_invites``: a coach's personal invitation for one young person, valid a while,
  used once. Only the sha256 of its code is kept: whoever reads the database cannot use it.
  ``opened_by`` is the person who opened it first; nobody else can use it after that.
* ``referral_arrivals``: one row per start through a link or an invitation (person, the kind,
  the partnership and the source, later whether an intake was sent and which case it made).
  The statistics count intakes and cases per source from here
  (:meth:`ReferralRepository.source_counts`). ``/wis`` and retention leave the row but drop the
  person and the case: the count survives, nothing points to anyone.
* The port is the feature's own: ``tx[REFERRALS_KEY]`` (or :func:`referrals_of`) gives it on
  the transaction of either storage (SQL or memory); its adapters register themselves
  (:mod:`storage.assembly`), so the core :class:`storage.ports.Transaction` needs no field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import CheckConstraint, Index, Table
from sqlmodel import Field, SQLModel

from flows.ids import PersonId
from flows.session import JsonValue
from storage.assembly import RepositoryKey
from storage.db import UtcDateTime
from storage.ports import RetentionPolicy, Transaction

ArrivalKind = Literal["link", "invite"]
ARRIVAL_KINDS: tuple[ArrivalKind, ...] = ("link", "invite")
# Telegram's deep-link payload: 1-64 of A-Z a-z 0-9 _ - (and so the web chat's too).
CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_SOURCE = 80


def check_code(code: str) -> str:
    if not CODE.fullmatch(code):
        raise ValueError("a referral code is 1-64 of A-Z a-z 0-9 _ -")
    return code


class ReferralLinkRow(SQLModel, table=True):
    __tablename__ = "referral_links"
    __table_args__ = (Index("ix_referral_links_partnership", "partnership"),)

    code: str = Field(primary_key=True)
    partnership: str
    source: str
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


class ReferralInviteRow(SQLModel, table=True):
    __tablename__ = "referral_invites"
    __table_args__ = (
        Index("ix_referral_invites_opened_by", "opened_by"),
        Index("ix_referral_invites_expires_at", "expires_at"),
    )

    code_hash: str = Field(primary_key=True)
    coach: str
    partnership: str
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    opened_by: str | None = Field(default=None, nullable=True)
    opened_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


_KIND_LIST = ", ".join(f"'{kind}'" for kind in ARRIVAL_KINDS)


class ReferralArrivalRow(SQLModel, table=True):
    __tablename__ = "referral_arrivals"
    __table_args__ = (
        Index("ix_referral_arrivals_person", "person"),
        Index("ix_referral_arrivals_arrived_at", "arrived_at"),
        CheckConstraint(f"kind IN ({_KIND_LIST})", name="ck_referral_arrivals_kind"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    person: str | None = Field(default=None, nullable=True)
    kind: str
    partnership: str
    source: str
    link_code: str | None = Field(default=None, nullable=True)
    coach: str | None = Field(default=None, nullable=True)
    arrived_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    case_id: str | None = Field(default=None, nullable=True)
    # Stays when the case id is dropped (/wis, retention): the count survives.
    case_made: bool = Field(default=False, nullable=False)


REFERRAL_LINKS: Table = SQLModel.metadata.tables[str(ReferralLinkRow.__tablename__)]
REFERRAL_INVITES: Table = SQLModel.metadata.tables[str(ReferralInviteRow.__tablename__)]
REFERRAL_ARRIVALS: Table = SQLModel.metadata.tables[str(ReferralArrivalRow.__tablename__)]


@dataclass(frozen=True)
class ReferralLink:
    code: str
    partnership: str
    source: str
    created_at: datetime
    expires_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class PersonalInvite:
    code_hash: str
    coach: str
    partnership: str
    created_at: datetime
    expires_at: datetime
    opened_by: PersonId | None = None
    opened_at: datetime | None = None
    used_at: datetime | None = None


@dataclass(frozen=True)
class Arrival:
    id: int
    person: PersonId | None
    kind: ArrivalKind
    partnership: str
    source: str
    link_code: str | None
    coach: str | None
    arrived_at: datetime
    submitted_at: datetime | None = None
    case_id: str | None = None
    case_made: bool = False


@dataclass(frozen=True)
class SourceCount:
    """Per kind, source and partnership: how many started, sent an intake, got a case."""

    kind: ArrivalKind
    source: str
    partnership: str
    arrivals: int
    intakes: int
    cases: int


class ReferralRepository(Protocol):
    """The feature's port (see the module rules). Every time is the caller's ``now``."""

    async def add_link(self, link: ReferralLink) -> None:
        """``ValueError`` when the code exists."""
        ...

    async def link(self, code: str) -> ReferralLink | None: ...

    async def links(self, partnership: str | None = None) -> list[ReferralLink]:
        """Oldest first."""
        ...

    async def add_invite(
        self, code_hash: str, coach: str, partnership: str, now: datetime, expires_at: datetime
    ) -> None: ...

    async def open_invite(
        self, code_hash: str, person: PersonId, now: datetime
    ) -> PersonalInvite | None:
        """The invitation for ``person``: not expired, not used, not opened by someone else;
        the first opening binds it to ``person``. ``None`` otherwise."""
        ...

    async def opened_invite(self, person: PersonId, now: datetime) -> PersonalInvite | None:
        """The newest valid, unused invitation ``person`` opened."""
        ...

    async def use_invite(self, code_hash: str, now: datetime) -> bool:
        """Mark it used, once (compare-and-set); ``False`` when it already was."""
        ...

    async def arrive(
        self,
        person: PersonId,
        kind: ArrivalKind,
        partnership: str,
        source: str,
        now: datetime,
        *,
        link_code: str | None = None,
        coach: str | None = None,
    ) -> int: ...

    async def latest_arrival(self, person: PersonId) -> Arrival | None: ...

    async def arrivals_of(self, person: PersonId) -> list[Arrival]:
        """Oldest first."""
        ...

    async def mark_submitted(self, arrival_id: int, now: datetime, case_id: str | None) -> None:
        """An intake was sent (the first time counts) and made ``case_id`` (if any)."""
        ...

    async def source_counts(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        partnership: str | None = None,
    ) -> list[SourceCount]:
        """Arrivals in ``[since, until)`` per kind, source and partnership (of ``partnership``
        only, when given: the team dashboard's scope), sorted."""
        ...

    async def erase(self, person: PersonId) -> int:
        """Arrivals keep their count without the person and case; invitations forget who
        opened them. Returns how many rows changed."""
        ...

    async def purge(self, arrived_before: datetime, expired_before: datetime) -> int:
        """Anonymise arrivals from before ``arrived_before``; delete invitations that expired
        before ``expired_before``. Returns how many rows."""
        ...


REFERRALS_KEY: RepositoryKey[ReferralRepository] = RepositoryKey("referrals")
"""The feature's port in a transaction: ``tx[REFERRALS_KEY]`` (adapters in
:mod:`storage.referral_sql` and :mod:`storage.referral_memory`)."""


def counts_of(arrivals: Iterable[Arrival]) -> list[SourceCount]:
    """Arrivals counted per kind, source and partnership (the memory adapter's query)."""
    found: dict[tuple[ArrivalKind, str, str], list[int]] = {}
    for arrival in arrivals:
        row = found.setdefault((arrival.kind, arrival.source, arrival.partnership), [0, 0, 0])
        row[0] += 1
        row[1] += arrival.submitted_at is not None
        row[2] += arrival.case_made
    return [
        SourceCount(kind, source, partnership, *row)
        for (kind, source, partnership), row in sorted(found.items())
    ]


def referrals_of(tx: object) -> ReferralRepository:
    """``tx[REFERRALS_KEY]``; kept for its callers, which type the transaction as ``object``."""
    return _transaction(tx)[REFERRALS_KEY]


def _transaction(tx: object) -> Transaction:
    if not isinstance(tx, Transaction):
        raise TypeError(f"not a storage transaction: {type(tx).__name__}")
    return tx


def _arrival_json(arrival: Arrival) -> JsonValue:
    return {
        "kind": arrival.kind,
        "partnership": arrival.partnership,
        "source": arrival.source,
        "coach": arrival.coach,
        "arrived_at": arrival.arrived_at.isoformat(),
        "submitted_at": arrival.submitted_at.isoformat() if arrival.submitted_at else None,
        "case": arrival.case_id,
    }


@dataclass(frozen=True)
class ReferralPart:
    """Where a young person came from, as ``/mijngegevens``, ``/wis`` and retention see it."""

    name: str = "referral"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        return [_arrival_json(a) for a in await referrals_of(tx).arrivals_of(person)]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await referrals_of(tx).erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        # Where someone came from is kept as long as a closed case; an invitation that nobody
        # can use any more is gone after the abandoned-intake period.
        return await referrals_of(tx).purge(policy.closed_before(now), policy.abandoned_before(now))

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        # Nothing here depends on a consent category (no health, addiction or justice data).
        return 0
