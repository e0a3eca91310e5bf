"""Referrals: links and QR posters of partners, personal invitations of coaches, and where each
young person came from. The feature's tables and personal-data part (its records, port and key
are in :mod:`storage.referral_port`).

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

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Table
from sqlmodel import Field, SQLModel

from flows.ids import PersonId
from flows.session import JsonValue
from storage.db import UtcDateTime
from storage.ports import RetentionPolicy, Transaction
from storage.referral_port import (
    ARRIVAL_KINDS,
    REFERRALS_KEY,
    Arrival,
    ReferralRepository,
)


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
