"""SQL adapter of :class:`storage.case_team.CaseTeamRepository` (SQLite and PostgreSQL).

Rules of this module (those of :mod:`storage.sql` apply): an answer is a compare-and-set on the
status it expects.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.ids import CaseId, CoachId, PersonId
from storage.assembly import SQL_ADAPTERS
from storage.case_team import CASE_MEMBERS
from storage.case_team_port import CASE_TEAM_KEY, CaseMember, CaseMemberStatus
from storage.codec import to_utc
from storage.routing import CASES

T = CASE_MEMBERS


def _member(row: RowMapping) -> CaseMember:
    return CaseMember(
        id=int(row["id"]),
        case_id=CaseId(str(row["case_id"])),
        person=PersonId(row["person"]),
        coach=CoachId(row["coach"]),
        asked_by=CoachId(row["asked_by"]),
        status=cast(CaseMemberStatus, row["status"]),
        asked_at=row["asked_at"],
        answered_at=row["answered_at"],
    )


class SqlCaseTeam:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def ask(
        self, case_id: CaseId, person: PersonId, coach: CoachId, asked_by: CoachId, now: datetime
    ) -> int:
        if not case_id.isdigit():
            raise ValueError("a case id is a number")
        result = await self._conn.execute(
            T.insert()
            .values(
                case_id=int(case_id),
                person=person,
                coach=coach,
                asked_by=asked_by,
                status="asked",
                asked_at=to_utc(now),
            )
            .returning(T.c.id)
        )
        return int(result.scalar_one())

    async def get(self, member_id: int) -> CaseMember | None:
        result = await self._conn.execute(select(T).where(T.c.id == member_id))
        row = result.mappings().first()
        return None if row is None else _member(row)

    async def of_case(self, case_id: CaseId) -> list[CaseMember]:
        if not case_id.isdigit():
            return []
        result = await self._conn.execute(
            select(T).where(T.c.case_id == int(case_id)).order_by(T.c.id)
        )
        return [_member(row) for row in result.mappings()]

    async def answer(
        self,
        member_id: int,
        status: CaseMemberStatus,
        now: datetime,
        *,
        expected: CaseMemberStatus,
    ) -> bool:
        result = await self._conn.execute(
            update(T)
            .where(T.c.id == member_id, T.c.status == expected)
            .values(status=status, answered_at=to_utc(now))
        )
        return bool(result.rowcount)

    async def of_person(self, person: PersonId) -> list[CaseMember]:
        result = await self._conn.execute(select(T).where(T.c.person == person).order_by(T.c.id))
        return [_member(row) for row in result.mappings()]

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(T).where(T.c.person == person))
        return int(result.rowcount or 0)

    async def purge_orphans(self) -> int:
        result = await self._conn.execute(delete(T).where(T.c.case_id.not_in(select(CASES.c.id))))
        return int(result.rowcount or 0)


SQL_ADAPTERS.register(CASE_TEAM_KEY, lambda c: SqlCaseTeam(c.conn))
