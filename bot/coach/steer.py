"""Steering a case by hand: offer it to a named coach (a coordinator's choice, or a coach who
takes a case from the team queue).

Rules of this module:

* Plain functions on the handoff's own parts, so the dashboard (and later any channel) calls
  them and the rules stay those of :mod:`bot.coach.handoff`: an offer has a deadline in working
  hours with its ``handoff.<case>.offer.<offer>`` reminder, the coach gets the card, and the
  coach still accepts (:meth:`bot.coach.handoff.Handoff.accept`), which keeps the capacity rule.
* Offering withdraws every other open offer of the case (as expired: the coach's card says the
  case moved on) and cancels the case's handoff reminders, in the same transaction.
* A closed case is not offered; reopen it first. An inactive coach gets nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.coach.handoff import Handoff, Outbox, case_prefix, offer_key
from bot.service import OutgoingMessage
from flows.ids import CaseId
from flows.session import JsonValue
from storage.ports import CaseRecord, CoachRecord, Transaction

log = logging.getLogger(__name__)


class CannotOffer(ValueError):
    """The case or the coach does not allow an offer now (closed case, inactive coach)."""


async def offer_to(handoff: Handoff, tx: Transaction, case: CaseRecord, coach: CoachRecord,
                   now: datetime) -> Outbox:
    """Offer ``case`` to ``coach`` (see the module rules); the outbox goes after the commit."""
    if case.status == "closed":
        raise CannotOffer("closed")
    if not coach.active or coach.partnership != case.partnership:
        raise CannotOffer("coach")
    partnership = handoff.directory.partnership(case.partnership)
    if partnership is None:
        raise CannotOffer("partnership")
    await tx.reminders.cancel(case.person, case_prefix(case.id))
    outbox: Outbox = []
    for offer in await tx.cases.offers_of(case.id):
        if offer.status != "open":
            continue
        await tx.cases.answer_offer(offer.id, "expired", now)
        previous = await tx.coaches.get(offer.coach)
        if previous is not None and previous.person is not None and previous.id != coach.id:
            outbox.append((previous.person, OutgoingMessage(
                handoff.writer.text("coach.moved", case=case.id)
            )))
    load = (await tx.cases.loads((coach.id,)))[coach.id]
    due = handoff._deadline(now, partnership, coach)
    # "load" is how a choice by hand reads on the card: the coordinator looked at the loads.
    reasons: dict[str, JsonValue] = {
        "decided_by": "load", "load": load, "capacity": coach.capacity, "by_hand": True,
    }
    offer = await tx.cases.add_offer(case.id, coach.id, reasons, now, due)
    await tx.cases.set_status(case.id, "offered", now)
    await tx.coaches.mark_assigned(coach.id, now)
    await tx.reminders.schedule(case.person, offer_key(case.id, offer.id), due, 0)
    await tx.privacy.record_access(case.person, case.partnership, coach.id, "received", now)
    log.info("case offered by hand case=%s offer=%s coach=%s", case.id, offer.id, coach.id)
    fresh = await tx.cases.get(case.id)
    return outbox + handoff._card(fresh or case, offer, coach)


async def take(handoff: Handoff, coach: CoachRecord, case_id: CaseId) -> Outbox:
    """``coach`` takes the case: the handoff's own acceptance, which claims a case from the
    team queue (waiting or escalated) or takes the coach's own offer; a case offered to a
    colleague is offered to this coach first."""
    now = handoff.service.clock.now()
    async with handoff.service.storage.transaction() as tx:
        case = await tx.cases.get(case_id)
        if case is None:
            raise CannotOffer("case")
        mine = any(o.status == "open" and o.coach == coach.id
                   for o in await tx.cases.offers_of(case.id))
        claimable = case.status in ("waiting", "escalated")
        outbox: Outbox = (
            [] if mine or claimable else await offer_to(handoff, tx, case, coach, now)
        )
    # The card for the coach who takes it is superfluous: they are accepting right now.
    outbox = [(p, m) for p, m in outbox if p != coach.person]
    return outbox + await handoff.accept(coach, case_id)
