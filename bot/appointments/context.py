"""What every part of the appointment feature shares: the service, the directory, the texts.

Rules of this module:

* :meth:`AppointmentContext.apply` carries out the pure decisions inside the caller's
  transaction: ``ScheduleReminder`` becomes a reminder row on the young person (ids only;
  session version 0 because it belongs to no conversation step, like the handoff's),
  ``CancelReminders`` cancels rows by prefix (the effects of :mod:`flows.effects`), ``Tell`` is
  handed back to be rendered after the commit.
* Coach messages are Dutch (:class:`bot.coach.card.CardWriter`) and marked ``team``; young
  people's messages are in their language (their session's, else the case's).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.coach.card import CardWriter
from bot.coach.dates import when_text
from bot.coach.handoff import COACH_VIA, Outbox
from bot.coach.team import parse_hours
from bot.delivery import NoChannel
from bot.logs import describe
from bot.outbox import Staged
from bot.render import Buttons
from bot.service import ConversationService, Keyboard, OutgoingMessage
from flows.appointments import Appointment, Decision, Slot, Tell
from flows.booking import Option
from flows.effects import CancelReminders, ScheduleReminder
from flows.ids import PersonId
from flows.routing.directory import Directory, Office, Partnership
from flows.routing.hours import HoursSpec
from flows.text import Msg, Param, Verbatim, msg
from storage.ports import Transaction
from storage.routing_port import CaseRecord, CoachRecord

log = logging.getLogger(__name__)

Holidays = Callable[[int, int], frozenset[date]]
DEFAULT_LEADS = (timedelta(hours=24), timedelta(hours=2))


def office_address(partnership: Partnership, office: Office) -> str:
    """``Onthaal Leuven, Voorbeeldstraat 1, 3000 Leuven``: what a young person needs to get
    there (the municipality's name from the partnership's area)."""
    town = next(
        (
            part.municipality_name
            for part in partnership.area
            if part.municipality_nis == office.municipality_nis
        ),
        "",
    )
    return ", ".join(
        p for p in (office.name, office.street, f"{office.postcode} {town}".strip()) if p
    )


async def apply_decisions(
    tx: Transaction, appointment: Appointment, decisions: tuple[Decision, ...]
) -> list[Tell]:
    """Reminder rows in this transaction; the tells come back for after the commit."""
    tells: list[Tell] = []
    for decision in decisions:
        if isinstance(decision, ScheduleReminder):
            await tx.reminders.schedule(appointment.person, decision.key, decision.due_at, 0)
        elif isinstance(decision, CancelReminders):
            await tx.reminders.cancel(appointment.person, decision.prefix)
        else:
            tells.append(decision)
    return tells


@dataclass
class AppointmentContext:
    service: ConversationService
    directory: Directory
    holidays: Holidays
    leads: tuple[timedelta, ...] = DEFAULT_LEADS
    timezone: str = "Europe/Brussels"
    checkin_days: int = 5
    writer: CardWriter = field(init=False)
    # The coach side's sender (``Handoff.send``), set by the runtime: it remembers the ids of
    # messages about a case in coach chats, so they can be deleted after /wis.
    sender: Callable[[Outbox], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        self.writer = CardWriter(self.service.translator)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def now(self) -> datetime:
        return self.service.clock.now()

    # --- texts ----------------------------------------------------------------------------

    def render(self, message: Msg, language: str) -> str:
        return self.service.translator.render(message, language)

    def say(self, language: str, *parts: Msg, buttons: Buttons = ()) -> OutgoingMessage:
        """A message for a young person, in their language (:mod:`bot.render`)."""
        return self.service.renderer.message(parts, language, buttons)

    def coach_say(
        self, message_id: str, buttons: Keyboard = (), **params: Param
    ) -> OutgoingMessage:
        """A message for a coach, in Dutch (``Renderer.team``)."""
        return self.writer.renderer.team([msg(message_id, **params)], buttons)

    def coach_label(self, message_id: str, **params: Param) -> str:
        return self.writer.text(message_id, **params)

    def when(self, moment: datetime, language: str) -> str:
        return when_text(self.service.translator, moment, self.now(), language, self.timezone)

    def place(self, slot: Slot, language: str, coach: str) -> str:
        if slot.kind == "phone":
            return self.render(msg("appt.place.phone", coach=Verbatim(coach)), language)
        if slot.kind == "video":
            return self.render(msg("appt.place.video"), language)
        return slot.place

    def young_name(self, case: CaseRecord) -> Verbatim:
        return Verbatim(self.writer.young_name(case.intake))

    # --- places and hours -----------------------------------------------------------------

    def partnership(self, case: CaseRecord) -> Partnership | None:
        return self.directory.partnership(case.partnership)

    def option_place(self, case: CaseRecord, option: Option) -> str | None:
        """The office address of an option, ``""`` for phone and video, ``None`` when the
        office index is not (or no longer) in the directory."""
        index = option.office
        if index is None:
            return ""
        partnership = self.partnership(case)
        if partnership is None or not 0 <= index < len(partnership.offices):
            return None
        return office_address(partnership, partnership.offices[index])

    def hours(self, case: CaseRecord, coach: CoachRecord) -> HoursSpec:
        """The coach's own working hours, else the partnership's (Monday to Friday 9 to 17
        when the directory no longer lists the partnership)."""
        if coach.hours:
            try:
                return parse_hours(coach.hours)
            except ValueError:
                log.warning("coach hours unreadable coach=%s", coach.id)
        partnership = self.partnership(case)
        if partnership is not None:
            return partnership.hours.spec
        return parse_hours("mon-fri 09:00-17:00")

    def holidays_around(self, now: datetime) -> frozenset[date]:
        year = now.astimezone(self.tz).year
        return self.holidays(year, year + 1)

    # --- people ---------------------------------------------------------------------------

    async def language_of(self, tx: Transaction, person: PersonId, fallback: str) -> str:
        session = await tx.sessions.get(person)
        return session.language if session is not None else fallback

    async def coach_of(
        self, tx: Transaction, case: CaseRecord, appointment: Appointment | None = None
    ) -> CoachRecord | None:
        """The coach who now has the case (else the one who made the appointment)."""
        coach_id = case.coach or (appointment.coach if appointment is not None else None)
        return await tx.coaches.get(coach_id) if coach_id is not None else None

    # --- decisions ------------------------------------------------------------------------

    async def apply(
        self, tx: Transaction, appointment: Appointment, decisions: tuple[Decision, ...]
    ) -> list[Tell]:
        return await apply_decisions(tx, appointment, decisions)

    async def stage(self, tx: Transaction, outbox: Outbox, *, about: PersonId) -> Staged:
        """Inside the transaction of a change: the messages it causes, written to the outbox
        with it (:mod:`bot.outbox`); sent like :meth:`send` sends them (``Handoff.send_one``
        remembers a coach's copy by id), after the commit with :meth:`send_staged` or, after
        a crash, by the relay's sweep. ``about``: the case's young person (their ``/wis``
        deletes what is still unsent)."""
        return await self.service.relay.stage_for(tx, outbox, via=COACH_VIA, about=about)

    async def send_staged(self, staged: Staged) -> None:
        await self.service.relay.send_staged(staged)

    async def send(self, outbox: Outbox) -> None:
        """Deliver after the commit; a failing chat does not stop the others."""
        if self.sender is not None:
            await self.sender(outbox)
            return
        missing: NoChannel | None = None
        for person, message in outbox:
            try:
                await self.service.deliver(person, [message])
            except NoChannel as error:
                # In a reminder: not sent, so the reminder is left for a process that has it.
                missing = error
            except Exception as error:
                log.error("appointment delivery failed person=%s error=%s", person, describe(error))
        if missing is not None:
            raise missing
