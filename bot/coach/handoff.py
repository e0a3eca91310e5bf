"""After "Verstuur": from the intake to a case, a coach, a card and an honest promise.

Rules of this module:

* In the transaction of the submission (:meth:`Handoff.on_submit`, the effect hook of
  :class:`flows.effects.SubmitIntake`): read the place (the intake's routing value, else the
  typed place resolved again), make the case (or refresh the young person's case that is not
  closed in the same partnership), plan the first offer (:func:`flows.routing.assign.
  next_offer`), schedule its deadline reminder, log that the partnership received the intake.
  An intake that kept the partnership of its referral link (``place_status`` "referral")
  goes to that partnership. A young person in a blind spot, outside Flanders or without a place
  who chose the fallback team at the place question (``place_route`` "fallback") gets a case
  for the directory's fallback team of their region (``routing.fallback_team`` counts it).
  Otherwise they get no case: they get the directory's general contacts, and an anonymous
  monthly count records it (``routing.blind_spot``, ``routing.blind_spot.<nis>``,
  ``routing.outside_flanders``, ``routing.no_place``; cases count as ``cases.created``,
  ``cases.closed.<outcome>`` and ``cases.reopened``).
* After the commit (:meth:`Handoff.after_submit`): the card goes to the coach and the young
  person hears what happens and by when. The in-transaction phase returns a :class:`HandoffNote`
  that the after-commit phase of the same input receives (:mod:`bot.plugins`).
* A deadline is N working hours (``OPSTAP_ACCEPT_WITHIN_HOURS``) in the hours of the coach with
  the offer (else the partnership's), skipping Belgian public holidays. Its reminder is
  ``handoff.<case id>.offer.<offer id>`` on the young person (ids only; session version 0: it
  belongs to no conversation step). :meth:`on_reminder` checks that the offer is still open
  (an answered offer: nothing happens), expires it and offers the case to the next coach, then
  each coordinator once (:func:`flows.routing.assign.next_offer`). Only when the time the young
  person was promised moves later are they told again (an apology); never for the same time.
  A case's reminders are cancelled by the prefix ``handoff.<case id>.``.
* Escalation has an end. When everyone was asked (or nobody can be reached), the case goes to
  the partnership's **team queue** (status ``escalated``): the dashboard lists it, the
  partnership's coordinators (no coordinator: its coaches) get a daily digest in Telegram
  (the row ``handoff.digest.<partnership>`` on ``tg:team.<partnership>``, ids only,
  at the next working day's opening while unclaimed cases remain), and ``handoff.<case
  id>.fallback`` falls due ``OPSTAP_FALLBACK_AFTER_DAYS`` working days later. Then the young
  person is pointed, once (a compare-and-set on ``cases.fallback_at``), honestly and in their
  language, to the general service of the region from the directory; the case stays in the
  team queue, so a coach can still take it.
* A coach who blocks the bot, is deactivated or is absent (``coaches.absent_until``) loses
  their open offers at once
  (:meth:`withdraw_offers`: offer ``withdrawn``, case ``waiting``, ``handoff.<case>.retry`` due
  now), so the case goes to the next one; in-process callers move it on at once.
* The directory no longer lists the partnership: the case waits and ``handoff.<case id>.retry``
  tries again a day later; the young person gets the general contacts meanwhile.
* :meth:`accept` never takes a coach above capacity (coordinators, the last resort, excepted).
* Coach chats: every message about a case (it carries ``Dossier #n``) sent to a coach through
  :meth:`send` is remembered by its Telegram message id (``coach_messages``, ids only) when the
  channel can tell it (:class:`CoachChats`); a card whose offer is over is edited to its number
  only (:meth:`tidy_cards`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from bot.coach.card import CardWriter, case_in
from bot.coach.dates import when_text
from bot.coach.team import deadline, reachable_team
from bot.delivery import NoChannel, delivery_is_strict
from bot.outbox import Staged
from bot.render import Buttons
from bot.routing.place_check import parse_place_value, place_check_of
from bot.service import ConversationService, OutgoingMessage
from flows.effects import Effect
from flows.engine import SKIPPED
from flows.ids import CaseId, CoachId, PartnershipId, PersonId, ReminderKey
from flows.routing.assign import need_from_answers, next_offer
from flows.routing.card import card_answers
from flows.routing.directory import Directory, Partnership
from flows.routing.hours import add_working_days, next_opening_day
from flows.routing.places import Resolver
from flows.session import JsonValue, Session
from flows.text import Msg, Param, Verbatim, msg
from storage.ports import ReminderRecord, Transaction
from storage.routing_port import (
    CaseRecord,
    CoachMessageKind,
    CoachRecord,
    OfferRecord,
    RelayRecord,
)

log = logging.getLogger(__name__)

REMINDER_PREFIX = "handoff."
# Outbox rows for coaches are sent by Handoff.send_one (their ids are remembered).
COACH_VIA = "coach"
Outbox = list[tuple[PersonId, OutgoingMessage]]
# Adds to the messages of an accepted case without I/O, inside the accepting transaction.
Decorate = Callable[["CaseRecord", "CoachRecord", Outbox], Outbox]
# Coaches and the team are Telegram chats.
TEAM_CHANNEL = "tg"
PlaceStatus = Literal["routed", "blind_spot", "outside_flanders", "no_place"]
Holidays = Callable[[int, int], frozenset[date]]
# When a case waits for a partnership the directory no longer lists: try again tomorrow.
_NO_HOURS_RETRY = timedelta(days=1)
DIGEST = "digest"
# Telegram lets a bot delete its message in a private chat for 48 hours; keep a margin.
DELETE_WITHIN = timedelta(hours=47)


@runtime_checkable
class CoachChats(Protocol):
    """A channel that can tell the ids of what it sent and change it later (Telegram)."""

    async def deliver_tracked(self, person: PersonId, message: OutgoingMessage) -> list[int]:
        """Send like ``deliver``; the message ids of the parts sent (empty when blocked)."""
        ...

    async def delete_message(self, person: PersonId, message_id: int) -> bool:
        """``False`` when Telegram refuses (too old, gone)."""
        ...

    async def replace_text(self, person: PersonId, message_id: int, text: str) -> bool:
        """Edit the text and drop the buttons; ``False`` when Telegram refuses."""
        ...


def case_prefix(case_id: CaseId) -> str:
    """The reminder keys of one case; the dot ends the number (``handoff.1.`` is not a prefix
    of case 12's keys), so cancelling them never touches another case of the same person."""
    return f"{REMINDER_PREFIX}{case_id}."


def offer_key(case_id: CaseId, offer_id: int) -> ReminderKey:
    return ReminderKey(f"{case_prefix(case_id)}offer.{offer_id}")


def retry_key(case_id: CaseId) -> ReminderKey:
    return ReminderKey(f"{case_prefix(case_id)}retry")


def fallback_key(case_id: CaseId) -> ReminderKey:
    return ReminderKey(f"{case_prefix(case_id)}fallback")


def digest_key(partnership: PartnershipId) -> ReminderKey:
    return ReminderKey(f"{REMINDER_PREFIX}{DIGEST}.{partnership}")


def team_person(partnership: PartnershipId) -> PersonId:
    """The reminder owner of a partnership's digest: a team, not a person. Its ``tg:`` prefix
    lets only a process with Telegram claim it (the digest goes to coach chats); it is never
    a chat id, and nothing is ever sent to it."""
    return PersonId(f"tg:team.{partnership}")


async def withdraw_offers(tx: Transaction, coach_id: CoachId, now: datetime) -> list[CaseId]:
    """The coach can no longer answer (blocked, deactivated, absent): their open offers end at
    once and each case is due to move on (``handoff.<case>.retry`` now, so the tick of any
    process picks it up: the command line has no Telegram)."""
    moved: list[CaseId] = []
    for offer in await tx.cases.offers_of_coach(coach_id, ("open",)):
        if not await tx.cases.answer_offer(offer.id, "withdrawn", now):
            continue
        case = await tx.cases.get(offer.case)
        if case is None:
            continue
        await tx.reminders.cancel(case.person, case_prefix(case.id))
        await tx.cases.set_status(case.id, "waiting", now)
        await tx.reminders.schedule(case.person, retry_key(case.id), now, 0)
        moved.append(case.id)
        log.info("handoff offer withdrawn case=%s offer=%s coach=%s", case.id, offer.id, coach_id)
    return moved


@dataclass(frozen=True)
class Place:
    status: PlaceStatus
    nis: str | None = None
    partnership: Partnership | None = None
    label: str | None = None


@dataclass(frozen=True)
class HandoffNote:
    place: Place
    case: CaseId | None = None
    refreshed: bool = False
    # The card for the coaches, written to the outbox in the submission's transaction, and
    # the young person's answer, written with the submission's own messages (bot.plugins.
    # Replies): a crash after the commit cannot lose them.
    coaches: Staged = field(default_factory=Staged)
    replies: tuple[OutgoingMessage, ...] = ()


@dataclass(frozen=True)
class Planned:
    case: CaseRecord
    offer: OfferRecord
    coach: CoachRecord


@dataclass(frozen=True)
class Escalated:
    """The case went to the team queue; ``fallback_at``: when the young person is pointed to
    the general service unless someone takes it first."""

    case: CaseRecord
    first: bool
    fallback_at: datetime


@dataclass
class Handoff:
    service: ConversationService
    directory: Directory
    holidays: Holidays
    resolver: Resolver | None = None
    accept_within_hours: float = 8.0
    timezone: str = "Europe/Brussels"
    fallback_after_days: int = 5
    chats: CoachChats | None = None
    """Set by the runtime once Telegram is up; without it nothing is tracked."""
    writer: CardWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = CardWriter(self.service.translator)
        # Messages to coaches that wait in the outbox go out the way send() sends them.
        self.service.relay.senders[COACH_VIA] = self.send_one

    # --- texts ----------------------------------------------------------------------------

    def say(self, language: str, *parts: Msg, buttons: Buttons = ()) -> OutgoingMessage:
        """A message for a young person, in their language (:mod:`bot.render`)."""
        return self.service.renderer.message(parts, language, buttons)

    def when(self, moment: datetime, language: str) -> str:
        now = self.service.clock.now()
        return when_text(self.service.translator, moment, now, language, self.timezone)

    def contacts(self, nis: str | None) -> Msg:
        fallback = self.directory.fallback_for(nis or "")
        lines = []
        for contact in fallback.contacts:
            site = (
                f" ({contact.url.removeprefix('https://').removeprefix('http://')})"
                if (contact.url)
                else ""
            )
            lines.append(f"• {contact.name}: {contact.phone}{site}")
        return msg("routing.contacts", contacts=Verbatim("\n".join(lines)))

    def month(self, now: datetime) -> str:
        return now.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m")

    # --- where -----------------------------------------------------------------------------

    def locate(self, answers: dict[str, JsonValue] | Session) -> Place:
        """Where the intake goes, from its answers (see the module rules)."""
        values = answers.answers if isinstance(answers, Session) else answers
        referred = values.get("referral_partnership")
        if values.get("place_status") == "referral" and isinstance(referred, str):
            # They kept the partnership of the referral link they came with
            # (bot/referral/feature.py); they did not say where they live.
            kept = self.directory.partnership(referred)
            return Place("routed", None, kept, None) if kept is not None else Place("no_place")
        value = parse_place_value(values.get("place"))
        status = values.get("place_status")
        label = values.get("place_label")
        if value is None and status != "outside_flanders":
            typed = values.get("place_text")
            if isinstance(typed, str) and typed != SKIPPED and self.resolver is not None:
                check = place_check_of(self.resolver.resolve(typed))
                if check.status == "ok":
                    value, label = parse_place_value(check.value), check.label
                elif check.status == "outside_flanders":
                    status = "outside_flanders"
        if value is None:
            kind: PlaceStatus = "outside_flanders" if status == "outside_flanders" else "no_place"
            return Place(kind)
        shown = label if isinstance(label, str) else None
        partnership = self.directory.partnership(value.partnership) if value.partnership else None
        if partnership is None:
            # A value cut for length, or a partnership since renamed: the municipality decides
            # when one partnership serves all of it.
            whole = [p for p, part in self.directory.coverage(value.municipality_nis) if part.whole]
            partnership = whole[0] if len(whole) == 1 else None
        if partnership is None:
            return Place("blind_spot", value.municipality_nis, None, shown)
        return Place("routed", value.municipality_nis, partnership, shown)

    def fallback_team(self, place: Place, answers: Mapping[str, JsonValue]) -> Partnership | None:
        """The fallback team of the place's region, when the young person chose to send their
        question there (``place_route`` "fallback"); ``None`` otherwise."""
        if answers.get("place_route") != "fallback":
            return None
        region: str | None = None
        if place.status == "outside_flanders":
            raw = answers.get("place_region")
            region = raw if raw in ("brussels", "wallonia") else "other"
        found = self.directory.fallback.for_region(region).team
        return self.directory.partnership(found) if found is not None else None

    # --- the submission -------------------------------------------------------------------

    async def on_submit(
        self, tx: Transaction, session: Session, effect: Effect, now: datetime
    ) -> HandoffNote:
        """Effect hook of ``SubmitIntake`` (inside the submission's transaction); what it did,
        for :meth:`after_submit`, with its messages already in the outbox."""
        note = await self._submit(tx, session, now)
        coaches, young = await self._submission_messages(tx, session, note)
        staged = await self.service.relay.stage_for(
            tx, coaches, via=COACH_VIA, about=session.person
        )
        return replace(note, coaches=staged, replies=tuple(young))

    async def _submit(self, tx: Transaction, session: Session, now: datetime) -> HandoffNote:
        person = session.person
        place = self.locate(session)
        if place.partnership is None:
            month = self.month(now)
            await tx.privacy.add_count(month, f"routing.{place.status}")
            if place.status == "blind_spot" and place.nis:
                await tx.privacy.add_count(month, f"routing.blind_spot.{place.nis}")
            for near in self._near(place.nis):
                await tx.cases.count_blind_spot(month, place.status, place.nis or "", near)
            team = self.fallback_team(place, session.answers)
            if team is None:
                log.info("handoff without a partnership person=%s kind=%s", person, place.status)
                return HandoffNote(place)
            # They chose to send their question anyway: a case for the fallback team, which
            # the flow named to them, with the same offers, deadlines and escalation.
            await tx.privacy.add_count(month, "routing.fallback_team")
            log.info("handoff to the fallback team person=%s kind=%s", person, place.status)
            place = Place(place.status, place.nis, team, place.label)
        partnership = place.partnership
        if partnership is None:  # for the type checker: both branches above set one
            return HandoffNote(place)
        intake = card_answers(session.answers)
        if place.label:
            intake["place_label"] = place.label
        latest = await tx.cases.latest_of(person)
        if (
            latest is not None
            and latest.status != "closed"
            and latest.partnership == partnership.id
        ):
            # Sent again (after /opnieuw): the same case, with the new answers.
            await tx.cases.set_intake(latest.id, intake)
            log.info("handoff refreshed case=%s", latest.id)
            return HandoffNote(place, latest.id, refreshed=True)
        case = await tx.cases.create(
            person, partnership.id, place.nis, session.language, intake, now
        )
        await tx.privacy.add_count(self.month(now), "cases.created")
        planned = await self.plan(tx, case, now)
        if isinstance(planned, Planned):
            await tx.cases.promise(case.id, planned.offer.deadline_at)
        elif isinstance(planned, Escalated):
            await tx.cases.promise(case.id, planned.fallback_at)
        return HandoffNote(place, case.id)

    async def after_submit(
        self, session: Session, effect: Effect, note: HandoffNote | None, now: datetime
    ) -> list[OutgoingMessage]:
        """After-commit hook of ``SubmitIntake``: the card out (from the outbox). The young
        person's answer goes with the submission's own messages (``HandoffNote.replies``)."""
        if note is not None:
            await self.service.relay.send_staged(note.coaches)
        return []

    async def _submission_messages(
        self, tx: Transaction, session: Session, note: HandoffNote
    ) -> tuple[Outbox, list[OutgoingMessage]]:
        """In the submission's transaction: the messages for the coaches (the card) and for
        the young person (what happens and by when)."""
        language = session.language
        if note.case is None:
            return [], [self._unrouted(note.place, language)]
        outbox: Outbox = []
        case = await tx.cases.get(note.case)
        if case is None:
            return [], []
        offer = await self._open_offer(tx, case)
        coach = await tx.coaches.get(offer.coach) if offer is not None else None
        if case.status == "open" and case.coach is not None:
            mine = await tx.coaches.get(case.coach)
            name = Verbatim(mine.first_name if mine else "")
            reply = self.say(language, msg("routing.handoff.refreshed", coach=name))
            if mine is not None and mine.person is not None:
                outbox.append(
                    (
                        mine.person,
                        self.writer.say(
                            "coach.refreshed",
                            case=case.id,
                            name=Verbatim(self.writer.young_name(case.intake)),
                        ),
                    )
                )
        elif offer is not None and coach is not None:
            if not note.refreshed:
                outbox += self._card(case, offer, coach)
            reply = self._offered(case, language)
        elif case.status == "escalated" and case.promised_at is not None:
            reply = self.say(
                language,
                msg(
                    "routing.handoff.team",
                    partnership=self._partnership_name(case),
                    when=Verbatim(self.when(case.promised_at, language)),
                ),
            )
        else:
            reply = self._waiting(case, language)
        return outbox, [reply]

    def _near(self, nis: str | None) -> list[str]:
        """The partnerships a blind spot is counted for: those serving part of the
        municipality, else none (``""``)."""
        if not nis:
            return [""]
        return [p.id for p, _ in self.directory.coverage(nis)] or [""]

    def _unrouted(self, place: Place, language: str) -> OutgoingMessage:
        contacts = self.contacts(place.nis)
        if place.status == "blind_spot":
            where: Param = Verbatim(place.label) if place.label else msg("routing.your_place")
            return self.say(language, msg("routing.handoff.blind_spot", place=where), contacts)
        if place.status == "outside_flanders":
            return self.say(language, msg("routing.handoff.outside"), contacts)
        return self.say(language, msg("routing.handoff.no_place"), contacts)

    def _partnership_name(self, case: CaseRecord) -> Verbatim:
        partnership = self.directory.partnership(case.partnership)
        return Verbatim(partnership.name if partnership else case.partnership)

    def _offered(self, case: CaseRecord, language: str) -> OutgoingMessage:
        promised = case.promised_at
        if promised is None:
            return self._waiting(case, language)
        return self.say(
            language,
            msg(
                "routing.handoff.offered",
                partnership=self._partnership_name(case),
                when=Verbatim(self.when(promised, language)),
            ),
        )

    def _waiting(self, case: CaseRecord, language: str) -> OutgoingMessage:
        return self.say(
            language,
            msg("routing.handoff.waiting", partnership=self._partnership_name(case)),
            self.contacts(case.municipality_nis),
        )

    # --- offers ---------------------------------------------------------------------------

    def _deadline(
        self, now: datetime, partnership: Partnership, coach: CoachRecord | None
    ) -> datetime:
        local_year = now.astimezone(ZoneInfo(self.timezone)).year
        holidays = self.holidays(local_year, local_year + 1)
        return deadline(now, self.accept_within_hours, partnership, coach, holidays)

    async def _open_offer(self, tx: Transaction, case: CaseRecord) -> OfferRecord | None:
        offers = [o for o in await tx.cases.offers_of(case.id) if o.status == "open"]
        return offers[-1] if offers else None

    async def plan(
        self, tx: Transaction, case: CaseRecord, now: datetime
    ) -> Planned | Escalated | None:
        """Offer the case to the next coach (or coordinator), else to the team queue; ``None``
        when the directory no longer knows the partnership (the case waits)."""
        await tx.reminders.cancel(case.person, case_prefix(case.id))
        partnership = self.directory.partnership(case.partnership)
        if partnership is None:
            await tx.cases.set_status(case.id, "waiting", now)
            await tx.reminders.schedule(case.person, retry_key(case.id), now + _NO_HOURS_RETRY, 0)
            log.info("handoff waits case=%s", case.id)
            return None
        members = await reachable_team(tx, case.partnership, now)
        offered = [o.coach for o in await tx.cases.offers_of(case.id)]
        need = need_from_answers(case.intake, case.language)
        choice = next_offer([p for _, p in members], need, offered=offered)
        if choice is None:
            return await self._escalate(tx, case, partnership, now)
        coach = next(c for c, p in members if p.id == choice.coach.id)
        due = self._deadline(now, partnership, coach)
        offer = await tx.cases.add_offer(case.id, coach.id, choice.to_json(), now, due)
        await tx.cases.set_status(case.id, "offered", now)
        await tx.coaches.mark_assigned(coach.id, now)
        await tx.reminders.schedule(case.person, offer_key(case.id, offer.id), due, 0)
        await tx.privacy.record_access(case.person, case.partnership, coach.id, "received", now)
        log.info(
            "handoff offer case=%s offer=%s coach=%s by=%s",
            case.id,
            offer.id,
            coach.id,
            choice.decided_by,
        )
        return Planned(case, offer, coach)

    def _holidays_around(self, now: datetime) -> frozenset[date]:
        year = now.astimezone(ZoneInfo(self.timezone)).year
        return self.holidays(year, year + 1)

    async def _escalate(
        self, tx: Transaction, case: CaseRecord, partnership: Partnership, now: datetime
    ) -> Escalated:
        """To the team queue: the fallback row (once) and the partnership's digest row."""
        first = await tx.cases.escalate(case.id, now)
        current = await tx.cases.get(case.id)
        assert current is not None
        since = current.escalated_at or now
        spec, tz = partnership.hours.spec, partnership.hours.timezone
        fallback_at = add_working_days(
            since, self.fallback_after_days, spec, self._holidays_around(since), tz
        )
        if current.fallback_at is None:
            await tx.reminders.schedule(case.person, fallback_key(case.id), fallback_at, 0)
        owner, key = team_person(partnership.id), digest_key(partnership.id)
        if not any(r.key == key for r in await tx.reminders.pending(owner)):
            digest_at = next_opening_day(now, spec, self._holidays_around(now), tz)
            await tx.reminders.schedule(owner, key, digest_at, 0)
        if first:
            await tx.privacy.add_count(self.month(now), "cases.escalated")
        log.info("handoff to the team queue case=%s first=%s", case.id, first)
        return Escalated(current, first, fallback_at)

    def _card(self, case: CaseRecord, offer: OfferRecord, coach: CoachRecord) -> Outbox:
        if coach.person is None:
            return []
        deadline_text = self.when(offer.deadline_at, "nl")
        return [(coach.person, m) for m in self.writer.card(case, offer, deadline_text)]

    async def move_on(
        self, tx: Transaction, case: CaseRecord, now: datetime, *, told_before: bool
    ) -> Outbox:
        """Offer the case to the next one, or to the team queue; the young person hears only
        when the time they were promised moves (see the module rules)."""
        planned = await self.plan(tx, case, now)
        language = case.language
        if planned is None:
            if told_before:
                return [(case.person, self._waiting(case, language))]
            return []
        if isinstance(planned, Escalated):
            return await self._promise(tx, case, planned.fallback_at, "routing.handoff.team")
        outbox = self._card(case, planned.offer, planned.coach)
        return outbox + await self._promise(
            tx, case, planned.offer.deadline_at, "routing.handoff.slipped"
        )

    async def _promise(
        self, tx: Transaction, case: CaseRecord, due: datetime, slipped: str
    ) -> Outbox:
        """Tell the young person a new time only when it is later than the one they have."""
        promised = case.promised_at
        if promised is not None and due <= promised:
            return []
        await tx.cases.promise(case.id, due)
        # The team queue has its own words; a first promise is not an apology.
        key = (
            slipped
            if promised is not None or slipped == "routing.handoff.team"
            else ("routing.handoff.offered")
        )
        language = case.language
        return [
            (
                case.person,
                self.say(
                    language,
                    msg(
                        key,
                        partnership=self._partnership_name(case),
                        when=Verbatim(self.when(due, language)),
                    ),
                ),
            )
        ]

    async def on_reminder(self, reminder: ReminderRecord) -> bool:
        """The reminder handler for ``handoff.*`` keys (see the module rules)."""
        if not reminder.key.startswith(REMINDER_PREFIX):
            return False
        parts = reminder.key.removeprefix(REMINDER_PREFIX).split(".")
        if parts[0] == DIGEST and len(parts) >= 2:
            self._need_team_channel()
            await self.digest(PartnershipId(".".join(parts[1:])))
            return True
        if not parts[0].isdigit() or parts[1:2] not in (["offer"], ["retry"], ["fallback"]):
            log.warning("handoff reminder with a bad key id=%s", reminder.id)
            return True
        case_id, kind = CaseId(parts[0]), parts[1]
        if kind != "fallback":
            # A card goes to a coach: a process without the team's channel leaves the reminder
            # for one that has it, before it changes anything.
            self._need_team_channel()
        now = self.service.clock.now()
        outbox: Outbox = []
        async with self.service.storage.transaction() as tx:
            if kind == "offer" and len(parts) == 3 and parts[2].isdigit():
                outbox = await self._expire(tx, int(parts[2]), now)
            elif kind == "retry":
                case = await tx.cases.get(case_id)
                if case is not None and case.status == "waiting":
                    outbox = await self.move_on(tx, case, now, told_before=False)
            elif kind == "fallback":
                outbox = await self._fallback(tx, case_id, now)
        await self.send(outbox)
        await self.tidy_cards(case_id)
        return True

    async def _fallback(self, tx: Transaction, case_id: CaseId, now: datetime) -> Outbox:
        """The warm fallback: once, only while nobody took the case."""
        case = await tx.cases.get(case_id)
        if case is None or case.status not in ("escalated", "waiting"):
            return []
        if not await tx.cases.mark_fallback(case.id, now):
            return []
        await tx.privacy.add_count(self.month(now), "cases.fallback")
        log.info("handoff warm fallback case=%s", case.id)
        return [
            (
                case.person,
                self.say(
                    case.language,
                    msg("routing.handoff.fallback", partnership=self._partnership_name(case)),
                    self.contacts(case.municipality_nis),
                ),
            )
        ]

    # --- the team queue --------------------------------------------------------------------

    async def digest(self, partnership_id: PartnershipId) -> None:
        """The daily digest of unclaimed cases to the partnership's coordinators (no
        coordinator: its coaches); scheduled again for the next working day while any
        remain."""
        now = self.service.clock.now()
        partnership = self.directory.partnership(partnership_id)
        async with self.service.storage.transaction() as tx:
            waiting = await tx.cases.of_partnership(partnership_id, ("escalated",))
            if not waiting or partnership is None:
                return
            members = [c for c, p in await reachable_team(tx, partnership_id, now) if p.available]
            readers = [c for c in members if c.role == "coordinator"] or members
            spec, tz = partnership.hours.spec, partnership.hours.timezone
            next_at = next_opening_day(now, spec, self._holidays_around(now), tz)
            await tx.reminders.schedule(
                team_person(partnership_id), digest_key(partnership_id), next_at, 0
            )
        if not readers:
            log.warning(
                "team queue without readers partnership=%s cases=%d", partnership_id, len(waiting)
            )
            return
        message = self.digest_message(partnership, waiting, now)
        await self.send([(c.person, message) for c in readers if c.person is not None])
        log.info(
            "team digest partnership=%s cases=%d readers=%d",
            partnership_id,
            len(waiting),
            len(readers),
        )

    def digest_message(
        self, partnership: Partnership, cases: list[CaseRecord], now: datetime
    ) -> OutgoingMessage:
        lines = [
            self.writer.text(
                "coach.digest.title", team=Verbatim(partnership.name), count=len(cases)
            )
        ]
        for case in cases:
            place = case.intake.get("place_label")
            domains = case.intake.get("domains")
            names = (
                ", ".join(self.writer.domain(str(d)) for d in domains)
                if (isinstance(domains, list) and domains)
                else self.writer.text("coach.card.unknown")
            )
            since = case.escalated_at or case.updated_at
            lines.append(
                self.writer.text(
                    "coach.digest.line",
                    case=case.id,
                    place=Verbatim(place if isinstance(place, str) else "?"),
                    domains=Verbatim(names),
                    since=Verbatim(self.when(since, "nl")),
                )
            )
        lines.append(self.writer.text("coach.digest.how"))
        buttons = tuple(
            ((self.writer.text("coach.digest.claim", case=case.id), f"case={case.id}:claim"),)
            for case in cases[:20]
        )
        return self.writer.team("\n".join(lines), buttons)

    # --- offers that end without an answer --------------------------------------------------

    async def withdraw_offers(
        self, tx: Transaction, coach_id: CoachId, now: datetime
    ) -> list[CaseId]:
        return await withdraw_offers(tx, coach_id, now)

    async def coach_gone(self, coach_id: CoachId) -> int:
        """Withdraw the coach's open offers and move those cases on now (in this process)."""
        now = self.service.clock.now()
        async with self.service.storage.transaction() as tx:
            moved = await self.withdraw_offers(tx, coach_id, now)
        for case_id in moved:
            await self.retry(case_id)
        return len(moved)

    async def retry(self, case_id: CaseId) -> None:
        """Move a waiting case on now (what its retry row would do at the next tick)."""
        now = self.service.clock.now()
        async with self.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            if case is None or case.status != "waiting":
                return
            outbox = await self.move_on(tx, case, now, told_before=False)
        await self.send(outbox)
        await self.tidy_cards(case_id)

    async def blocked_chat(self, chat_id: int) -> None:
        """A chat blocked the bot (``TelegramFrontDoor.on_blocked``): when it is a coach's,
        they are unreachable and lose their open offers."""
        person = PersonId(f"tg:{chat_id}")
        now = self.service.clock.now()
        async with self.service.storage.transaction() as tx:
            coach = await tx.coaches.by_person(person)
            if coach is None:
                return
            await tx.reachability.mark_unreachable(person, now)
        log.info("coach unreachable coach=%s", coach.id)
        await self.coach_gone(coach.id)

    async def _expire(self, tx: Transaction, offer_id: int, now: datetime) -> Outbox:
        offer = await tx.cases.get_offer(offer_id)
        if offer is None or offer.status != "open":
            return []  # answered in time (or declined): nothing to do
        if not await tx.cases.answer_offer(offer.id, "expired", now):
            return []
        case = await tx.cases.get(offer.case)
        if case is None:
            return []
        log.info("handoff offer expired case=%s offer=%s coach=%s", case.id, offer.id, offer.coach)
        outbox: Outbox = []
        previous = await tx.coaches.get(offer.coach)
        if previous is not None and previous.person is not None:
            outbox.append((previous.person, self.writer.say("coach.moved", case=case.id)))
        return outbox + await self.move_on(tx, case, now, told_before=True)

    # --- answers from the coach desk ------------------------------------------------------

    async def accept(self, coach: CoachRecord, case_id: CaseId) -> Outbox:
        """The coach takes the case; the messages are returned to be sent (:meth:`send`)."""
        outbox = await self._accept(coach, case_id, (), stage=False)
        assert not isinstance(outbox, Staged)
        return outbox

    async def accept_staged(
        self, coach: CoachRecord, case_id: CaseId, decorate: Sequence[Decorate] = ()
    ) -> Outbox | Staged:
        """Like :meth:`accept`, with the messages of a taken case (the coach's "is van jou" and
        details, the young person's welcome) written to the outbox in the accepting
        transaction (:mod:`bot.outbox`), after ``decorate`` (what other features add to them,
        without I/O) ran on them; send them with :meth:`send`. A refusal ("gone", "full") is
        returned as messages, undecorated."""
        return await self._accept(coach, case_id, decorate, stage=True)

    async def _accept(
        self, coach: CoachRecord, case_id: CaseId, decorate: Sequence[Decorate], *, stage: bool
    ) -> Outbox | Staged:
        now = self.service.clock.now()
        me = coach.person  # None: acting from the dashboard without a chat
        async with self.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            offer = await self._open_offer(tx, case) if case is not None else None
            claim = (
                case is not None
                and case.status in ("escalated", "waiting")
                and case.partnership == coach.partnership
            )
            if case is None or ((offer is None or offer.coach != coach.id) and not claim):
                if case is not None and case.status == "open" and case.coach == coach.id:
                    return self._to(me, self._coach_text("coach.accept.already", case=case_id))
                return self._to(me, self._coach_text("coach.accept.gone", case=case_id))
            mine = offer is not None and offer.coach == coach.id
            if coach.role == "coach":
                load = (await tx.cases.loads((coach.id,)))[coach.id] - (1 if mine else 0)
                if load >= coach.capacity:
                    return self._to(me, self.full_answer(case_id, load, coach.capacity))
            if mine:
                assert offer is not None
                if not await tx.cases.answer_offer(offer.id, "accepted", now):
                    return self._to(me, self._coach_text("coach.accept.gone", case=case_id))
            elif offer is not None:
                # Taken from the team queue while a colleague still had it: their offer ends.
                await tx.cases.answer_offer(offer.id, "withdrawn", now)
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
            outbox = self._accepted(case, coach, waiting)
            for decorator in decorate:
                outbox = decorator(case, coach, outbox)
            staged = (
                await self.service.relay.stage_for(tx, outbox, via=COACH_VIA, about=case.person)
                if stage
                else None
            )
        log.info(
            "handoff accepted case=%s offer=%s coach=%s",
            case.id,
            offer.id if offer is not None else "-",
            coach.id,
        )
        await self.tidy_cards(case.id)
        return outbox if staged is None else staged

    def full_answer(self, case_id: CaseId, load: int, capacity: int) -> OutgoingMessage:
        """The coach's answer when they cannot take a case: they are full."""
        return self._coach_text("coach.accept.full", case=case_id, load=load, capacity=capacity)

    def _accepted(
        self, case: CaseRecord, coach: CoachRecord, waiting: Sequence[RelayRecord]
    ) -> Outbox:
        me = coach.person
        name = Verbatim(self.writer.young_name(case.intake))
        # "Is van jou" first (other features add their buttons under it), then everything the
        # coach may now see.
        outbox: Outbox = self._to(me, self._coach_text("coach.accepted", case=case.id, name=name))
        outbox += [o for m in self.writer.details(case) for o in self._to(me, m)]
        outbox += [
            o
            for m in waiting
            for o in self._to(
                me,
                self._coach_text(
                    "coach.from_young", case=case.id, name=name, text=Verbatim(m.text)
                ),
            )
        ]
        outbox.append((case.person, self.welcome(case, coach)))
        return outbox

    def welcome(self, case: CaseRecord, coach: CoachRecord) -> OutgoingMessage:
        """What the young person hears when a coach takes their question."""
        way = case.intake.get("contact")
        step = {"phone": "routing.next.phone", "email": "routing.next.email"}.get(
            str(way), "routing.next.chat"
        )
        name = Verbatim(coach.first_name)
        return self.say(
            case.language,
            msg("routing.accepted", coach=name, organisation=Verbatim(coach.organisation)),
            msg(step, coach=name),
        )

    async def decline(self, coach: CoachRecord, case_id: CaseId) -> Outbox | Staged:
        """The coach's "Niet voor mij". What it causes (the coach's confirmation, the next
        coach's card, a new time for the young person) is written to the outbox in the
        transaction of the change (:mod:`bot.outbox`); send it with :meth:`send`."""
        now = self.service.clock.now()
        me = coach.person  # None: acting from the dashboard without a chat
        async with self.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            offer = await self._open_offer(tx, case) if case is not None else None
            if case is None or offer is None or offer.coach != coach.id:
                return self._to(me, self._coach_text("coach.accept.gone", case=case_id))
            if not await tx.cases.answer_offer(offer.id, "declined", now):
                return self._to(me, self._coach_text("coach.accept.gone", case=case_id))
            log.info("handoff declined case=%s offer=%s coach=%s", case.id, offer.id, coach.id)
            outbox = await self.move_on(tx, case, now, told_before=True)
            staged = await self.service.relay.stage_for(
                tx,
                [*self._to(me, self._coach_text("coach.declined", case=case_id)), *outbox],
                via=COACH_VIA,
                about=case.person,
            )
        await self.tidy_cards(case_id)
        return staged

    # --- coach chats: what the bot sent, and tidying it -------------------------------------

    async def tidy_cards(self, case_id: CaseId) -> None:
        """Edit every card of this case whose offer is over (declined, expired, withdrawn, or
        taken by someone else) to its number only."""
        if self.chats is None:
            return
        async with self.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            if case is None:
                return
            holders = {o.coach for o in await tx.cases.offers_of(case.id) if o.status == "open"}
            if case.status == "open" and case.coach is not None:
                holders.add(case.coach)
            stale = [
                m
                for m in await tx.cases.coach_messages_of(case.id)
                if m.kind == "card" and not m.redacted and m.coach not in holders
            ]
        if not stale:
            return
        done: list[int] = []
        for ref in stale:
            try:
                await self.chats.replace_text(
                    ref.chat, ref.message_id, self.writer.redacted(case.id)
                )
            except Exception as error:
                log.info("card not tidied case=%s error=%s", case.id, type(error).__name__)
            done.append(ref.id)
        async with self.service.storage.transaction() as tx:
            await tx.cases.mark_redacted(tuple(done))

    @staticmethod
    def _to(me: PersonId | None, message: OutgoingMessage) -> Outbox:
        """A message for the acting coach's chat, when they have one."""
        return [] if me is None else [(me, message)]

    def _coach_text(self, message_id: str, **params: Param) -> OutgoingMessage:
        return self.writer.say(message_id, **params)

    def _need_team_channel(self) -> None:
        """In a reminder (strict delivery): raise :class:`NoChannel` when this process cannot
        reach the team (coaches are Telegram chats)."""
        if delivery_is_strict() and not self.service.has_channel(TEAM_CHANNEL):
            raise NoChannel(TEAM_CHANNEL)

    async def send_one(self, person: PersonId, message: OutgoingMessage) -> None:
        """One message from the outbox (``Relay.senders``), sent like :meth:`send` sends it:
        a coach's copy of a case message is remembered by id. Raises when it did not go."""
        coaches = await self._coaches_among([(person, message)])
        coach = coaches.get(person)
        case = case_in(message.text) if coach is not None else None
        if self.chats is None or coach is None or case is None:
            await self.service.deliver(person, [message])
            return
        kind: CoachMessageKind = (
            "card"
            if any(value.endswith(":accept") for row in message.buttons for _, value in row)
            else "relay"
        )
        ids = await self.chats.deliver_tracked(person, message)
        await self._remember([(CaseId(case), coach, person, i, kind) for i in ids])

    async def send(self, outbox: Outbox | Staged) -> None:
        """Deliver after the commit; a failing chat does not stop the others. Messages about a
        case that go to a coach are remembered by id (see the module rules). In a reminder, a
        chat this process has no channel for raises :class:`NoChannel` after the others were
        tried, so the reminder is not marked sent. Messages already written to the outbox
        (:class:`Staged`) are sent from there (``Relay.send_staged``)."""
        if isinstance(outbox, Staged):
            await self.service.relay.send_staged(outbox)
            return
        coaches = await self._coaches_among(outbox)
        sent: list[tuple[CaseId, CoachId, PersonId, int, CoachMessageKind]] = []
        missing: NoChannel | None = None
        for person, message in outbox:
            try:
                coach = coaches.get(person)
                case = case_in(message.text) if coach is not None else None
                if self.chats is not None and coach is not None and case is not None:
                    kind: CoachMessageKind = (
                        "card"
                        if any(
                            value.endswith(":accept") for row in message.buttons for _, value in row
                        )
                        else "relay"
                    )
                    for message_id in await self.chats.deliver_tracked(person, message):
                        sent.append((CaseId(case), coach, person, message_id, kind))
                else:
                    await self.service.deliver(person, [message])
            except NoChannel as error:
                missing = error
            except Exception as error:
                # One unreachable chat must not keep the others from hearing.
                log.error(
                    "handoff delivery failed person=%s error=%s", person, type(error).__name__
                )
        if sent:
            await self._remember(sent)
        if missing is not None:
            raise missing

    async def _coaches_among(self, outbox: Outbox) -> dict[PersonId, CoachId]:
        if self.chats is None:
            return {}
        people = {p for p, m in outbox if p.startswith("tg:") and case_in(m.text) is not None}
        if not people:
            return {}
        found: dict[PersonId, CoachId] = {}
        try:
            async with self.service.storage.transaction() as tx:
                for person in people:
                    coach = await tx.coaches.by_person(person)
                    if coach is not None:
                        found[person] = coach.id
        except Exception as error:
            log.error("coach lookup failed error=%s", type(error).__name__)
        return found

    async def _remember(
        self, sent: list[tuple[CaseId, CoachId, PersonId, int, CoachMessageKind]]
    ) -> None:
        now = self.service.clock.now()
        for case_id, coach_id, chat, message_id, kind in sent:
            try:
                async with self.service.storage.transaction() as tx:
                    if await tx.cases.get(case_id) is None:
                        continue  # erased meanwhile
                    await tx.cases.add_coach_message(case_id, coach_id, chat, message_id, kind, now)
            except Exception as error:
                log.error(
                    "coach message not remembered case=%s error=%s", case_id, type(error).__name__
                )
