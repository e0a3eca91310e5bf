"""Booking: a coach proposes up to three moments, the young person picks one or asks for another.

Rules of this module:

* Coach side (Dutch, in Telegram): ``/afspraak [N]`` (through the coach desk) or the
  "📅 Afspraak maken" button shows the case's current appointment (with "Nieuwe afspraak" and
  "Annuleren") or goes straight to the day picker. The proposal is built with ``apb=`` buttons
  that carry the whole draft (:mod:`flows.booking`): day, time, place (the partnership's
  offices from the directory, phone, video), up to three options, then "Versturen". Sending
  moves an appointment of the case that is still proposed or booked (its reminders become
  stale) and carries the missed-in-a-row count over.
* Young person side: the proposal has one button per option (``appt=<id>:pick:<n>``) and
  "Ander moment" (``appt=<id>:other``); a reminder has "Ik kom" (``:come``) and "Ik kan niet,
  andere afspraak" (``:cannot``); the nudge after a missed appointment has "Nieuw moment
  kiezen" (``:other:<revision>``, so a second tap is stale). A pick gets a confirmation and
  the calendar file (:mod:`bot.appointments.ics`), the coach a confirmation and a calendar file
  of their own (``Afspraak dossier #n``: the case number, not the young person's name, goes
  into the coach's calendar; the same event id, so a moved appointment updates it). Every press
  takes the person's lock and is a compare-and-set on the appointment: a stale button (an
  appointment that moved, a second tap) gets a kind "this changed", never a second booking.
* Coach answers on an appointment (``apc=<id>:came|missed|moved|cancel``): attendance after the
  appointment, or cancelling it. Only the coach of the case may.
* Every state change and the reminder rows it plans are one transaction; the messages it causes
  are written to the outbox in it (:mod:`bot.outbox`) and sent after the commit. The calendar
  files are sent directly (documents, not stored).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

from babel.dates import format_date

from bot.appointments.context import AppointmentContext
from bot.appointments.ics import FILENAME, calendar_file, coach_filename
from bot.coach.handoff import Outbox
from bot.outbox import Staged
from bot.service import Keyboard, OutgoingMessage
from flows import booking
from flows.appointments import (
    Appointment,
    AppointmentId,
    Attendance,
    Decision,
    IllegalAppointment,
    Slot,
    Tell,
    book,
    cancel,
    confirm,
    propose,
    record_attendance,
    reschedule_request,
    supersede,
)
from flows.booking import Draft, Option
from flows.ids import CaseId, PersonId, row_number
from flows.inputs import ButtonPressed
from flows.text import Msg, Verbatim, msg
from storage.ports import Transaction
from storage.routing_port import CaseRecord, CoachRecord

log = logging.getLogger(__name__)

YOUNG = "appt"
COACH = "apc"
DRAFT = booking.PREFIX
ACTIVE = ("proposed", "booked")
_ATTENDANCE: dict[str, Attendance] = {"came": "came", "missed": "missed", "moved": "rescheduled"}
_DAYS_PER_ROW, _TIMES_PER_ROW = 3, 4
_STATUS_TEXT = {"proposed": "coach.appt.status.proposed", "booked": "coach.appt.status.booked"}
Document = tuple[PersonId, str, bytes, str]


def _mine(me: PersonId | None, message: OutgoingMessage) -> Outbox:
    """A message for the acting coach's chat, when they have one (from the dashboard a coach
    may have none: the dashboard reads the result from storage)."""
    return [] if me is None else [(me, message)]


class _Raced(Exception):
    """Someone changed the appointment between our read and our write: roll back."""


def young_button(appointment_id: int, action: str) -> str:
    return f"{YOUNG}={appointment_id}:{action}"


def coach_button(appointment_id: int, action: str) -> str:
    return f"{COACH}={appointment_id}:{action}"


@dataclass
class Booking:
    ctx: AppointmentContext

    # --- coach: starting ------------------------------------------------------------------

    def new_button(self, case_id: str, label: str = "coach.appt.button") -> Keyboard:
        """The "📅 Afspraak maken" button for a case (the day picker)."""
        return (((self.ctx.coach_label(label), Draft(case_id).value()),),)

    async def command(self, coach: CoachRecord, args: str) -> Outbox:
        """``/afspraak [N]``: N, else the coach's current case."""
        me = coach.person
        if me is None:
            return []
        number = args.strip().partition(" ")[0]
        target = number if row_number(number) is not None else coach.current_case
        if target is None:
            return [(me, self.ctx.coach_say("coach.appt.how"))]
        return await self.overview(coach, CaseId(target))

    async def _own_case(
        self, tx: Transaction, coach: CoachRecord, case_id: CaseId
    ) -> tuple[CaseRecord | None, OutgoingMessage | None]:
        case = await tx.cases.get(case_id)
        if case is None or case.coach != coach.id:
            return None, self.ctx.coach_say("coach.case.unknown", case=case_id)
        if case.status != "open":
            return None, self.ctx.coach_say("coach.case.closed", case=case_id)
        return case, None

    async def overview(self, coach: CoachRecord, case_id: CaseId) -> Outbox:
        me = coach.person
        if me is None:
            return []
        async with self.ctx.service.storage.transaction() as tx:
            case, refused = await self._own_case(tx, coach, case_id)
            if case is None:
                return [(me, refused)] if refused is not None else []
            active = [a for a in await tx.appointments.of_case(case.id) if a.status in ACTIVE]
        if not active:
            # A new draft's first step (the day picker) changes nothing: never staged.
            first = await self._step(coach, Draft(case.id))
            assert not isinstance(first, Staged)
            return first
        current = active[-1]
        buttons: Keyboard = (
            ((self.ctx.coach_label("coach.appt.new.button"), Draft(case.id).value()),),
            (
                (
                    self.ctx.coach_label("coach.appt.cancel.button"),
                    coach_button(current.id, "cancel"),
                ),
            ),
        )
        return [
            (
                me,
                self.ctx.coach_say(
                    "coach.appt.current",
                    buttons,
                    case=case.id,
                    name=self.ctx.young_name(case),
                    moments=Verbatim(self._moments(current, coach)),
                    status=Verbatim(self.ctx.coach_label(_STATUS_TEXT[current.status])),
                ),
            )
        ]

    def _moments(self, appointment: Appointment, coach: CoachRecord) -> str:
        slots = (appointment.slot,) if appointment.slot is not None else appointment.options
        return "\n".join(
            self.ctx.coach_label(
                "coach.appt.option",
                n=index,
                when=Verbatim(self.ctx.when(s.starts_at, "nl")),
                place=Verbatim(self.ctx.place(s, "nl", coach.first_name)),
            )
            for index, s in enumerate(slots, start=1)
        )

    # --- coach: buttons -------------------------------------------------------------------

    async def on_coach_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        """The ``apb=`` and ``apc=`` buttons (a :data:`bot.service.ButtonHandler`)."""
        async with self.ctx.service.storage.transaction() as tx:
            coach = await tx.coaches.by_person(person)
        if coach is None:
            # A coach's button pressed in another chat (a forwarded message): not ours to do.
            log.warning("appointment coach button outside a coach chat person=%s", person)
            return
        if not coach.active:
            await self.ctx.send([(person, self.ctx.coach_say("coach.inactive"))])
            return
        if event.value.startswith(f"{DRAFT}="):
            draft = booking.decode(event.value)
            outbox = (
                await self._step(coach, draft)
                if draft is not None
                else [(person, self.ctx.coach_say("coach.appt.gone"))]
            )
        else:
            outbox = await self._coach_action(coach, event.value, stage=True)
        if isinstance(outbox, Staged):
            # Written with the change (a proposal, a cancellation, attendance): a kill after
            # the commit leaves them to the relay's sweep.
            await self.ctx.send_staged(outbox)
            return
        await self.ctx.send(outbox)

    async def _step(self, coach: CoachRecord, draft: Draft) -> Outbox | Staged:
        me = coach.person
        if me is None:
            return []
        if draft.step == "stop":
            return [(me, self.ctx.coach_say("coach.appt.stopped"))]
        async with self.ctx.service.storage.transaction() as tx:
            case, refused = await self._own_case(tx, coach, CaseId(draft.case))
        if case is None:
            return [(me, refused)] if refused is not None else []
        if draft.step == "send":
            return await self._send(coach, case, draft, stage=True)
        now = self.ctx.now()
        # Options that passed while the coach was choosing are dropped, not sent.
        kept = tuple(o for o in draft.options if o.starts_at(self.ctx.tz) > now)
        if kept != draft.options:
            draft = Draft(draft.case, kept, draft.step, draft.day, draft.at)
        if draft.full and draft.step in ("day", "time", "place"):
            # Three options is the most (an old "add" button of a full draft).
            return [(me, self._overview(coach, case, draft))]
        if draft.step == "time" and draft.day is not None:
            return [(me, self._times(coach, case, draft, draft.day))]
        if draft.step == "place" and draft.day is not None and draft.at is not None:
            return [(me, self._places(case, draft, draft.day, draft.at))]
        if draft.step == "more" and draft.options:
            return [(me, self._overview(coach, case, draft))]
        return [(me, self._days(coach, case, draft.to("day")))]

    def _stop_row(self, case_id: str) -> tuple[tuple[str, str], ...]:
        return ((self.ctx.coach_label("coach.appt.stop"), Draft(case_id).to("stop").value()),)

    def _days(self, coach: CoachRecord, case: CaseRecord, draft: Draft) -> OutgoingMessage:
        now = self.ctx.now()
        days = booking.days(
            now, self.ctx.tz, self.ctx.hours(case, coach), self.ctx.holidays_around(now)
        )
        if not days:
            return self.ctx.coach_say("coach.appt.none_free", case=case.id)
        buttons = [(self._day_label(day), draft.to("time", day=day).value()) for day in days]
        rows = [
            tuple(buttons[i : i + _DAYS_PER_ROW]) for i in range(0, len(buttons), _DAYS_PER_ROW)
        ]
        return self.ctx.coach_say(
            "coach.appt.pick_day",
            (*rows, self._stop_row(case.id)),
            case=case.id,
            name=self.ctx.young_name(case),
            n=len(draft.options) + 1,
        )

    def _day_label(self, day: date) -> str:
        return format_date(day, "EEE d MMM", locale="nl")

    def _times(
        self, coach: CoachRecord, case: CaseRecord, draft: Draft, day: date
    ) -> OutgoingMessage:
        now = self.ctx.now()
        times = booking.times(
            day, now, self.ctx.tz, self.ctx.hours(case, coach), self.ctx.holidays_around(now)
        )
        if not times:
            return self._days(coach, case, draft.to("day"))
        buttons = [(f"{at:%H:%M}", draft.to("place", day=day, at=at).value()) for at in times]
        rows = [
            tuple(buttons[i : i + _TIMES_PER_ROW]) for i in range(0, len(buttons), _TIMES_PER_ROW)
        ]
        back = ((self.ctx.coach_label("coach.appt.other_day"), draft.to("day").value()),)
        return self.ctx.coach_say(
            "coach.appt.pick_time",
            (*rows, back, self._stop_row(case.id)),
            case=case.id,
            day=Verbatim(format_date(day, "EEEE d MMMM", locale="nl")),
        )

    def _places(self, case: CaseRecord, draft: Draft, day: date, at: time) -> OutgoingMessage:
        partnership = self.ctx.partnership(case)
        offices = partnership.offices[:10] if partnership is not None else ()
        choices = [(office.name, str(index)) for index, office in enumerate(offices)]
        choices.append((self.ctx.coach_label("coach.appt.place.phone"), booking.PHONE))
        choices.append((self.ctx.coach_label("coach.appt.place.video"), booking.VIDEO))
        rows = tuple(
            ((label, draft.with_option(Option(day, at, place)).value()),)
            for label, place in choices
        )
        when = self.ctx.when(booking.local_start(day, at, self.ctx.tz), "nl")
        return self.ctx.coach_say(
            "coach.appt.pick_place",
            (*rows, self._stop_row(case.id)),
            case=case.id,
            when=Verbatim(when),
        )

    def _overview(self, coach: CoachRecord, case: CaseRecord, draft: Draft) -> OutgoingMessage:
        lines = []
        for index, option in enumerate(draft.options, start=1):
            slot = self._slot(case, option)
            place = self.ctx.place(slot, "nl", coach.first_name) if slot is not None else "?"
            lines.append(
                self.ctx.coach_label(
                    "coach.appt.option",
                    n=index,
                    when=Verbatim(self.ctx.when(option.starts_at(self.ctx.tz), "nl")),
                    place=Verbatim(place),
                )
            )
        rows: list[tuple[tuple[str, str], ...]] = []
        if not draft.full:
            rows.append(((self.ctx.coach_label("coach.appt.add"), draft.to("day").value()),))
        rows.append(((self.ctx.coach_label("coach.appt.send"), draft.to("send").value()),))
        rows.append(((self.ctx.coach_label("coach.appt.restart"), Draft(case.id).value()),))
        rows.append(self._stop_row(case.id))
        return self.ctx.coach_say(
            "coach.appt.overview",
            tuple(rows),
            case=case.id,
            name=self.ctx.young_name(case),
            options=Verbatim("\n".join(lines)),
        )

    def _slot(self, case: CaseRecord, option: Option) -> Slot | None:
        place = self.ctx.option_place(case, option)
        if place is None:
            return None
        return Slot(option.starts_at(self.ctx.tz), option.kind, place)

    async def _send(
        self, coach: CoachRecord, case: CaseRecord, draft: Draft, *, stage: bool = False
    ) -> Outbox | Staged:
        """Store the proposal; with ``stage`` its messages (the proposal, the coach's "sent")
        are written to the outbox in the same transaction and returned as :class:`Staged`."""
        me = coach.person
        slots = tuple(self._slot(case, option) for option in draft.options)
        if not slots or any(s is None for s in slots):
            return _mine(me, self.ctx.coach_say("coach.appt.gone"))
        now = self.ctx.now()
        try:
            async with self.ctx.service.storage.transaction() as tx:
                # Checked again in the transaction that writes: the case may have closed.
                current, refused = await self._own_case(tx, coach, case.id)
                if current is None:
                    return _mine(me, refused) if refused is not None else []
                earlier = await tx.appointments.of_case(case.id)
                carried = earlier[-1].missed_in_row if earlier else 0
                proposed, _ = propose(
                    AppointmentId(0),
                    case.id,
                    case.person,
                    coach.id,
                    tuple(s for s in slots if s is not None),
                    now,
                    missed_in_row=carried,
                )
                for old in earlier:
                    if old.status in ACTIVE:
                        moved, decisions = supersede(old)
                        await self._save(tx, moved, old, decisions, now)
                stored = await tx.appointments.add(proposed, now)
                language = await self.ctx.language_of(tx, case.person, case.language)
                outbox: Outbox = [
                    (case.person, self.proposal(stored, coach, language)),
                    *_mine(
                        me,
                        self.ctx.coach_say(
                            "coach.appt.sent", case=case.id, name=self.ctx.young_name(case)
                        ),
                    ),
                ]
                staged = await self.ctx.stage(tx, outbox, about=case.person) if stage else None
        except IllegalAppointment:
            # An option passed between the overview and "Versturen".
            return _mine(me, self.ctx.coach_say("coach.appt.expired", case=case.id))
        except _Raced:
            return _mine(me, self.ctx.coach_say("coach.appt.gone"))
        log.info(
            "appointment proposed appointment=%s case=%s coach=%s options=%d",
            stored.id,
            case.id,
            coach.id,
            len(stored.options),
        )
        return staged if staged is not None else outbox

    async def propose_for(
        self, coach: CoachRecord, case: CaseRecord, draft: Draft
    ) -> Outbox | Staged:
        """Send a proposal drafted elsewhere (the team dashboard's form), as "Versturen" does:
        its messages are written to the outbox with it (send them with ``Handoff.send``). The
        coach's answers go to ``coach.person``, none when the coach has no chat."""
        return await self._send(coach, case, draft, stage=True)

    async def coach_answer(
        self, coach: CoachRecord, appointment_id: int, action: str
    ) -> Outbox | Staged:
        """Attendance (``came``, ``missed``, ``moved``) or ``cancel``, as the coach's buttons
        do (the dashboard's form); only the coach of the case may. Written to the outbox as
        :meth:`propose_for`."""
        return await self._coach_action(coach, coach_button(appointment_id, action), stage=True)

    def proposal(
        self, appointment: Appointment, coach: CoachRecord, language: str
    ) -> OutgoingMessage:
        parts: list[Msg] = [msg("appt.proposed", coach=Verbatim(coach.first_name))]
        buttons: list[tuple[tuple[str, str], ...]] = []
        for index, slot in enumerate(appointment.options):
            when = self.ctx.when(slot.starts_at, language)
            place = self.ctx.place(slot, language, coach.first_name)
            parts.append(
                msg("appt.option", n=index + 1, when=Verbatim(when), place=Verbatim(place))
            )
            pick = young_button(appointment.id, f"pick:{index}")
            buttons.append(((f"{index + 1}. {when}", pick),))
        other = self.ctx.render(msg("appt.other.button"), language)
        buttons.append(((other, young_button(appointment.id, "other")),))
        return self.ctx.say(language, *parts, buttons=tuple(buttons))

    async def _save(
        self,
        tx: Transaction,
        new: Appointment,
        old: Appointment,
        decisions: tuple[Decision, ...],
        now: datetime,
    ) -> list[Tell]:
        if new != old and not await tx.appointments.save(new, expected=old, now=now):
            raise _Raced
        return await self.ctx.apply(tx, new, decisions)

    async def _coach_action(
        self, coach: CoachRecord, value: str, *, stage: bool = False
    ) -> Outbox | Staged:
        """Attendance or cancelling; with ``stage`` the messages it causes (the coach's
        confirmation, the young person's "cancelled") are written to the outbox in the change's
        transaction and returned as :class:`Staged`. A refusal changes nothing: messages."""
        me = coach.person
        number, _, action = value.partition("=")[2].partition(":")
        appointment = row_number(number)
        if appointment is None or action not in (*_ATTENDANCE, "cancel"):
            return _mine(me, self.ctx.coach_say("coach.appt.gone"))
        now = self.ctx.now()
        try:
            async with self.ctx.service.storage.transaction() as tx:
                old = await tx.appointments.get(AppointmentId(appointment))
                case = await tx.cases.get(old.case) if old is not None else None
                if old is None or case is None or (case.coach or old.coach) != coach.id:
                    return _mine(me, self.ctx.coach_say("coach.appt.gone"))
                if action == "cancel":
                    new, decisions = cancel(old)
                else:
                    new, decisions = record_attendance(old, _ATTENDANCE[action], now)
                tells = await self._save(tx, new, old, decisions, now)
                language = await self.ctx.language_of(tx, case.person, case.language)
                outbox = self._coach_told(me, coach, case, old, action, tells, language)
                staged = await self.ctx.stage(tx, outbox, about=case.person) if stage else None
        except (IllegalAppointment, _Raced):
            return _mine(me, self.ctx.coach_say("coach.appt.gone"))
        log.info(
            "appointment %s appointment=%s case=%s coach=%s", action, new.id, case.id, coach.id
        )
        return staged if staged is not None else outbox

    def _coach_told(
        self,
        me: PersonId | None,
        coach: CoachRecord,
        case: CaseRecord,
        old: Appointment,
        action: str,
        tells: list[Tell],
        language: str,
    ) -> Outbox:
        name = self.ctx.young_name(case)
        outbox: Outbox = []
        if action == "cancel":
            outbox += _mine(me, self.ctx.coach_say("coach.appt.cancelled", case=case.id, name=name))
        elif Tell("coach", "two_missed") in tells:
            outbox += _mine(
                me,
                self.ctx.coach_say(
                    "coach.appt.two_missed", self.new_button(case.id), case=case.id, name=name
                ),
            )
        else:
            buttons = self.new_button(case.id) if action != "came" else ()
            outbox += _mine(
                me,
                self.ctx.coach_say(
                    f"coach.appt.recorded.{action}", buttons, case=case.id, name=name
                ),
            )
        if Tell("person", "cancelled") in tells and old.slot is not None:
            outbox.append((case.person, self.cancelled(old, coach, language)))
        elif Tell("person", "cancelled") in tells:
            outbox.append(
                (
                    case.person,
                    self.ctx.say(
                        language, msg("appt.cancelled.proposal", coach=Verbatim(coach.first_name))
                    ),
                )
            )
        return outbox

    def cancelled(
        self, appointment: Appointment, coach: CoachRecord, language: str
    ) -> OutgoingMessage:
        slot = appointment.slot
        assert slot is not None
        return self.ctx.say(
            language,
            msg(
                "appt.cancelled",
                when=Verbatim(self.ctx.when(slot.starts_at, language)),
                coach=Verbatim(coach.first_name),
            ),
        )

    # --- young person ---------------------------------------------------------------------

    async def on_young_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        """The ``appt=`` buttons (a :data:`bot.service.ButtonHandler`)."""
        number, _, action = event.value.partition("=")[2].partition(":")
        async with self.ctx.service.person_lock(person):
            outbox, documents = await self._young(person, number, action, language)
        if isinstance(outbox, Staged):
            # Written with the answer; the calendar files (documents) are sent directly.
            await self.ctx.send_staged(Staged(outbox.rows[:1], outbox.via))
            await self._documents([d for d in documents if d[0] == person])
            await self.ctx.send_staged(Staged(outbox.rows[1:], outbox.via))
            await self._documents([d for d in documents if d[0] != person])
            return
        await self.ctx.send(outbox[:1])
        # The young person's file right under their confirmation, the coach's after theirs.
        await self._documents([d for d in documents if d[0] == person])
        await self.ctx.send(outbox[1:])
        await self._documents([d for d in documents if d[0] != person])

    async def _documents(self, documents: list[Document]) -> None:
        for document in documents:
            try:
                await self.ctx.service.deliver_document(*document)
            except Exception as error:
                log.error(
                    "calendar file failed person=%s error=%s", document[0], type(error).__name__
                )

    async def _young(
        self, person: PersonId, number: str, action: str, language: str
    ) -> tuple[Outbox | Staged, list[Document]]:
        """The young person's answer; what it causes (their confirmation, the coach's message)
        is written to the outbox in its transaction, the calendar files are returned to be
        sent directly. A stale button changes nothing: its answer is returned as messages."""
        now = self.ctx.now()
        stale: Outbox = [(person, self.ctx.say(language, msg("appt.stale")))]
        appointment = row_number(number)
        if appointment is None:
            return stale, []
        try:
            async with self.ctx.service.storage.transaction() as tx:
                old = await tx.appointments.get(AppointmentId(appointment))
                case = await tx.cases.get(old.case) if old is not None else None
                if old is None or case is None or old.person != person:
                    return stale, []
                language = await self.ctx.language_of(tx, person, case.language)
                stale = [(person, self.ctx.say(language, msg("appt.stale")))]
                # A button pressed proves the chat is open again.
                await tx.reachability.mark_reachable(person)
                new, decisions = self._decide(old, action, now)
                tells = await self._save(tx, new, old, decisions, now)
                coach = await self.ctx.coach_of(tx, case, new)
                outbox, documents = self._told(new, case, coach, tells, language, now)
                staged = await self.ctx.stage(tx, outbox, about=person)
        except (IllegalAppointment, _Raced, ValueError):
            return stale, []
        log.info("appointment answer appointment=%s action=%s", new.id, action.partition(":")[0])
        return staged, documents

    def _decide(
        self, old: Appointment, action: str, now: datetime
    ) -> tuple[Appointment, tuple[Decision, ...]]:
        kind, _, argument = action.partition(":")
        picked = row_number(argument)
        if kind == "pick" and picked is not None:
            return book(old, picked, now, self.ctx.leads, self.ctx.tz)
        if kind in ("other", "cannot"):
            # The nudge's button names the revision it was made for: a second tap after the
            # coach was told is stale (a missed appointment keeps its status).
            if argument and argument != str(old.revision):
                raise IllegalAppointment("the button belongs to an earlier revision")
            return reschedule_request(old)
        if kind == "come":
            return confirm(old, now)
        raise ValueError("unknown appointment button")

    def _told(
        self,
        appointment: Appointment,
        case: CaseRecord,
        coach: CoachRecord | None,
        tells: list[Tell],
        language: str,
        now: datetime,
    ) -> tuple[Outbox, list[Document]]:
        person = appointment.person
        first = Verbatim(coach.first_name if coach is not None else "")
        name = self.ctx.young_name(case)
        young: list[OutgoingMessage] = []
        to_coach: list[OutgoingMessage] = []
        documents: list[Document] = []
        slot = appointment.slot
        when_young = self.ctx.when(slot.starts_at, language) if slot is not None else ""
        when_coach = self.ctx.when(slot.starts_at, "nl") if slot is not None else ""
        for tell in tells:
            if tell.what == "booked" and tell.to == "person" and slot is not None:
                place = self.ctx.place(slot, language, first.text)
                young.append(
                    self.ctx.say(
                        language,
                        msg(
                            "appt.booked",
                            coach=first,
                            when=Verbatim(when_young),
                            place=Verbatim(place),
                        ),
                    )
                )
                summary = self.ctx.render(msg("appt.ics.summary", coach=first), language)
                content = calendar_file(appointment, summary=summary, location=place, now=now)
                caption = self.ctx.render(msg("appt.ics.caption"), language)
                documents.append((person, FILENAME, content, caption))
            elif tell.what == "booked" and slot is not None:
                place_nl = self.ctx.place(slot, "nl", first.text)
                to_coach.append(
                    self.ctx.coach_say(
                        "coach.appt.booked",
                        case=case.id,
                        name=name,
                        when=Verbatim(when_coach),
                        place=Verbatim(place_nl),
                    )
                )
                if coach is not None and coach.person is not None:
                    summary = self.ctx.coach_label("coach.appt.ics.summary", case=case.id)
                    content = calendar_file(
                        appointment, summary=summary, location=place_nl, now=now
                    )
                    caption = self.ctx.coach_label("coach.appt.ics.caption", case=case.id)
                    documents.append((coach.person, coach_filename(case.id), content, caption))
            elif tell.what == "person_wants_other":
                young.append(self.ctx.say(language, msg("appt.other.sent", coach=first)))
                to_coach.append(
                    self.ctx.coach_say(
                        "coach.appt.wants_other",
                        self.new_button(case.id, "coach.appt.new.button"),
                        case=case.id,
                        name=name,
                    )
                )
            elif tell.what == "person_cannot_come":
                young.append(self.ctx.say(language, msg("appt.cannot.sent", coach=first)))
                to_coach.append(
                    self.ctx.coach_say(
                        "coach.appt.cannot_come",
                        self.new_button(case.id, "coach.appt.new.button"),
                        case=case.id,
                        name=name,
                        when=Verbatim(when_coach),
                    )
                )
            elif tell.what == "person_confirmed":
                young.append(self.ctx.say(language, msg("appt.come.thanks")))
                to_coach.append(
                    self.ctx.coach_say(
                        "coach.appt.confirmed", case=case.id, name=name, when=Verbatim(when_coach)
                    )
                )
        outbox: Outbox = [(person, m) for m in young]
        if coach is not None and coach.person is not None:
            outbox += [(coach.person, m) for m in to_coach]
        return outbox, documents
