"""The safety net: a person of the team is alerted, and the alert is followed up.

Rules of this module (practice at crisis services, ``domain.md`` §4):

* It runs *after* the crisis reply went out (:meth:`SafetyNet.raise_alert` is called by the
  service once the reply is delivered), so nothing here can hold up or block the reply. Every
  step fails on its own: no database still alerts the team (an alert without a number), no
  team still records the event.
* A flag opens a safety event, or updates the open one (one open event per person; the most
  severe category is ``category``, and the event keeps every category it saw). Every category
  that is new within an open event alerts the team again at once and says what is new (a
  later disclosure is never swallowed by an earlier one); the same category again alerts at
  most every ``REALERT_AFTER``. ``/hulp`` and the help button open nothing by themselves: their
  response offers "Ik wil met iemand praten", and that button opens a ``help_request`` event
  the same way. A young person is never told someone was alerted when nobody was.
* The alert goes in Telegram to whoever :class:`OnDuty` names for the young person (the coach
  of their open case, else the partnership's coordinator, else the configured safety chat). It
  holds the event number, the category, the time and the case number, never a word the young
  person wrote, and two buttons: "Ik neem dit op" (``safety=<id>:ack``) and "Gesloten"
  (``safety=<id>:close``).
* Unacknowledged after ``ack_minutes`` of *working* time (the partnership's hours from the
  directory; Monday to Friday 09:00-17:00 when unknown): the coordinator is alerted, once. This
  is a reminder row on the young person (key ``safety.escalate``) handled by
  :meth:`SafetyNet.on_reminder` on the scheduler tick.
* Outside working hours the young person is told honestly when a person will read it, with
  the day-and-night numbers again.
* While an event is open, every other reminder of that person (nudges, appointment reminders)
  is deferred, not dropped: :meth:`SafetyNet.hold` on the scheduler tick.
* Only a close button pressed by the team closes an event. Nothing a young person types or
  presses closes it: "nee, je begreep me verkeerd" is a message, not a decision.
* Tier ``check`` (an indirect signal) first asks one direct question
  (:meth:`HelpLineResponder.check_question`); "Ja" and "Ik weet het niet" get the crisis
  response and the alert, "Nee" goes back to the question and the team gets a low-level
  signal (:meth:`SafetyNet.low_signal`: no event, no escalation).
* Logs hold person ids, event numbers and categories, never text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal, Protocol

from bot.delivery import NoChannel, delivery_is_strict
from bot.logs import describe
from bot.pipeline import SAFETY_BUTTONS
from bot.plugins import Registry
from bot.routing.gazetteer import belgian_public_holidays, load_directory
from bot.safety.responder import HelpLineResponder, parse_check
from bot.service import ConversationService, OutgoingMessage
from flows.ids import CaseId, PartnershipId, PersonId, ReminderKey, row_number
from flows.inputs import ButtonPressed
from flows.routing.directory import WorkingHours
from flows.routing.hours import zone
from flows.safety.detect import SEVERITY
from flows.safety.response import CONTINUE, TALK, check_no_signal
from flows.text import msg
from storage.ports import ReminderRecord, Storage
from storage.safety import SafetyEventPart
from storage.safety_port import SafetyEventRecord

log = logging.getLogger(__name__)

ESCALATE = ReminderKey("safety.escalate")
# Reminders never held back while an event is open: the safety net's own, and the handoff's
# (a young person in crisis needs a coach all the more; only cheerful reminders and nudges wait).
OWN_KEYS = ("safety.", "handoff.")
HELP_REQUEST = "help_request"
# A team that works in Dutch: alerts are written in Dutch.
TEAM_LANGUAGE = "nl"
# A new flag on an open event alerts again, but not more often than this.
REALERT_AFTER = timedelta(minutes=5)
# A held reminder is looked at again after this long.
HOLD_RECHECK = timedelta(minutes=30)
_NINE_TO_FIVE = ((time(9), time(17)),)
DEFAULT_HOURS = WorkingHours("Europe/Brussels", (_NINE_TO_FIVE,) * 5 + ((), ()))
_RANK = {category: rank for rank, category in enumerate((*SEVERITY, HELP_REQUEST))}

AlertKind = Literal["new", "again", "new_category", "escalated", "unsaved"]


def more_severe(first: str, second: str) -> str:
    """The more severe of two categories (a request for a person is the least severe)."""
    return min(first, second, key=lambda c: _RANK.get(c, len(_RANK)))


class OnDuty(Protocol):
    """Who is on duty for a young person. The coach side answers from cases and coaches."""

    async def responders(self, person: PersonId) -> list[PersonId]:
        """The chats (``tg:<chat>``) to alert first."""
        ...

    async def coordinator(self, person: PersonId) -> PersonId | None:
        """The chat that gets the escalation."""
        ...

    async def partnership(self, person: PersonId) -> PartnershipId | None:
        """Whose working hours apply (``None``: not known yet, the defaults apply)."""
        ...

    async def case(self, person: PersonId) -> CaseId | None:
        """The young person's open case, if any (shown in the alert, kept with the event)."""
        ...


