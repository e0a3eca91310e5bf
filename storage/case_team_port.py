"""The case team's port: members of a case and their repository.

Technology-free (no SQL, no memory adapter): records, the ``Protocol`` and its
:class:`storage.assembly.RepositoryKey`. Never imports :mod:`storage.ports` (which imports the
keys here for the transaction's typed attributes); the tables live in ``storage/case_team.py``,
the adapters in ``storage/case_team_sql.py`` and ``storage/case_team_memory.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, get_args

from flows.ids import CaseId, CoachId, PersonId
from storage.assembly import RepositoryKey

# --- the case team -------------------------------------------------------------------------

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


class CaseTeamRepository(Protocol):
    async def ask(
        self, case_id: CaseId, person: PersonId, coach: CoachId, asked_by: CoachId, now: datetime
    ) -> int: ...

    async def get(self, member_id: int) -> CaseMember | None: ...

    async def of_case(self, case_id: CaseId) -> list[CaseMember]: ...

    async def answer(
        self,
        member_id: int,
        status: CaseMemberStatus,
        now: datetime,
        *,
        expected: CaseMemberStatus,
    ) -> bool:
        """Compare-and-set from ``expected``; ``False`` when it moved meanwhile."""
        ...

    async def of_person(self, person: PersonId) -> list[CaseMember]: ...

    async def erase(self, person: PersonId) -> int: ...

    async def purge_orphans(self) -> int: ...


CASE_TEAM_KEY: RepositoryKey[CaseTeamRepository] = RepositoryKey("case_team")
