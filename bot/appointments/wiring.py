"""Installing the appointment feature on a conversation service (called from ``bot/runtime.py``).

Rules: every hook is set here, in one place: the young person's and the coach's service-level
buttons (``appt``, ``followup``, ``rerate``, ``apb``, ``apc``), the follow-up planning chained
behind the handoff's ``SubmitIntake`` hook, the ``appointments``, ``ratings`` and
``reachability`` parts of the personal data registry. The runtime hands
:attr:`AppointmentSide.handlers` to the tick, :attr:`AppointmentSide.desk` to the coach desk
(``CoachDesk.extensions``) and the reachability hooks to the Telegram front door.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.appointments.booking import COACH, DRAFT, YOUNG, Booking
from bot.appointments.context import AppointmentContext, Holidays
from bot.appointments.followups import CHECKIN, RERATE, FollowUps
from bot.appointments.reachability import Reachability
from bot.appointments.reminders import AppointmentReminders
from bot.coach.desk import CaseMoment
from bot.coach.handoff import Outbox
from bot.routing.gazetteer import belgian_public_holidays, load_directory
from bot.scheduler import ReminderHandler
from bot.service import ConversationService, OutgoingMessage
from bot.settings import Settings
from flows.effects import Effect, SubmitIntake
from flows.ids import CaseId
from flows.inputs import CommandReceived
from flows.routing.directory import Directory
from flows.session import Session
from storage.appointments import AppointmentPart, RatingPart, ReachabilityPart
from storage.ports import CoachRecord, Transaction

COMMANDS = frozenset({"afspraak", "appointment"})


@dataclass
class AppointmentDesk:
    """The appointment feature's part of the coach desk (``bot.coach.desk.DeskExtension``)."""

    booking: Booking
    followups: FollowUps
    commands: frozenset[str] = COMMANDS

    async def command(self, coach: CoachRecord, command: CommandReceived) -> Outbox:
        return await self.booking.command(coach, command.args)

    async def after(self, coach: CoachRecord, case_id: CaseId, moment: CaseMoment,
                    outbox: Outbox) -> Outbox:
        if moment == "closed":
            return outbox + await self.followups.case_closed(coach, case_id)
        ctx = self.booking.ctx
        async with ctx.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            if case is None or case.status != "open" or case.coach != coach.id:
                return outbox
            lines = await self.followups.case_lines(tx, case, coach) if moment == "viewed" else []
        button = self.booking.new_button(case.id)
        mine = [i for i, (p, m) in enumerate(outbox) if p == coach.person and not m.buttons]
        if not mine:
            return outbox
        # The button goes under the desk's own answer ("Dossier #n is van jou", "/case n").
        index = mine[0]
        person, message = outbox[index]
        text = "\n".join([message.text, *lines])
        changed = OutgoingMessage(text, button, prompt=message.prompt, rtl=message.rtl,
                                  team=message.team)
        return [*outbox[:index], (person, changed), *outbox[index + 1:]]


@dataclass(frozen=True)
class AppointmentSide:
    context: AppointmentContext
    booking: Booking
    reminders: AppointmentReminders
    followups: FollowUps
    reachability: Reachability
    desk: AppointmentDesk

    @property
    def handlers(self) -> tuple[ReminderHandler, ...]:
        """The tick's handlers for ``appt:`` and ``followup.`` keys."""
        return (self.reminders.on_reminder, self.followups.on_reminder)


def install_appointments(
    service: ConversationService,
    settings: Settings,
    *,
    directory: Directory | None = None,
    holidays: Holidays = belgian_public_holidays,
) -> AppointmentSide:
    context = AppointmentContext(
        service,
        directory if directory is not None else load_directory(),
        holidays,
        leads=settings.reminder_leads,
        timezone=settings.timezone,
        checkin_days=settings.checkin_days,
    )
    booking = Booking(context)
    reminders = AppointmentReminders(context)
    follow = FollowUps(context, booking)
    reachability = Reachability(context)
    service.button_handlers[YOUNG] = booking.on_young_button
    service.button_handlers[DRAFT] = booking.on_coach_button
    service.button_handlers[COACH] = booking.on_coach_button
    service.button_handlers[CHECKIN] = follow.on_checkin_button
    service.button_handlers[RERATE] = follow.on_rerate_button
    handoff = service.effect_hooks.get(SubmitIntake)

    async def on_submit(tx: Transaction, session: Session, effect: Effect, now: datetime
                        ) -> None:
        # The handoff makes (or refreshes) the case first; the follow-ups are planned on it.
        if handoff is not None:
            await handoff(tx, session, effect, now)
        await follow.on_submit(tx, session, effect, now)

    service.effect_hooks[SubmitIntake] = on_submit
    service.storage.personal_data_parts.extend(
        [AppointmentPart(), RatingPart(), ReachabilityPart()]
    )
    return AppointmentSide(context, booking, reminders, follow, reachability,
                           AppointmentDesk(booking, follow))
