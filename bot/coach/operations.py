"""The coach side's operations on a case, as plain functions for the dashboard and the chat.

Rules of this module:

* No Telegram objects in or out: ids and records in, a :class:`Done` out. The rules live in
  :mod:`bot.coach.handoff` and :mod:`bot.coach.relay` (capacity, the case's coach, offers and
  their reminders); these functions call them and send what they produce the way Telegram
  input does (:meth:`bot.coach.handoff.Handoff.send`). The acting coach's own confirmation goes
  to their chat when they have one, and is dropped otherwise.
* Whether an operation worked is read back from the stored case afterwards, never guessed
  from the answer texts.
* :meth:`CaseOperations.assign_to` hands a case to a named colleague at once (a coordinator's
  decision): open offers are withdrawn, a previous coach is told, the young person meets the
  new coach. A coach is never taken above capacity; a coach who is inactive, of another
  partnership or absent gets nothing.
* Closing and reopening act as the case's coach, so the young person hears their coach's name.
* :meth:`CaseOperations.set_absent` (absence mode, ``coaches.absent_until``): while absent a
  coach gets no offers and their open offers move on at once; open cases stay with them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.coach.handoff import Handoff, Outbox, case_prefix
from bot.coach.relay import Relay
from flows.ids import CaseId, CoachId
from flows.routing.outcomes import is_outcome
from flows.text import Verbatim
from storage.ports import Transaction
from storage.routing_port import CASE_OUTCOMES, CaseRecord, CoachRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Done:
    ok: bool
    case: CaseRecord | None
    """The case as stored after the operation (``None``: there is no such case)."""


@dataclass(frozen=True)
class Absence:
    ok: bool
    moved: tuple[CaseId, ...]
    """The cases whose open offer to the coach ended and moved on."""


@dataclass(frozen=True)
class CaseOperations:
    handoff: Handoff
    relay: Relay

    async def _case(self, case_id: CaseId) -> CaseRecord | None:
        async with self.handoff.service.storage.transaction() as tx:
            return await tx.cases.get(case_id)

    async def _coach(self, coach_id: CoachId) -> CoachRecord | None:
        async with self.handoff.service.storage.transaction() as tx:
            return await tx.coaches.get(coach_id)

    async def accept(self, case_id: CaseId, coach: CoachRecord) -> Done:
        """The coach takes the case: their open offer, or the case from the team queue."""
        await self.handoff.send(await self.handoff.accept_staged(coach, case_id))
        case = await self._case(case_id)
        return Done(case is not None and case.status == "open" and case.coach == coach.id, case)

    async def decline(self, case_id: CaseId, coach: CoachRecord) -> Done:
        """ "Niet voor mij": the case goes to the next one (or the team queue)."""
        async with self.handoff.service.storage.transaction() as tx:
            offers = await tx.cases.offers_of(case_id)
        held = any(o.status == "open" and o.coach == coach.id for o in offers)
        await self.handoff.send(await self.handoff.decline(coach, case_id))
        async with self.handoff.service.storage.transaction() as tx:
            after = await tx.cases.offers_of(case_id)
            case = await tx.cases.get(case_id)
        declined = any(o.status == "declined" and o.coach == coach.id for o in after)
        return Done(held and declined, case)

    async def close(self, case_id: CaseId, outcome: str) -> Done:
        """Close with one of :data:`flows.routing.outcomes.OUTCOMES`, as the case's coach."""
        case = await self._case(case_id)
        if case is None or case.coach is None or not is_outcome(outcome):
            return Done(False, case)
        coach = await self._coach(case.coach)
        if coach is None:
            return Done(False, case)
        chosen = next(o for o in CASE_OUTCOMES if o == outcome)
        await self.handoff.send(await self.relay.close(coach, case_id, chosen))
        after = await self._case(case_id)
        return Done(
            after is not None and after.status == "closed" and after.outcome == outcome, after
        )

    async def reopen(self, case_id: CaseId) -> Done:
        """Open a closed case again with its coach (else it goes round the partnership)."""
        now = self.handoff.service.clock.now()
        async with self.handoff.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            if case is None or case.status != "closed":
                return Done(False, case)
            await tx.cases.reopen(case.id, now)
            await tx.privacy.add_count(self.handoff.month(now), "cases.reopened")
            coach = await tx.coaches.get(case.coach) if case.coach is not None else None
            reopened = await tx.cases.get(case.id)
            assert reopened is not None
            if coach is not None and coach.active and coach.person is not None:
                name = Verbatim(self.handoff.writer.young_name(case.intake))
                note = self.handoff.writer.text("coach.reopened", case=case.id, name=name)
                outbox: Outbox = [(coach.person, self.handoff.writer.team(note))]
            else:
                outbox = await self.handoff.move_on(tx, reopened, now, told_before=True)
        log.info("case reopened by the team case=%s", case_id)
        await self.handoff.send(outbox)
        return Done(True, await self._case(case_id))

    async def set_absent(self, coach_id: CoachId, until: datetime | None) -> Absence:
        """Absence mode until ``until`` (``None``: back now). An absent coach gets no offers
        and loses open ones at once (they go to the next one); open cases stay theirs."""
        now = self.handoff.service.clock.now()
        async with self.handoff.service.storage.transaction() as tx:
            if await tx.coaches.get(coach_id) is None:
                return Absence(False, ())
            await tx.coaches.set_absent(coach_id, until)
            moved: list[CaseId] = []
            if until is not None and until > now:
                moved = await self.handoff.withdraw_offers(tx, coach_id, now)
        for case_id in moved:
            await self.handoff.retry(case_id)
        log.info("coach absence coach=%s away=%s moved=%d", coach_id, until is not None, len(moved))
        return Absence(True, tuple(moved))

    async def assign_to(self, case_id: CaseId, coach_id: CoachId) -> Done:
        """Hand the case to a named colleague (see the module rules)."""
        async with self.handoff.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            coach = await tx.coaches.get(coach_id)
            if case is None or coach is None or not await self._may_take(tx, case, coach):
                return Done(False, case)
            if case.status == "open" and case.coach == coach.id:
                return Done(True, case)
            outbox = await self._assign(tx, case, coach)
        await self.handoff.send(outbox)
        await self.handoff.tidy_cards(case_id)
        log.info("case assigned by the team case=%s coach=%s", case_id, coach_id)
        return Done(True, await self._case(case_id))

    async def _may_take(self, tx: Transaction, case: CaseRecord, coach: CoachRecord) -> bool:
        if case.status == "closed" or not coach.active or coach.partnership != case.partnership:
            return False
        now = self.handoff.service.clock.now()
        if coach.is_absent(now):
            return False
        if coach.role == "coach" and not (case.status == "open" and case.coach == coach.id):
            held = any(
                o.status == "open" and o.coach == coach.id
                for o in await tx.cases.offers_of(case.id)
            )
            load = (await tx.cases.loads((coach.id,)))[coach.id] - (1 if held else 0)
            if load >= coach.capacity:
                return False
        return True

    async def _assign(self, tx: Transaction, case: CaseRecord, coach: CoachRecord) -> Outbox:
        now = self.handoff.service.clock.now()
        writer = self.handoff.writer
        outbox: Outbox = []
        for offer in await tx.cases.offers_of(case.id):
            if offer.status == "open":
                await tx.cases.answer_offer(offer.id, "withdrawn", now)
        previous = (
            await tx.coaches.get(case.coach)
            if (case.status == "open" and case.coach is not None and case.coach != coach.id)
            else None
        )
        if previous is not None:
            if previous.current_case == case.id:
                await tx.coaches.set_current_case(previous.id, None)
            if previous.person is not None:
                outbox.append(
                    (
                        previous.person,
                        writer.say("coach.reassigned", case=case.id),
                    )
                )
        await tx.privacy.record_access(case.person, case.partnership, coach.id, "received", now)
        await tx.cases.accept(case.id, coach.id, now)
        await tx.coaches.set_current_case(coach.id, case.id)
        await tx.reminders.cancel(case.person, case_prefix(case.id))
        waiting = [
            m
            for m in await tx.cases.messages_of(case.id)
            if m.direction == "to_coach" and not m.delivered
        ]
        await tx.cases.mark_delivered(tuple(m.id for m in waiting))
        if coach.person is not None:
            name = Verbatim(writer.young_name(case.intake))
            me = coach.person
            outbox.append((me, writer.say("coach.assigned", case=case.id, name=name)))
            outbox += [(me, m) for m in writer.details(case)]
            outbox += [
                (
                    me,
                    writer.say("coach.from_young", case=case.id, name=name, text=Verbatim(m.text)),
                )
                for m in waiting
            ]
        outbox.append((case.person, self.handoff.welcome(case, coach)))
        return outbox
