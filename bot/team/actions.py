"""What the dashboard's buttons do: the coach side's own operations, called from the web.

Rules of this module:

* No case rule lives here. Accept, assign to a named colleague, close and reopen are
  :class:`bot.coach.operations.CaseOperations`; proposals and attendance are the booking's
  (:meth:`bot.appointments.booking.Booking.propose_for`, ``coach_answer``). Those operations
  check the case's coach, status and capacity themselves and send what they produce.
* The booking answers the acting coach in their chat: from the web, their Telegram chat when
  they have one (they see there what they did here), none otherwise. What a proposal or an
  attendance causes, for the coach and the young person alike, is written to the outbox with
  the change (:mod:`bot.outbox`) and sent after its commit, as from Telegram.
* Who acts: a coach acts as themselves; a coordinator acts on a case as the case's coach (the
  young person hears that coach's name, as before). Whether it worked is read back from the
  stored case or appointment afterwards, never guessed from the answer texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Literal

from bot.appointments.booking import Booking
from bot.coach.handoff import Handoff
from bot.coach.operations import CaseOperations
from bot.coach.relay import Relay
from flows.appointments import AppointmentId
from flows.booking import Draft, Option
from flows.ids import CaseId
from storage.routing_port import CaseRecord, CoachRecord

Result = Literal["ok", "refused"]


def _result(ok: bool) -> Result:
    return "ok" if ok else "refused"


@dataclass(frozen=True)
class TeamActions:
    handoff: Handoff
    relay: Relay
    booking: Booking | None

    @property
    def operations(self) -> CaseOperations:
        return CaseOperations(self.handoff, self.relay)

    async def accept(self, coach: CoachRecord, case_id: CaseId) -> Result:
        """The coach's own offer, or a case from the team queue."""
        return _result((await self.operations.accept(case_id, coach)).ok)

    async def assign(self, case: CaseRecord, coach: CoachRecord) -> Result:
        return _result((await self.operations.assign_to(case.id, coach.id)).ok)

    async def close(self, case_id: CaseId, outcome: str) -> Result:
        return _result((await self.operations.close(case_id, outcome)).ok)

    async def reopen(self, case: CaseRecord) -> Result:
        return _result((await self.operations.reopen(case.id)).ok)

    async def propose(
        self, coach: CoachRecord, case: CaseRecord, options: list[tuple[date, time, str]]
    ) -> Result:
        if self.booking is None or not options:
            return "refused"
        draft = Draft(case.id, tuple(Option(day, at, place) for day, at, place in options[:3]))
        async with self.handoff.service.storage.transaction() as tx:
            before = len(await tx.appointments.of_case(case.id))
        await self.handoff.send(await self.booking.propose_for(coach, case, draft))
        async with self.handoff.service.storage.transaction() as tx:
            after = len(await tx.appointments.of_case(case.id))
        return _result(after > before)

    async def attendance(
        self, coach: CoachRecord, case: CaseRecord, appointment_id: int, action: str
    ) -> Result:
        if self.booking is None or action not in ("came", "missed", "moved", "cancel"):
            return "refused"
        async with self.handoff.service.storage.transaction() as tx:
            before = await tx.appointments.get(AppointmentId(appointment_id))
        if before is None or before.case != case.id:
            return "refused"
        await self.handoff.send(await self.booking.coach_answer(coach, appointment_id, action))
        async with self.handoff.service.storage.transaction() as tx:
            after = await tx.appointments.get(AppointmentId(appointment_id))
        changed = after is not None and (after.status, after.revision) != (
            before.status,
            before.revision,
        )
        return _result(changed)
