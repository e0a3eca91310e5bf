"""A young person who blocked the bot: stop what would go to them and tell their coach.

Rules of this module:

* Telegram says so twice: a ``my_chat_member`` update (kicked) and a 403 Forbidden on a send.
  Both reach :meth:`Reachability.blocked` (``TelegramFrontDoor.on_blocked`` and the channel's
  Forbidden path); marking is idempotent, so the coach is told once.
* What stops: every pending reminder that would message the young person (appointment lead
  reminders and nudges, follow-ups, the intake's own nudges). What goes on: the team's own
  rows (an offer's deadline, a safety escalation, the coach's attendance question), so a case
  and a safety concern are never dropped because a phone blocked a bot.
* A coach's chat blocking the bot is not a young person: nothing is marked.
* The mark goes when the young person comes back (``my_chat_member``: member again, or any
  appointment or follow-up button pressed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.appointments.context import AppointmentContext
from bot.coach.handoff import Outbox
from flows.ids import PersonId
from storage.routing_port import CoachRecord

log = logging.getLogger(__name__)

# Reminders of the team's work, which go on when a young person cannot be reached.
TEAM_PREFIXES = ("handoff.", "safety.")
TEAM_SUFFIXES = (":attendance",)


def reaches_the_young_person(key: str) -> bool:
    return not key.startswith(TEAM_PREFIXES) and not key.endswith(TEAM_SUFFIXES)


def telegram_person(chat_id: int) -> PersonId:
    return PersonId(f"tg:{chat_id}")


@dataclass
class Reachability:
    ctx: AppointmentContext

    async def blocked_chat(self, chat_id: int) -> None:
        """``TelegramFrontDoor.on_blocked``."""
        await self.blocked(telegram_person(chat_id))

    async def unblocked_chat(self, chat_id: int) -> None:
        """``TelegramFrontDoor.on_unblocked``."""
        await self.reachable(telegram_person(chat_id))

    async def blocked(self, person: PersonId) -> None:
        now = self.ctx.now()
        outbox: Outbox = []
        async with self.ctx.service.storage.transaction() as tx:
            if await tx.coaches.by_person(person) is not None:
                return
            if not await tx.reachability.mark_unreachable(person, now):
                return
            stopped = 0
            for reminder in await tx.reminders.pending(person):
                if reaches_the_young_person(reminder.key):
                    stopped += await tx.reminders.cancel(person, reminder.key)
            told: set[str] = set()
            for case in await tx.cases.all_of(person):
                if case.status != "open" or case.coach is None or case.coach in told:
                    continue
                coach: CoachRecord | None = await tx.coaches.get(case.coach)
                if coach is None or coach.person is None:
                    continue
                told.add(coach.id)
                outbox.append(
                    (
                        coach.person,
                        self.ctx.coach_say(
                            "coach.appt.unreachable",
                            case=case.id,
                            name=self.ctx.young_name(case),
                        ),
                    )
                )
        log.info(
            "young person unreachable person=%s reminders_stopped=%d coaches=%d",
            person,
            stopped,
            len(outbox),
        )
        await self.ctx.send(outbox)

    async def reachable(self, person: PersonId) -> None:
        async with self.ctx.service.storage.transaction() as tx:
            back = await tx.reachability.mark_reachable(person)
        if back:
            log.info("young person reachable again person=%s", person)
