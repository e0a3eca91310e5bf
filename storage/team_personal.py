"""The :class:`storage.ports.PersonalData` part of the team dashboard (notes, audit, sessions).

Rules of this module (those of :mod:`storage.personal` apply); registered on
``storage.personal_data_parts`` by the dashboard feature (:class:`bot.team.feature.TeamDashboard`,
``registry.personal_data``):

* Export: the internal notes on the person's cases and who viewed or changed those cases
  (the audit rows: when, which action, which account), so a young person can see who looked.
* Erase: the notes of the person's cases. The audit rows stay (append-only: they name the
  case number and the team member, nothing the young person said, and the case is gone).
* Retention: audit rows ``RetentionPolicy.closed_months`` after they were written; web
  sessions after 12 hours; login attempts after a day. Notes go with their case.
* Off SQL (the memory store of conversation tests) the part has nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flows.ids import PersonId
from flows.session import JsonValue
from storage.personal import iso
from storage.ports import RetentionPolicy, Transaction
from storage.team_sql import team_of

SESSIONS_KEPT = timedelta(hours=12)
ATTEMPTS_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class TeamPart:
    name: str = "team"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        team = team_of(tx)
        if team is None:
            return {"notes": [], "access": []}
        case_ids = tuple(c.id for c in await tx.cases.all_of(person))
        notes: list[JsonValue] = [
            {"case": n.case, "author": n.author, "text": n.text, "at": iso(n.at)}
            for n in await team.notes_of_cases(case_ids)
        ]
        access: list[JsonValue] = [
            {"case": a.case, "who": a.actor, "action": a.action, "at": iso(a.at)}
            for a in await team.audit_of_cases(case_ids)
        ]
        return {"notes": notes, "access": access}

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        team = team_of(tx)
        if team is None:
            return 0
        case_ids = tuple(c.id for c in await tx.cases.all_of(person))
        return await team.erase_notes_of_cases(case_ids)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        team = team_of(tx)
        if team is None:
            return 0
        purged = await team.purge_audit(policy.closed_before(now))
        purged += await team.purge_sessions(now - SESSIONS_KEPT, now - SESSIONS_KEPT)
        purged += await team.purge_attempts(now - ATTEMPTS_KEPT)
        return purged

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        # Notes are the team's own working notes, not answers given under a consent.
        return 0
