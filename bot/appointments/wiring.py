"""The appointment feature (:mod:`bot.plugins`).

Rules: :meth:`AppointmentSide.register` is the only place the feature plugs in: the young
person's and the coach's service-level buttons (``appt``, ``followup``, ``rerate``, ``apb``,
``apc``), the follow-up planning as its own ``SubmitIntake`` hook (registered after the coach
side, so the case the handoff made in the same transaction is there: the runtime lists the
features in that order), the tick's handlers for ``appt:`` and ``followup.`` keys, its part of
the coach desk (``CoachDesk.extensions``) and the ``appointments``, ``ratings`` and
``reachability`` parts of the personal data registry. The runtime hands the reachability
hooks to the Telegram front door.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.appointments.booking import COACH, DRAFT, YOUNG, Booking
from bot.appointments.context import AppointmentContext, Holidays
from bot.appointments.followups import CHECKIN, RERATE, FollowUps
from bot.appointments.reachability import Reachability
from bot.appointments.reminders import AppointmentReminders
from bot.coach.desk import CaseMoment, CoachDesk
from bot.coach.handoff import Outbox
from bot.plugins import Registry
from bot.routing.gazetteer import belgian_public_holidays, load_directory
from bot.scheduler import ReminderHandler
from bot.service import ConversationService
from bot.settings import Settings
from flows.effects import SubmitIntake
from flows.ids import CaseId
from flows.inputs import CommandReceived
from flows.routing.directory import Directory
from storage.appointments import AppointmentPart, RatingPart, ReachabilityPart
from storage.routing_port import CaseRecord, CoachRecord

COMMANDS = frozenset({"afspraak", "appointment"})


@dataclass
class AppointmentDesk:
    """The appointment feature's part of the coach desk (``bot.coach.desk.DeskExtension``)."""

    booking: Booking
    followups: FollowUps
    commands: frozenset[str] = COMMANDS

    async def command(self, coach: CoachRecord, command: CommandReceived) -> Outbox:
        return await self.booking.command(coach, command.args)

    async def after(
        self, coach: CoachRecord, case_id: CaseId, moment: CaseMoment, outbox: Outbox
    ) -> Outbox:
        if moment == "closed":
            return outbox + await self.followups.case_closed(coach, case_id)
        ctx = self.booking.ctx
        async with ctx.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            if case is None or case.status != "open" or case.coach != coach.id:
                return outbox
            lines = await self.followups.case_lines(tx, case, coach) if moment == "viewed" else []
        return self._under_answer(case, coach, outbox, lines)

    def accepted(self, case: CaseRecord, coach: CoachRecord, outbox: Outbox) -> Outbox:
        """``AcceptDecorator``: the "Afspraak maken" button under "is van jou", added in the
        accepting transaction (so the outbox holds the answer as the coach sees it)."""
        return self._under_answer(case, coach, outbox, [])

    def _under_answer(
        self, case: CaseRecord, coach: CoachRecord, outbox: Outbox, lines: list[str]
    ) -> Outbox:
        button = self.booking.new_button(case.id)
        mine = [i for i, (p, m) in enumerate(outbox) if p == coach.person and not m.buttons]
        if not mine:
            return outbox
        # The button goes under the desk's own answer ("Dossier #n is van jou", "/case n").
        index = mine[0]
        person, message = outbox[index]
        text = "\n".join([message.text, *lines])
        changed = replace(message, text=text, buttons=button)
        return [*outbox[:index], (person, changed), *outbox[index + 1 :]]


@dataclass(frozen=True)
class AppointmentSide:
    context: AppointmentContext
    booking: Booking
    reminders: AppointmentReminders
    followups: FollowUps
    reachability: Reachability
    desk: AppointmentDesk
    coach_desk: CoachDesk | None = None
    name: str = "appointments"

    @property
    def handlers(self) -> tuple[ReminderHandler, ...]:
        """The tick's handlers for ``appt:`` and ``followup.`` keys."""
        return (self.reminders.on_reminder, self.followups.on_reminder)

    def register(self, registry: Registry) -> None:
        registry.button(YOUNG, self.booking.on_young_button)
        registry.button(DRAFT, self.booking.on_coach_button)
        registry.button(COACH, self.booking.on_coach_button)
        registry.button(CHECKIN, self.followups.on_checkin_button)
        registry.button(RERATE, self.followups.on_rerate_button)
        registry.on_effect(SubmitIntake, in_transaction=self.followups.on_submit)
        for handler in self.handlers:
            registry.reminders(handler)
        for part in (AppointmentPart(), RatingPart(), ReachabilityPart()):
            registry.personal_data(part)
        if self.coach_desk is not None:
            self.coach_desk.extensions.append(self.desk)


def appointment_side(
    service: ConversationService,
    settings: Settings,
    *,
    directory: Directory | None = None,
    holidays: Holidays = belgian_public_holidays,
    coach_desk: CoachDesk | None = None,
) -> AppointmentSide:
    """Build the feature (plug it in with ``service.add``, after the coach side)."""
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
    return AppointmentSide(
        context,
        booking,
        reminders,
        follow,
        reachability,
        AppointmentDesk(booking, follow),
        coach_desk,
    )


def install_appointments(
    service: ConversationService,
    settings: Settings,
    *,
    directory: Directory | None = None,
    holidays: Holidays = belgian_public_holidays,
    coach_desk: CoachDesk | None = None,
) -> AppointmentSide:
    """Build the feature and plug it into ``service`` (after the coach side)."""
    side = appointment_side(
        service, settings, directory=directory, holidays=holidays, coach_desk=coach_desk
    )
    service.add(side)
    return side
