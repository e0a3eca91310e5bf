"""The reminder handler for ``appt:`` keys: lead reminders, the attendance question, the nudge.

Rules of this module:

* It is a :data:`bot.scheduler.ReminderHandler`: the tick has already applied quiet hours and
  the safety net's hold; this module only decides whether a due row still applies and says it.
* A row applies when :func:`flows.appointments.reminder_is_current` says so (same revision;
  for the young person's reminders: booked and not started). A lead reminder is also dropped
  when a shorter lead is due too (:func:`flows.appointments.lead_superseded`: after downtime
  only the last one goes). A young person marked unreachable gets nothing. Dropped rows count
  as handled: they are done, not failed.
* Wording: the first line of a lead reminder names neither the service nor a problem ("Je hebt
  morgen om 14:00 een afspraak."); the time is said relative to when it is sent, so a reminder
  that waited (quiet hours, a restart) still says the right day.
* Delivery errors propagate, so the tick retries the row with backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.appointments.booking import coach_button, young_button
from bot.appointments.context import AppointmentContext
from bot.service import OutgoingMessage
from flows.appointments import (
    AppointmentId,
    lead_superseded,
    parse_key,
    reminder_is_current,
)
from flows.ids import PersonId
from flows.text import Verbatim, msg
from storage.ports import ReminderRecord

log = logging.getLogger(__name__)


@dataclass
class AppointmentReminders:
    ctx: AppointmentContext

    async def on_reminder(self, reminder: ReminderRecord) -> bool:
        parsed = parse_key(reminder.key)
        if parsed is None:
            return False
        appointment_id, _, kind = parsed
        now = self.ctx.now()
        ctx = self.ctx
        async with ctx.service.storage.transaction() as tx:
            appointment = await tx.appointments.get(AppointmentId(appointment_id))
            if appointment is None or not reminder_is_current(appointment, reminder.key, now):
                log.info("appointment reminder stale id=%s", reminder.id)
                return True
            if lead_superseded(appointment, reminder.key, now, ctx.leads, ctx.tz):
                log.info("appointment reminder superseded id=%s", reminder.id)
                return True
            case = await tx.cases.get(appointment.case)
            if case is None:
                return True
            coach = await ctx.coach_of(tx, case, appointment)
            unreachable = await tx.reachability.get(appointment.person) is not None
            language = await ctx.language_of(tx, appointment.person, case.language)
        slot = appointment.slot
        first = coach.first_name if coach is not None else ""
        target: PersonId
        if kind == "attendance":
            if coach is None or coach.person is None or slot is None:
                return True
            target = coach.person
            buttons = (
                tuple(
                    (ctx.coach_label(f"coach.appt.{action}"), coach_button(appointment.id, action))
                    for action in ("came", "missed", "moved")
                ),
            )
            message = ctx.coach_say(
                "coach.appt.ask_attendance",
                buttons,
                case=case.id,
                name=ctx.young_name(case),
                when=Verbatim(ctx.when(slot.starts_at, "nl")),
            )
        elif unreachable:
            log.info("appointment reminder for an unreachable person id=%s", reminder.id)
            return True
        elif kind == "missed":
            target = appointment.person
            label = ctx.render(msg("appt.missed.button"), language)
            # The button names the revision: a second tap after the coach heard is stale.
            other = young_button(appointment.id, f"other:{appointment.revision}")
            message = ctx.say(
                language, msg("appt.missed", coach=Verbatim(first)), buttons=(((label, other),),)
            )
        elif slot is not None:
            target = appointment.person
            message = self.lead(
                appointment.id, slot.starts_at, ctx.place(slot, language, first), first, language
            )
        else:
            return True
        await ctx.service.deliver(target, [message])
        log.info(
            "appointment reminder sent id=%s appointment=%s kind=%s",
            reminder.id,
            appointment.id,
            kind.partition(":")[0],
        )
        return True

    def lead(
        self, appointment_id: int, starts_at: datetime, place: str, coach: str, language: str
    ) -> OutgoingMessage:
        ctx = self.ctx
        come = ctx.render(msg("appt.come.button"), language)
        cannot = ctx.render(msg("appt.cannot.button"), language)
        return ctx.say(
            language,
            msg("appt.reminder", when=Verbatim(ctx.when(starts_at, language))),
            msg("appt.reminder.detail", coach=Verbatim(coach), place=Verbatim(place)),
            buttons=(
                ((come, young_button(appointment_id, "come")),),
                ((cannot, young_button(appointment_id, "cannot")),),
            ),
        )
