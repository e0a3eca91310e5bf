"""Follow-ups: the check-in after the intake, re-rating the life domains, closing a case.

Rules of this module:

* After "Verstuur" (chained behind the handoff's ``SubmitIntake`` hook, in the submission's
  transaction): the intake's numbers are stored as the case's ``intake`` rating, and a new case
  gets its check-in (``OPSTAP_CHECKIN_DAYS`` later) and its three-month re-rating as reminder
  rows (:mod:`flows.followups`). A re-sent intake only refreshes the numbers.
* The check-in goes only to an open case without any appointment; the three-month re-rating
  only while the case is open. After two missed appointments in a row neither goes: a person
  takes over. Quiet hours and the safety hold are the tick's (they defer, never drop).
* A re-rating is one message per domain the young person rated at the intake
  (``rerate=<id>:<domain>:<value>``, the intake's own question and buttons), stored as it goes;
  a button of an answered domain is ignored kindly. At the end the young person sees their
  progress ("Geld: 2 → 4") and the coach gets it too; ``/case N`` shows it from then on.
* Closing a case (the coach desk's ``closed`` moment): the case's follow-ups are cancelled,
  its appointments still proposed or booked are cancelled (the young person is told), and the
  closing re-rating is planned a few minutes later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.appointments.booking import ACTIVE, Booking
from bot.appointments.context import AppointmentContext
from bot.coach.handoff import Outbox
from bot.outbox import Staged
from bot.service import OutgoingMessage
from flows import followups
from flows.appointments import MAX_MISSED_IN_ROW, Tell, cancel
from flows.effects import Button, Effect
from flows.followups import (
    CLOSING_DELAY,
    NUMBERS,
    SKIP,
    RerateKind,
    intake_ratings,
    next_domain,
    progress,
    to_ask,
)
from flows.ids import CaseId, PersonId, ReminderKey, row_number
from flows.inputs import ButtonPressed
from flows.intake.domains import domain
from flows.session import Session
from flows.text import Msg, Verbatim, msg
from storage.appointments_port import RatingRecord
from storage.ports import ReminderRecord, Transaction
from storage.routing_port import CaseRecord, CoachRecord

log = logging.getLogger(__name__)

CHECKIN = "followup"
RERATE = "rerate"
_FACES = {"1": "1😟", "2": "2🙁", "3": "3😐", "4": "4🙂", "5": "5😄"}
_RATING_LABELS = {**{n: f"intake.rating.{n}" for n in NUMBERS}, SKIP: "intake.rating.rather_not"}


@dataclass
class FollowUps:
    ctx: AppointmentContext
    booking: Booking

    # --- after the intake -----------------------------------------------------------------

    async def on_submit(
        self, tx: Transaction, session: Session, effect: Effect, now: datetime
    ) -> None:
        """Inside the submission's transaction, after the handoff made or refreshed the case."""
        case = await tx.cases.latest_of(session.person)
        if case is None or case.status == "closed":
            return
        numbers = intake_ratings(case.intake)
        earlier = [r for r in await tx.ratings.of_case(case.id) if r.kind == "intake"]
        if earlier:
            # Sent again (after /opnieuw): the same case, the new numbers, the same plan.
            await tx.ratings.set_ratings(earlier[0].id, numbers)
            return
        await tx.ratings.add(case.id, case.person, "intake", numbers, now)
        for planned in followups.plan_after_intake(
            case.id, now, self.ctx.checkin_days, self.ctx.tz
        ):
            await tx.reminders.schedule(case.person, ReminderKey(planned.key), planned.due_at, 0)
        log.info("follow-ups planned case=%s", case.id)

    # --- the reminders --------------------------------------------------------------------

    async def on_reminder(self, reminder: ReminderRecord) -> bool:
        """The :data:`bot.scheduler.ReminderHandler` for ``followup.`` keys."""
        parsed = followups.parse_key(reminder.key)
        if parsed is None:
            return False
        case_id, kind = parsed
        now = self.ctx.now()
        message: OutgoingMessage | None = None
        async with self.ctx.service.storage.transaction() as tx:
            case = await tx.cases.get(CaseId(case_id))
            if case is None or not await self._applies(tx, case, kind):
                log.info("follow-up not needed id=%s kind=%s", reminder.id, kind)
                return True
            coach = await self.ctx.coach_of(tx, case)
            language = await self.ctx.language_of(tx, case.person, case.language)
            if kind == "checkin":
                message = self._checkin(case, coach, language)
            else:
                rerate_kind: RerateKind = "closing" if kind == "closing" else "three_months"
                record = await self._start_rerate(tx, case, rerate_kind, now)
                if record is not None:
                    message = self._rerate_intro(record, rerate_kind, language)
        if message is None:
            return True
        await self.ctx.service.deliver(case.person, [message])
        log.info("follow-up sent id=%s case=%s kind=%s", reminder.id, case.id, kind)
        return True

    async def _applies(self, tx: Transaction, case: CaseRecord, kind: str) -> bool:
        if await tx.reachability.get(case.person) is not None:
            return False
        if kind == "closing":
            return case.status == "closed"
        if case.status != "open":
            return False
        appointments = await tx.appointments.of_case(case.id)
        if appointments and appointments[-1].missed_in_row >= MAX_MISSED_IN_ROW:
            return False  # two missed in a row: a person takes over, no automatic nudges
        return kind != "checkin" or not appointments

    def _checkin(
        self, case: CaseRecord, coach: CoachRecord | None, language: str
    ) -> OutgoingMessage:
        first = Verbatim(coach.first_name if coach is not None else "")
        yes = self.ctx.render(msg("appt.checkin.yes"), language)
        no = self.ctx.render(msg("appt.checkin.no"), language)
        return self.ctx.say(
            language,
            msg("appt.checkin", coach=first),
            buttons=(((yes, f"{CHECKIN}={case.id}:appt"),), ((no, f"{CHECKIN}={case.id}:later"),)),
        )

    async def _start_rerate(
        self, tx: Transaction, case: CaseRecord, kind: RerateKind, now: datetime
    ) -> RatingRecord | None:
        records = await tx.ratings.of_case(case.id)
        same = [r for r in records if r.kind == kind]
        if same:
            # A retry after a failed send: the round already exists.
            return None if same[-1].complete else same[-1]
        asked = to_ask(self._baseline(case, records))
        if not asked:
            return None
        return await tx.ratings.add(case.id, case.person, kind, asked, now)

    def _baseline(self, case: CaseRecord, records: Sequence[RatingRecord]) -> dict[str, str | None]:
        intake = [r for r in records if r.kind == "intake"]
        return dict(intake[0].ratings) if intake else intake_ratings(case.intake)

    def _rerate_intro(
        self, record: RatingRecord, kind: RerateKind, language: str
    ) -> OutgoingMessage | None:
        asked = self._question_parts(record)
        if asked is None:
            return None
        parts, buttons = asked
        return self.ctx.say(language, msg(f"appt.rerate.{kind}"), *parts, buttons=buttons)

    def _question(self, record: RatingRecord, language: str) -> OutgoingMessage | None:
        asked = self._question_parts(record)
        if asked is None:
            return None
        parts, buttons = asked
        return self.ctx.say(language, *parts, buttons=buttons)

    def _question_parts(
        self, record: RatingRecord
    ) -> tuple[tuple[Msg, ...], tuple[tuple[Button, ...], ...]] | None:
        """The next domain to rate again: its question and rating buttons (rendered by
        :mod:`bot.render` in the person's language)."""
        domain_id = next_domain(record.ratings)
        if domain_id is None:
            return None
        order = list(record.ratings)
        buttons = tuple(
            (Button(msg(label), f"{RERATE}={record.id}:{domain_id}:{value}"),)
            for value, label in _RATING_LABELS.items()
        )
        progress = msg("intake.domain.progress", n=order.index(domain_id) + 1, total=len(order))
        return (progress, domain(domain_id).ask), buttons

    # --- the young person's buttons -------------------------------------------------------

    async def on_checkin_button(
        self, person: PersonId, event: ButtonPressed, language: str
    ) -> None:
        """``followup=<case>:appt|later`` (a :data:`bot.service.ButtonHandler`)."""
        number, _, action = event.value.partition("=")[2].partition(":")
        staged: Staged | None = None
        if row_number(number) is not None:
            async with self.ctx.service.storage.transaction() as tx:
                case = await tx.cases.get(CaseId(number))
                if case is not None and case.person == person:
                    coach = await self.ctx.coach_of(tx, case)
                    language = await self.ctx.language_of(tx, person, case.language)
                    await tx.reachability.mark_reachable(person)
                    # Written with the change (the coach hears that an appointment is wanted).
                    answer = self._checkin_answer(case, coach, action, language)
                    staged = await self.ctx.stage(tx, answer, about=person)
        if staged is not None:
            await self.ctx.send_staged(staged)
            return
        await self.ctx.send([(person, self.ctx.say(language, msg("appt.stale")))])

    def _checkin_answer(
        self, case: CaseRecord, coach: CoachRecord | None, action: str, language: str
    ) -> Outbox:
        person = case.person
        first = Verbatim(coach.first_name if coach is not None else "")
        if action != "appt":
            return [(person, self.ctx.say(language, msg("appt.checkin.later", coach=first)))]
        outbox: Outbox = [(person, self.ctx.say(language, msg("appt.checkin.asked", coach=first)))]
        if coach is not None and coach.person is not None and case.status == "open":
            outbox.append(
                (
                    coach.person,
                    self.ctx.coach_say(
                        "coach.appt.checkin_wants",
                        self.booking.new_button(case.id),
                        case=case.id,
                        name=self.ctx.young_name(case),
                    ),
                )
            )
        log.info("check-in answered case=%s action=%s", case.id, action)
        return outbox

    async def on_rerate_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        """``rerate=<id>:<domain>:<value>`` (a :data:`bot.service.ButtonHandler`)."""
        number, _, rest = event.value.partition("=")[2].partition(":")
        domain_id, _, value = rest.partition(":")
        outbox: Outbox | Staged = [(person, self.ctx.say(language, msg("appt.stale")))]
        rating = row_number(number)
        if rating is not None:
            async with self.ctx.service.person_lock(person):
                outbox = (
                    await self._rerate_answer(person, rating, domain_id, value, language) or outbox
                )
        if isinstance(outbox, Staged):
            await self.ctx.send_staged(outbox)
        else:
            await self.ctx.send(outbox)

    async def _rerate_answer(
        self, person: PersonId, rating_id: int, domain_id: str, value: str, language: str
    ) -> Outbox | Staged | None:
        """A rating saved; what it causes (the next question, or the result for the young
        person and their coach) is written to the outbox with it. ``None``: nothing to ask."""
        async with self.ctx.service.storage.transaction() as tx:
            record = await tx.ratings.get(rating_id)
            if record is None or record.person != person:
                return None
            language = await self.ctx.language_of(tx, person, language)
            updated = followups.answer(record.ratings, domain_id, value)
            if updated is None:
                # A second tap, or a button of an earlier question: ask what is still open.
                question = self._question(record, language)
                return [(person, question)] if question is not None else None
            await tx.ratings.set_ratings(record.id, updated)
            record = RatingRecord(
                record.id, record.case, record.person, record.kind, record.taken_at, updated
            )
            if not record.complete:
                question = self._question(record, language)
                return (
                    await self.ctx.stage(tx, [(person, question)], about=person)
                    if question is not None
                    else None
                )
            case = await tx.cases.get(record.case)
            baseline = (
                self._baseline(case, await tx.ratings.of_case(record.case))
                if (case is not None)
                else {}
            )
            coach = await self.ctx.coach_of(tx, case) if case is not None else None
            staged = await self.ctx.stage(
                tx, self._rerated(person, record, case, coach, baseline, language), about=person
            )
        log.info("re-rating done rating=%s case=%s", record.id, record.case)
        return staged

    def _rerated(
        self,
        person: PersonId,
        record: RatingRecord,
        case: CaseRecord | None,
        coach: CoachRecord | None,
        baseline: dict[str, str | None],
        language: str,
    ) -> Outbox:
        changes = progress(baseline, record.ratings)
        young_line = self.line(changes, language)
        outbox: Outbox = [
            (
                person,
                self.ctx.say(
                    language,
                    msg("appt.rerate.done", lines=Verbatim(young_line))
                    if changes
                    else msg("appt.rerate.done.nothing"),
                ),
            )
        ]
        if case is not None and coach is not None and coach.person is not None and changes:
            outbox.append(
                (
                    coach.person,
                    self.ctx.coach_say(
                        "coach.appt.rerated",
                        case=case.id,
                        name=self.ctx.young_name(case),
                        line=Verbatim(self.line(changes, "nl", separator=" · ")),
                    ),
                )
            )
        return outbox

    def line(
        self, changes: Sequence[followups.Change], language: str, separator: str = "\n"
    ) -> str:
        return separator.join(
            self.ctx.render(
                msg(
                    "appt.rerate.line",
                    domain=domain(c.domain).label,
                    before=Verbatim(_FACES[c.before]),
                    after=Verbatim(_FACES[c.after]),
                ),
                language,
            )
            for c in changes
        )

    # --- the coach's view and closing -----------------------------------------------------

    async def case_lines(self, tx: Transaction, case: CaseRecord, coach: CoachRecord) -> list[str]:
        """What ``/case N`` adds: the next appointment, progress, unreachable."""
        lines: list[str] = []
        active = [a for a in await tx.appointments.of_case(case.id) if a.status in ACTIVE]
        if active and active[-1].slot is not None:
            slot = active[-1].slot
            lines.append(
                self.ctx.coach_label(
                    "coach.appt.next",
                    when=Verbatim(self.ctx.when(slot.starts_at, "nl")),
                    place=Verbatim(self.ctx.place(slot, "nl", coach.first_name)),
                )
            )
        elif active:
            lines.append(self.ctx.coach_label("coach.appt.waiting"))
        records = await tx.ratings.of_case(case.id)
        done = [r for r in records if r.kind != "intake" and r.complete]
        if done:
            changes = progress(self._baseline(case, records), done[-1].ratings)
            if changes:
                lines.append(
                    self.ctx.coach_label(
                        "coach.appt.progress", line=Verbatim(self.line(changes, "nl", " · "))
                    )
                )
        unreachable = await tx.reachability.get(case.person)
        if unreachable is not None:
            local = unreachable.unreachable_since.astimezone(ZoneInfo(self.ctx.timezone))
            lines.append(
                self.ctx.coach_label("coach.appt.unreachable.line", date=f"{local:%d-%m-%Y}")
            )
        return lines

    async def case_closed(self, coach: CoachRecord, case_id: CaseId) -> Outbox:
        """After the close's commit (the desk's ``after``): cancel what is planned and plan the
        last rating. The young person's "cancelled" messages are written to the outbox with the
        cancellations and sent here after the commit, so nothing is returned to send."""
        now = self.ctx.now()
        cancelled = []
        async with self.ctx.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            if case is None or case.status != "closed" or case.coach != coach.id:
                return []
            await tx.reminders.cancel(case.person, followups.case_prefix(case.id))
            for old in await tx.appointments.of_case(case.id):
                if old.status not in ACTIVE:
                    continue
                new, decisions = cancel(old)
                if await tx.appointments.save(new, expected=old, now=now):
                    tells = await self.ctx.apply(tx, new, decisions)
                    if Tell("person", "cancelled") in tells:
                        cancelled.append(old)
            await tx.reminders.schedule(
                case.person,
                ReminderKey(followups.rerate_key(case.id, "closing")),
                now + CLOSING_DELAY,
                0,
            )
            language = await self.ctx.language_of(tx, case.person, case.language)
            outbox: Outbox = [
                (case.person, self.booking.cancelled(old, coach, language))
                for old in cancelled
                if old.slot is not None
            ]
            # Written with the cancellations: a kill after the commit leaves them to the sweep.
            staged = await self.ctx.stage(tx, outbox, about=case.person)
        log.info("follow-ups closed case=%s cancelled=%d", case.id, len(cancelled))
        await self.ctx.send_staged(staged)
        return []
