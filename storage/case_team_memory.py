"""In-memory adapter of :class:`storage.case_team.CaseTeamRepository`, for fast service tests.

Rules of this module (those of :mod:`storage.memory` apply): the same contract as
:mod:`storage.case_team_sql`; a member whose case is gone is not found (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flows.ids import CaseId, CoachId, PersonId
from storage.assembly import MEMORY_ADAPTERS
from storage.case_team_port import CASE_TEAM_KEY, CaseMember, CaseMemberStatus
from storage.codec import to_utc
from storage.relay_files_memory import RelayFilesState
from storage.routing_memory import RoutingState


class MemoryCaseTeam:
    def __init__(self, state: RelayFilesState, routing: RoutingState) -> None:
        self._state = state
        self._routing = routing

    def _live(self) -> list[CaseMember]:
        return [
            m
            for _, m in sorted(self._state.members.items())
            if m.case_id.isdigit() and int(m.case_id) in self._routing.cases
        ]

    async def ask(
        self, case_id: CaseId, person: PersonId, coach: CoachId, asked_by: CoachId, now: datetime
    ) -> int:
        if not case_id.isdigit() or int(case_id) not in self._routing.cases:
            raise ValueError("no such case")
        member_id = self._state.next_member
        self._state.next_member += 1
        self._state.members[member_id] = CaseMember(
            member_id, case_id, person, coach, asked_by, "asked", to_utc(now)
        )
        return member_id

    async def get(self, member_id: int) -> CaseMember | None:
        return next((m for m in self._live() if m.id == member_id), None)

    async def of_case(self, case_id: CaseId) -> list[CaseMember]:
        return [m for m in self._live() if m.case_id == case_id]

    async def answer(
        self,
        member_id: int,
        status: CaseMemberStatus,
        now: datetime,
        *,
        expected: CaseMemberStatus,
    ) -> bool:
        found = self._state.members.get(member_id)
        if found is None or found.status != expected:
            return False
        self._state.members[member_id] = replace(found, status=status, answered_at=to_utc(now))
        return True

    async def of_person(self, person: PersonId) -> list[CaseMember]:
        return [m for m in self._live() if m.person == person]

    async def erase(self, person: PersonId) -> int:
        gone = [i for i, m in self._state.members.items() if m.person == person]
        for member_id in gone:
            del self._state.members[member_id]
        return len(gone)

    async def purge_orphans(self) -> int:
        live = {m.id for m in self._live()}
        gone = [i for i in self._state.members if i not in live]
        for member_id in gone:
            del self._state.members[member_id]
        return len(gone)


MEMORY_ADAPTERS.register(
    CASE_TEAM_KEY,
    lambda c: MemoryCaseTeam(c.state.part(RelayFilesState), c.state.part(RoutingState)),
)
