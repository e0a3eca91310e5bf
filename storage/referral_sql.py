"""SQL adapter of :class:`storage.referral.ReferralRepository` (SQLite and PostgreSQL).

Rules of this module (those of :mod:`storage.sql` apply): SQLAlchemy Core on the transaction's
connection; nothing here is free text or special-category data, so nothing is encrypted (the
inventory says why, column by column). Opening and using an invitation are compare-and-set
updates, so two chats (or two processes) can never both have it. Nothing is logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.ids import PersonId
from storage.assembly import SQL_ADAPTERS
from storage.codec import to_utc
from storage.referral import REFERRAL_ARRIVALS, REFERRAL_INVITES, REFERRAL_LINKS
from storage.referral_port import (
    REFERRALS_KEY,
    Arrival,
    ArrivalKind,
    PersonalInvite,
    ReferralLink,
    SourceCount,
)

L, INV, A = REFERRAL_LINKS, REFERRAL_INVITES, REFERRAL_ARRIVALS


def _link(row: RowMapping) -> ReferralLink:
    return ReferralLink(
        row["code"], row["partnership"], row["source"], row["created_at"], row["expires_at"]
    )


def _invite(row: RowMapping) -> PersonalInvite:
    opened = row["opened_by"]
    return PersonalInvite(
        row["code_hash"],
        row["coach"],
        row["partnership"],
        row["created_at"],
        row["expires_at"],
        PersonId(opened) if opened is not None else None,
        row["opened_at"],
        row["used_at"],
    )


def _arrival(row: RowMapping) -> Arrival:
    person = row["person"]
    return Arrival(
        id=int(row["id"]),
        person=PersonId(person) if person is not None else None,
        kind=cast(ArrivalKind, row["kind"]),
        partnership=row["partnership"],
        source=row["source"],
        link_code=row["link_code"],
        coach=row["coach"],
        arrived_at=row["arrived_at"],
        submitted_at=row["submitted_at"],
        case_id=row["case_id"],
        case_made=bool(row["case_made"]),
    )


def _usable(now: datetime) -> ColumnElement[bool]:
    return and_(INV.c.used_at.is_(None), INV.c.expires_at > to_utc(now))


class SqlReferrals:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_link(self, link: ReferralLink) -> None:
        if await self.link(link.code) is not None:
            raise ValueError("referral code exists")
        await self._conn.execute(
            insert(L).values(
                code=link.code,
                partnership=link.partnership,
                source=link.source,
                created_at=to_utc(link.created_at),
                expires_at=to_utc(link.expires_at) if link.expires_at else None,
            )
        )

    async def link(self, code: str) -> ReferralLink | None:
        row = (await self._conn.execute(select(L).where(L.c.code == code))).mappings().first()
        return None if row is None else _link(row)

    async def links(self, partnership: str | None = None) -> list[ReferralLink]:
        query = select(L).order_by(L.c.created_at, L.c.code)
        if partnership is not None:
            query = query.where(L.c.partnership == partnership)
        return [_link(r) for r in (await self._conn.execute(query)).mappings()]

    async def add_invite(
        self, code_hash: str, coach: str, partnership: str, now: datetime, expires_at: datetime
    ) -> None:
        await self._conn.execute(
            insert(INV).values(
                code_hash=code_hash,
                coach=coach,
                partnership=partnership,
                created_at=to_utc(now),
                expires_at=to_utc(expires_at),
            )
        )

    async def open_invite(
        self, code_hash: str, person: PersonId, now: datetime
    ) -> PersonalInvite | None:
        await self._conn.execute(
            update(INV)
            .where(INV.c.code_hash == code_hash, INV.c.opened_by.is_(None), _usable(now))
            .values(opened_by=person, opened_at=to_utc(now))
        )
        row = (
            (
                await self._conn.execute(
                    select(INV).where(
                        INV.c.code_hash == code_hash, INV.c.opened_by == person, _usable(now)
                    )
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _invite(row)

    async def opened_invite(self, person: PersonId, now: datetime) -> PersonalInvite | None:
        row = (
            (
                await self._conn.execute(
                    select(INV)
                    .where(INV.c.opened_by == person, _usable(now))
                    .order_by(INV.c.opened_at.desc(), INV.c.code_hash.desc())
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _invite(row)

    async def use_invite(self, code_hash: str, now: datetime) -> bool:
        result = await self._conn.execute(
            update(INV)
            .where(INV.c.code_hash == code_hash, INV.c.used_at.is_(None))
            .values(used_at=to_utc(now))
        )
        return bool(result.rowcount)

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
    ) -> int:
        result = await self._conn.execute(
            insert(A)
            .values(
                person=person,
                kind=kind,
                partnership=partnership,
                source=source,
                link_code=link_code,
                coach=coach,
                arrived_at=to_utc(now),
                case_made=False,
            )
            .returning(A.c.id)
        )
        return int(result.scalar_one())

    async def latest_arrival(self, person: PersonId) -> Arrival | None:
        row = (
            (
                await self._conn.execute(
                    select(A).where(A.c.person == person).order_by(A.c.id.desc()).limit(1)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _arrival(row)

    async def arrivals_of(self, person: PersonId) -> list[Arrival]:
        query = select(A).where(A.c.person == person).order_by(A.c.id)
        return [_arrival(r) for r in (await self._conn.execute(query)).mappings()]

    async def mark_submitted(self, arrival_id: int, now: datetime, case_id: str | None) -> None:
        values: dict[str, object] = {
            "submitted_at": func.coalesce(A.c.submitted_at, to_utc(now)),
        }
        if case_id is not None:
            values["case_id"] = case_id
            values["case_made"] = True
        await self._conn.execute(update(A).where(A.c.id == arrival_id).values(**values))

    async def source_counts(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        partnership: str | None = None,
    ) -> list[SourceCount]:
        query = select(
            A.c.kind,
            A.c.source,
            A.c.partnership,
            func.count().label("arrivals"),
            func.sum(case((A.c.submitted_at.is_not(None), 1), else_=0)).label("intakes"),
            func.sum(case((A.c.case_made, 1), else_=0)).label("cases"),
        ).group_by(A.c.kind, A.c.source, A.c.partnership)
        if since is not None:
            query = query.where(A.c.arrived_at >= to_utc(since))
        if until is not None:
            query = query.where(A.c.arrived_at < to_utc(until))
        if partnership is not None:
            query = query.where(A.c.partnership == partnership)
        rows = (await self._conn.execute(query)).mappings()
        found = [
            SourceCount(
                cast(ArrivalKind, r["kind"]),
                r["source"],
                r["partnership"],
                int(r["arrivals"]),
                int(r["intakes"] or 0),
                int(r["cases"] or 0),
            )
            for r in rows
        ]
        return sorted(found, key=lambda c: (c.kind, c.source, c.partnership))

    async def erase(self, person: PersonId) -> int:
        arrivals = await self._conn.execute(
            update(A).where(A.c.person == person).values(person=None, case_id=None)
        )
        invites = await self._conn.execute(
            update(INV).where(INV.c.opened_by == person).values(opened_by=None)
        )
        return int(arrivals.rowcount or 0) + int(invites.rowcount or 0)

    async def purge(self, arrived_before: datetime, expired_before: datetime) -> int:
        arrivals = await self._conn.execute(
            update(A)
            .where(
                A.c.arrived_at < to_utc(arrived_before),
                or_(A.c.person.is_not(None), A.c.case_id.is_not(None)),
            )
            .values(person=None, case_id=None)
        )
        invites = await self._conn.execute(
            delete(INV).where(INV.c.expires_at < to_utc(expired_before))
        )
        return int(arrivals.rowcount or 0) + int(invites.rowcount or 0)


SQL_ADAPTERS.register(REFERRALS_KEY, lambda c: SqlReferrals(c.conn))