@dataclass(frozen=True)
class FallbackOnDuty:
    """One configured chat (``OPSTAP_SAFETY_CHAT_ID``) for everyone, or nobody."""

    chat: PersonId | None = None

    async def responders(self, person: PersonId) -> list[PersonId]:
        return [] if self.chat is None else [self.chat]

    async def coordinator(self, person: PersonId) -> PersonId | None:
        return self.chat

    async def partnership(self, person: PersonId) -> PartnershipId | None:
        return None

    async def case(self, person: PersonId) -> CaseId | None:
        return None


@dataclass(frozen=True)
class CaseOnDuty:
    """From the coach side's cases and coaches: the coach of the young person's open case, else
    the active coordinators of their partnership, else ``fallback``."""

    storage: Storage
    fallback: OnDuty = field(default_factory=FallbackOnDuty)

    async def _coordinators(self, person: PersonId) -> tuple[PartnershipId | None, list[PersonId]]:
        async with self.storage.transaction() as tx:
            case = await tx.cases.latest_of(person)
            if case is None:
                return None, []
            team = await tx.coaches.of_partnership(case.partnership)
        chats = [
            c.person for c in team if c.role == "coordinator" and c.active and c.person is not None
        ]
        return case.partnership, chats

    async def responders(self, person: PersonId) -> list[PersonId]:
        async with self.storage.transaction() as tx:
            case = await tx.cases.latest_of(person)
            coach = None
            if case is not None and case.status == "open" and case.coach is not None:
                coach = await tx.coaches.get(case.coach)
        if coach is not None and coach.active and coach.person is not None:
            return [coach.person]
        _, coordinators = await self._coordinators(person)
        return coordinators or await self.fallback.responders(person)

    async def coordinator(self, person: PersonId) -> PersonId | None:
        _, coordinators = await self._coordinators(person)
        return coordinators[0] if coordinators else await self.fallback.coordinator(person)

    async def partnership(self, person: PersonId) -> PartnershipId | None:
        async with self.storage.transaction() as tx:
            case = await tx.cases.latest_of(person)
        return case.partnership if case is not None else await self.fallback.partnership(person)

    async def case(self, person: PersonId) -> CaseId | None:
        async with self.storage.transaction() as tx:
            case = await tx.cases.latest_of(person)
        return case.id if case is not None and case.status != "closed" else None


def directory_hours(partnership: PartnershipId | None) -> WorkingHours:
    """The partnership's working hours from the directory; the defaults when unknown."""
    if partnership is None:
        return DEFAULT_HOURS
    try:
        found = load_directory().partnership(partnership)
    except Exception as error:
        # A broken directory must not break the safety net: the defaults are a safe guess.
        log.error("safety: directory unavailable error=%s", describe(error))
        return DEFAULT_HOURS
    return found.hours if found is not None else DEFAULT_HOURS


def public_holidays(year: int) -> frozenset[date]:
    try:
        return belgian_public_holidays(year, year + 1)
    except ValueError:
        return frozenset()


