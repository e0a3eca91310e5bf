"""What the dashboard's buttons do: the coach side's own operations, called from the web.

Rules of this module:

* No case rule lives here. Accepting is :meth:`bot.coach.handoff.Handoff.accept` (after
  :func:`bot.coach.steer.take` when the case is not offered to this coach), offering to a named
  coach is :func:`bot.coach.steer.offer_to`, closing and reopening are the relay's, proposals and
  attendance the booking's. Those operations check the case's coach and status themselves.
* They answer the acting coach in their chat; from the web the acting coach's chat is
  :data:`WEB`: those answers go to the coach's Telegram chat when they have one (they see there
  what they did here), and are dropped otherwise. Everything to the young person and to other
  coaches goes out as it would from Telegram.
* Who acts: a coach acts as themselves; a coordinator acts on a case as the case's coach (the
  young person hears that coach's name, as before). Whether it worked is read back from the
  stored case or appointment afterwards, never guessed from the answer texts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, time
from typing import Literal

from bot.appointments.booking import Booking
from bot.coach.handoff import Handoff, Outbox
from bot.coach.relay import Relay
from bot.coach.steer import CannotOffer, offer_to, take
from flows.appointments import AppointmentId
from flows.booking import Draft, Option
from flows.ids import CaseId, CoachId, PersonId
from storage.ports import CASE_OUTCOMES, CaseOutcome, CaseRecord, CoachRecord

WEB = PersonId("team:web")

Result = Literal["ok", "refused"]


def as_web(coach: CoachRecord) -> CoachRecord:
    return replace(coach, person=WEB)


@dataclass(frozen=True)
class TeamActions:
    handoff: Handoff
    relay: Relay
    booking: Booking | None

    async def _send(self, outbox: Outbox, coach: CoachRecord) -> None:
        real = coach.person
        out: Outbox = []
        for person, message in outbox:
            if person == WEB:
                if real is not None:
                    out.append((real, message))
            else:
                out.append((person, message))
        await self.handoff.send(out)

    async def _case(self, case_id: CaseId) -> CaseRecord | None:
        async with self.handoff.service.storage.transaction() as tx:
            return await tx.cases.get(case_id)

    async def accept(self, coach: CoachRecord, case_id: CaseId) -> Result:
        try:
            outbox = await take(self.handoff, as_web(coach), case_id)
        except CannotOffer:
            return "refused"
        await self._send(outbox, coach)
        case = await self._case(case_id)
        return "ok" if case is not None and case.status == "open" and case.coach == coach.id \
            else "refused"

    async def assign(self, case: CaseRecord, coach: CoachRecord) -> Result:
        now = self.handoff.service.clock.now()
        try:
            async with self.handoff.service.storage.transaction() as tx:
                fresh = await tx.cases.get(case.id)
                if fresh is None:
                    return "refused"
                outbox = await offer_to(self.handoff, tx, fresh, coach, now)
        except CannotOffer:
            return "refused"
        await self.handoff.send(outbox)
        return "ok"

    async def close(self, coach: CoachRecord, case_id: CaseId, outcome: str) -> Result:
        chosen = _outcome(outcome)
        if chosen is None:
            return "refused"
        outbox = await self.relay.close(as_web(coach), case_id, chosen)
        await self._send(outbox, coach)
        case = await self._case(case_id)
        return "ok" if case is not None and case.status == "closed" else "refused"

    async def reopen(self, case: CaseRecord) -> Result:
        async with self.handoff.service.storage.transaction() as tx:
            latest = await tx.cases.latest_of(case.person)
        if latest is None or latest.id != case.id or case.status != "closed":
            # The relay reopens the young person's latest case; an older one stays closed.
            return "refused"
        outbox = await self.relay.reopen(case.person, case.language)
        await self.handoff.send(outbox)
        fresh = await self._case(case.id)
        return "ok" if fresh is not None and fresh.status != "closed" else "refused"

    async def propose(self, coach: CoachRecord, case: CaseRecord,
                      options: list[tuple[date, time, str]]) -> Result:
        if self.booking is None or not options:
            return "refused"
        draft = Draft(case.id, tuple(Option(day, at, place) for day, at, place in options[:3]))
        async with self.handoff.service.storage.transaction() as tx:
            before = len(await tx.appointments.of_case(case.id))
        outbox = await self.booking.propose_for(as_web(coach), case, draft)
        await self._send(outbox, coach)
        async with self.handoff.service.storage.transaction() as tx:
            after = len(await tx.appointments.of_case(case.id))
        return "ok" if after > before else "refused"

    async def attendance(self, coach: CoachRecord, case: CaseRecord, appointment_id: int,
                         action: str) -> Result:
        if self.booking is None or action not in ("came", "missed", "moved", "cancel"):
            return "refused"
        async with self.handoff.service.storage.transaction() as tx:
            before = await tx.appointments.get(AppointmentId(appointment_id))
        if before is None or before.case != case.id:
            return "refused"
        outbox = await self.booking.coach_answer(as_web(coach), appointment_id, action)
        await self._send(outbox, coach)
        async with self.handoff.service.storage.transaction() as tx:
            after = await tx.appointments.get(AppointmentId(appointment_id))
        changed = after is not None and (after.status, after.revision) != (
            before.status, before.revision)
        return "ok" if changed else "refused"


def _outcome(value: str) -> CaseOutcome | None:
    for outcome in CASE_OUTCOMES:
        if outcome == value:
            return outcome
    return None


def coach_id(value: str) -> CoachId:
    return CoachId(value)