@dataclass
class SafetyNet:
    service: ConversationService
    responder: HelpLineResponder
    on_duty: OnDuty
    ack_minutes: int = 15
    hours_for: Callable[[PartnershipId | None], WorkingHours] = directory_hours
    holidays: Callable[[int], frozenset[date]] = public_holidays
    name: str = "safety"

    def register(self, registry: Registry) -> None:
        """The safety net as a feature (:mod:`bot.plugins`): the ``safety=`` buttons (its
        "continue" brings the question back through the service), the escalation reminders
        and the hold on everything else while an event is open, the ``safety_events`` part;
        and it raises the alerts of the service's responder."""
        registry.button(SAFETY_BUTTONS, self.on_button)
        registry.reminders(self.on_reminder)
        registry.hold(self.hold)
        registry.personal_data(SafetyEventPart())
        self.responder.alerts = self

    def install(self) -> None:
        """Plug the safety net into its service."""
        self.service.add(self)

    @property
    def storage(self) -> Storage:
        return self.service.storage

    # --- raising ----------------------------------------------------------------------------

    async def raise_alert(
        self, person: PersonId, category: str | None, now: datetime, language: str
    ) -> None:
        """Called by the service after the crisis reply went out."""
        if category is None:
            # /hulp or the help button: the response itself offers "Ik wil met iemand praten".
            return
        await self.signal(person, category, now, language)

    async def signal(
        self,
        person: PersonId,
        category: str,
        now: datetime,
        language: str,
        *,
        asked: bool = False,
    ) -> None:
        """Record the flag (or request), alert the team, tell the young person honestly."""
        case, partnership, responders = await self._duty(person)
        hours = self.hours_for(partnership)
        event: SafetyEventRecord | None = None
        previous: SafetyEventRecord | None = None
        try:
            async with self.storage.transaction() as tx:
                previous = await tx.safety.current(person)
                kept = category if previous is None else more_severe(previous.category, category)
                event, opened = await tx.safety.open_or_get(
                    person, kept, now, case_id=case, flagged=category
                )
                if opened:
                    due = hours.deadline(now, self.ack_minutes / 60, self._holidays(now))
                    await tx.reminders.schedule(person, ESCALATE, due, 0)
        except Exception as error:
            log.error("safety event not recorded person=%s error=%s", person, describe(error))
            event, previous = None, None
        log.warning(
            "safety event person=%s event=%s category=%s",
            person,
            event.id if event else None,
            category,
        )
        is_new = previous is not None and category not in previous.all_categories
        due_again = previous is None or now - previous.last_flag_at >= REALERT_AFTER
        if not (due_again or asked or is_new):
            return
        kind: AlertKind = (
            "unsaved"
            if event is None
            else "new"
            if previous is None
            else "new_category"
            if is_new
            else "again"
        )
        earlier = previous.all_categories if previous is not None else ()
        reached = await self._alert(responders, event, category, now, kind, earlier)
        taken_up = previous is not None and previous.acknowledged_at is not None
        if reached or taken_up:
            follow = self._told(hours, now, language)
        elif asked:
            # "Ik wil met iemand praten" and nobody could be alerted: say so, and who to call.
            follow = self.responder.follow_up("talk_nobody", language, buttons=self._back(language))
        else:
            follow = self.responder.follow_up("nobody", language, buttons=self._back(language))
        await self.service.deliver(person, [follow])

    async def _duty(
        self, person: PersonId
    ) -> tuple[CaseId | None, PartnershipId | None, list[PersonId]]:
        case = partnership = None
        responders: list[PersonId] = []
        try:
            case = await self.on_duty.case(person)
            partnership = await self.on_duty.partnership(person)
        except Exception as error:
            log.error("safety: case lookup failed person=%s error=%s", person, describe(error))
        try:
            responders = await self.on_duty.responders(person)
        except Exception as error:
            log.error("safety: on-duty lookup failed person=%s error=%s", person, describe(error))
        return case, partnership, responders

    def _holidays(self, now: datetime) -> frozenset[date]:
        return self.holidays(now.year)

    def _told(self, hours: WorkingHours, now: datetime, language: str) -> OutgoingMessage:
        holidays = self._holidays(now)
        back = self._back(language)
        if hours.is_open(now, holidays):
            until = _closing(hours, now)
            return self.responder.follow_up("alerted_now", language, until=until, buttons=back)
        read_at = hours.next_open(now, holidays)
        return self.responder.follow_up("alerted_later", language, read_at=read_at, buttons=back)

    def _back(self, language: str) -> tuple[tuple[tuple[str, str], ...], ...]:
        label = self.service.translator.render(msg("safety.continue"), language)
        return (((label, CONTINUE),),)

    # --- alerting the team -----------------------------------------------------------------

    def _alert_message(
        self,
        event: SafetyEventRecord | None,
        category: str,
        now: datetime,
        kind: AlertKind,
        earlier: tuple[str, ...] = (),
    ) -> OutgoingMessage:
        t = self.service.translator
        label = t.render(msg(f"safety.category.{category}"), TEAM_LANGUAGE)
        at = now.astimezone(self.responder.zone).strftime("%d-%m %H:%M")
        if event is None:
            unsaved = msg("safety.alert.unsaved", category=label, time=at)
            return self.service.renderer.team([unsaved], crisis=True)
        number = str(event.id)
        if kind == "escalated":
            body = msg(
                "safety.alert.escalated",
                number=number,
                category=label,
                time=at,
                minutes=str(self.ack_minutes),
            )
        elif kind == "again":
            body = msg("safety.alert.again", number=number, category=label, time=at)
        elif kind == "new_category":
            before = ", ".join(
                t.render(msg(f"safety.category.{c}"), TEAM_LANGUAGE) for c in earlier
            )
            body = msg(
                "safety.alert.new_category",
                number=number,
                category=label,
                earlier=before,
                time=at,
            )
        else:
            body = msg("safety.alert", number=number, category=label, time=at)
        parts = [body]
        if event.case_id is not None:
            parts.append(msg("safety.alert.case", case=event.case_id))
        return self.service.renderer.team(parts, self._team_buttons(event), crisis=True)

    def _team_buttons(self, event: SafetyEventRecord) -> tuple[tuple[tuple[str, str], ...], ...]:
        t = self.service.translator
        close = (
            (
                t.render(msg("safety.alert.close"), TEAM_LANGUAGE),
                f"{SAFETY_BUTTONS}={event.id}:close",
            ),
        )
        if event.acknowledged_at is not None:
            return (close,)
        ack = (
            (t.render(msg("safety.alert.ack"), TEAM_LANGUAGE), f"{SAFETY_BUTTONS}={event.id}:ack"),
        )
        return (ack, close)

    async def _alert(
        self,
        chats: Iterable[PersonId],
        event: SafetyEventRecord | None,
        category: str,
        now: datetime,
        kind: AlertKind,
        earlier: tuple[str, ...] = (),
    ) -> int:
        """Send the alert to each chat; returns how many could be handed to a channel."""
        message = self._alert_message(event, category, now, kind, earlier)
        reached = 0
        for chat in dict.fromkeys(chats):
            if chat.partition(":")[0] not in self.service.channels:
                log.error("safety alert has no channel chat=%s", chat)
                continue
            try:
                await self.service.deliver(chat, [message])
                reached += 1
            except Exception as error:
                log.error("safety alert not delivered chat=%s error=%s", chat, describe(error))
        if reached == 0:
            log.error("safety alert reached nobody event=%s", event.id if event else None)
        return reached

    # --- the scheduler tick ----------------------------------------------------------------

    async def on_reminder(self, reminder: ReminderRecord) -> bool:
        """The escalation (a :data:`bot.scheduler.ReminderHandler`): unacknowledged after
        ``ack_minutes`` of working time, the coordinator is alerted, once."""
        if reminder.key != ESCALATE:
            return False
        person = reminder.person
        now = self.service.clock.now()
        async with self.storage.transaction() as tx:
            event = await tx.safety.current(person)
        if event is None or event.acknowledged_at is not None or event.escalated_at is not None:
            return True
        _, partnership, responders = await self._duty(person)
        hours = self.hours_for(partnership)
        holidays = self._holidays(now)
        if not hours.is_open(now, holidays):
            # Due outside working hours (a deferral, a process that was down): count the
            # minutes again from when work starts.
            later = hours.deadline(now, self.ack_minutes / 60, holidays)
            async with self.storage.transaction() as tx:
                await tx.reminders.schedule(person, ESCALATE, later, 0)
            return True
        coordinator = await self.on_duty.coordinator(person)
        targets = [coordinator] if coordinator is not None else responders
        lacking = [t for t in targets if not self.service.has_channel(t.partition(":")[0])]
        if lacking and delivery_is_strict():
            # Left for a process that can reach the team, never marked escalated unsent.
            raise NoChannel(lacking[0].partition(":")[0])
        await self._alert(targets, event, event.category, now, "escalated")
        async with self.storage.transaction() as tx:
            await tx.safety.mark_escalated(event.id, now)
        log.warning("safety event escalated event=%s", event.id)
        return True

    async def hold(self, reminder: ReminderRecord, now: datetime) -> datetime | None:
        """While the person has an open event, their reminders wait (a
        :data:`bot.scheduler.ReminderHold`); the safety net's own reminders never wait."""
        if reminder.key.startswith(OWN_KEYS):
            return None
        async with self.storage.transaction() as tx:
            held = await tx.safety.is_open(reminder.person)
        return now + HOLD_RECHECK if held else None

    # --- buttons ---------------------------------------------------------------------------

    async def on_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        value = event.value.partition("=")[2]
        if value == TALK.partition("=")[2]:
            await self.talk(person, language)
            return
        check = parse_check(value)
        if check is not None:
            await self.answer_check(person, event, check[0], check[1], language)
            return
        number, colon, action = value.partition(":")
        event_id = row_number(number)
        if colon and event_id is not None and action in ("ack", "close"):
            await self.team_button(person, event_id, action)
            return
        # "continue" (and anything unknown) brings the question back.
        await self.service.resume_after_crisis(person)

    async def answer_check(
        self, person: PersonId, event: ButtonPressed, answer: str, category: str, language: str
    ) -> None:
        """The answer to the check question: "Ja" or "Ik weet het niet" get the crisis
        response and the team alert; after "Nee" what they wrote goes on to their flow (held
        by the pipeline; else the question comes back), and the team still sees a low-level
        signal."""
        if category not in _RANK:
            category = "suicide"
        if answer in ("yes", "unsure"):
            # The text was a signal after all: it is not handed on as an answer.
            self.service.pipeline.held.forget(person)
            await self.service.send_crisis(person, category, language)
            return
        now = self.service.clock.now()
        try:
            await self.low_signal(person, category, now)
        finally:
            await self.service.deliver(person, [self.responder.check_no(language)])
            # What they wrote goes on to their flow (an answer to the question they were at);
            # without it, that question comes back.
            if not await self.service.pipeline.answer_after_check(person, now, language):
                await self.service.resume_after_crisis(person)

    async def talk(self, person: PersonId, language: str) -> None:
        """ "Ik wil met iemand praten": alert the team and say honestly when they read it."""
        now = self.service.clock.now()
        try:
            async with self.storage.transaction() as tx:
                session = await tx.sessions.get(person)
            if session is not None:
                language = session.language
        except Exception as error:
            log.error(
                "safety talk could not load session person=%s error=%s", person, describe(error)
            )
        await self.signal(person, HELP_REQUEST, now, language, asked=True)

    async def low_signal(self, person: PersonId, category: str, now: datetime) -> int:
        """Tier ``check`` answered "Nee": no event and no escalation, but the team sees a
        low-level signal (category and time only). Returns how many chats were reached."""
        _, _, responders = await self._duty(person)
        t = self.service.translator
        label = t.render(msg(f"safety.category.{category}"), TEAM_LANGUAGE)
        at = now.astimezone(self.responder.zone).strftime("%d-%m %H:%M")
        signal = self.service.renderer.team([check_no_signal(category, label, at)])
        reached = 0
        for chat in dict.fromkeys(responders):
            if chat.partition(":")[0] not in self.service.channels:
                continue
            try:
                await self.service.deliver(chat, [signal])
                reached += 1
            except Exception as error:
                log.error("safety low signal not delivered chat=%s error=%s", chat, describe(error))
        log.warning("safety low signal person=%s category=%s reached=%d", person, category, reached)
        return reached

    async def team_button(self, presser: PersonId, event_id: int, action: str) -> None:
        now = self.service.clock.now()
        async with self.storage.transaction() as tx:
            event = await tx.safety.get(event_id)
        allowed = (
            event is not None
            and presser != event.person
            and presser in (await self._team(event.person))
        )
        team = self.service.renderer.team
        if event is None or not allowed:
            # The same answer for "no such event" and "not yours": ids reveal nothing.
            log.warning("safety button refused presser=%s event=%s", presser, event_id)
            await self.service.deliver(presser, [team([msg("safety.alert.not_yours")])])
            return
        async with self.storage.transaction() as tx:
            if action == "ack":
                after = await tx.safety.acknowledge(event_id, presser, now)
            else:
                after = await tx.safety.close(event_id, presser, now)
            # Taken up: no escalation. Held reminders follow at their next look.
            await tx.reminders.cancel(event.person, ESCALATE)
        if after is None:
            # Erased (/wis) between the two transactions.
            await self.service.deliver(presser, [team([msg("safety.alert.not_yours")])])
            return
        log.warning("safety event %s event=%s by=%s", action, event_id, presser)
        number = str(event_id)
        if after.closed_at is not None:
            closed = msg("safety.alert.closed", number=number)
            await self.service.deliver(presser, [team([closed], crisis=True)])
            return
        said = "safety.alert.acked" if after.acknowledged_by == presser else "safety.alert.taken"
        taken = team([msg(said, number=number)], self._team_buttons(after), crisis=True)
        await self.service.deliver(presser, [taken])

    async def _team(self, person: PersonId) -> set[PersonId]:
        team = set(await self.on_duty.responders(person))
        coordinator = await self.on_duty.coordinator(person)
        if coordinator is not None:
            team.add(coordinator)
        return team


def _closing(hours: WorkingHours, now: datetime) -> datetime:
    """The end of the working interval ``now`` is in (``now`` itself if in none)."""
    tz = zone(hours.timezone)
    local = now.astimezone(tz)
    for opens, closes in hours.spec.get(local.weekday(), ()):
        if opens <= local.time().replace(tzinfo=None) < closes:
            return datetime.combine(local.date(), closes, tzinfo=tz)
    return now
