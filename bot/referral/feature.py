"""Referrals as a feature (:mod:`bot.plugins`): partners' links and coaches' invitations.

Rules of this module:

* :meth:`Referrals.register` is the only place the feature plugs in: a router of the inbound
  pipeline for ``/start <code>`` (Telegram's deep link; the web chat's ``/?ref=<code>`` arrives
  the same way), the ``invite=`` buttons, a ``SubmitIntake`` hook (registered after the coach
  side: the case the handoff made in the same transaction is there), the coach desk's
  ``/uitnodigen`` (a :class:`bot.coach.desk.DeskExtension`) and the ``referral`` personal-data
  part.
* **A partner's link** (``r_...``) starts the intake as ``/start`` does, with the link's
  partnership preselected (one engine input, :class:`flows.inputs.LinkFollowed` with
  :func:`flows.intake.flow.referral_answers`: the place question offers it in one tap; typing a
  place routes by the place as always), and records the arrival with the
  link's source, in the same transaction. When the intake is sent the arrival is marked, with
  the case it made: the statistics count intakes and cases per source
  (:meth:`storage.referral.ReferralRepository.source_counts`).
* **A coach's personal invitation** (``i_...``, ``/uitnodigen``; valid :data:`INVITE_VALID`,
  used once) asks the young person first whether they want to be connected to that coach. On
  "yes" (a consent record) a case is made in the coach's partnership and offered to that coach,
  who accepts it at once (:meth:`bot.coach.handoff.Handoff.accept`, with the desk extensions'
  additions): no round of offers. The young person's intake is then done (the engine input
  :class:`flows.inputs.ConnectedToCoach`; the answers given so far are kept for the coach), so
  what they write goes to their coach. The acceptance's messages (the coach's "is van jou" with
  what ``AcceptDecorator`` extensions add, the welcome) are written to the outbox in the
  accepting transaction (:mod:`bot.outbox`) and sent after its commit. When the coach is full
  (the acceptance's own rule, checked in the connecting transaction) the offer stays open for
  them with the usual deadline, and then moves on as any offer does; the coach's "full" with
  the card and the young person's "you will hear when" are written to the outbox in the
  connecting transaction. Only a coach who became full between that commit and the acceptance
  gets these sent directly.
* An unknown, expired or used code (any ``/start`` payload but a coach's own invite) gets a
  kind message and the normal start: nothing is lost.
* ``/start <code>`` costs one transaction: the router's claim (:meth:`Referrals.claims`, in the
  pipeline's transaction of the input, ``writes_in_claim``) reads the code and does the write
  (the engine's start with its messages staged, the arrival, the invitation opened);
  :meth:`Referrals.route` only sends after the commit.
* A session changes only through the engine (``service.step``); this module never saves one.
* Every time comes from the service's clock. Logs hold ids only, never a code.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.coach.dates import when_text
from bot.coach.desk import AcceptDecorator, CaseMoment, CoachDesk
from bot.coach.handoff import COACH_VIA, Handoff, Outbox, offer_key
from bot.coach.invites import looks_like_invite as looks_like_coach_invite
from bot.coach.team import deadline
from bot.conversations import NOTICE_VERSION
from bot.inbound import Inbound
from bot.outbox import Staged
from bot.pipeline import Routed
from bot.plugins import Registry
from bot.referral.codes import (
    code_hash,
    is_invite_code,
    is_link_code,
    new_invite_code,
    telegram_link,
    web_link,
)
from bot.service import ConversationService, OutgoingMessage
from flows.effects import Effect, SubmitIntake
from flows.ids import CaseId, CoachId, PartnershipId, PersonId
from flows.inputs import ButtonPressed, CommandReceived, ConnectedToCoach, LinkFollowed
from flows.intake.flow import referral_answers
from flows.routing.card import card_answers
from flows.session import JsonValue, Session
from flows.text import Msg, Verbatim, msg
from storage.ports import ConsentRecord, Transaction, VersionConflict
from storage.referral import ReferralPart, referrals_of
from storage.referral_port import CODE
from storage.routing_port import CoachRecord

log = logging.getLogger(__name__)

INVITE_BUTTONS = "invite"
INVITE_VALID = timedelta(days=14)
INVITE_COMMANDS = frozenset({"uitnodigen", "invite"})
# The consent record of "connect me to this coach" (the notice version is the intake's).
CONSENT_CATEGORY = "coach_invite"
ATTEMPTS = 3

Username = Callable[[], Awaitable[str]]


async def add_personal_invite(
    tx: object, coach: CoachRecord, now: datetime
) -> tuple[str, datetime]:
    """A new personal invitation of ``coach`` (``/uitnodigen``, and the same in the team
    dashboard): its code, to hand on once, and when it ends. Only the code's hash is stored."""
    code = new_invite_code()
    until = now + INVITE_VALID
    await referrals_of(tx).add_invite(code_hash(code), coach.id, coach.partnership, now, until)
    return code, until


@dataclass(frozen=True)
class _Started:
    """A ``/start <code>`` done in the input's transaction (the router's claim): what is left
    to send after the commit. ``routed``: the engine's start, its messages staged in the outbox
    (after the kind word ``before``); ``ask``: an invitation's question instead."""

    person: PersonId
    routed: Routed | None
    before: tuple[Msg, ...] = ()
    ask: OutgoingMessage | None = None


@dataclass
class InviteDesk:
    """``/uitnodigen`` on the coach desk (a :class:`bot.coach.desk.DeskExtension`)."""

    referrals: Referrals
    commands: frozenset[str] = INVITE_COMMANDS

    async def command(self, coach: CoachRecord, command: CommandReceived) -> Outbox:
        return await self.referrals.invite(coach)

    async def after(
        self, coach: CoachRecord, case_id: CaseId, moment: CaseMoment, outbox: Outbox
    ) -> Outbox:
        return outbox


@dataclass
class Referrals:
    service: ConversationService
    handoff: Handoff
    username: Username
    desk: CoachDesk | None = None
    public_url: str | None = None
    name: str = "referral"
    invite_desk: InviteDesk = field(init=False)

    def __post_init__(self) -> None:
        self.invite_desk = InviteDesk(self)

    def register(self, registry: Registry) -> None:
        registry.router(self)
        registry.button(INVITE_BUTTONS, self.on_button)
        registry.on_effect(SubmitIntake, in_transaction=self.on_submit)
        registry.personal_data(ReferralPart())
        if self.desk is not None:
            self.desk.extensions.append(self.invite_desk)

    # --- texts ----------------------------------------------------------------------------

    def say(
        self, language: str, *parts: Msg, buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    ) -> OutgoingMessage:
        return self.handoff.say(language, *parts, buttons=buttons)

    def _coach_text(self, message_id: str, **params: str | Verbatim) -> str:
        return self.service.translator.render(msg(message_id, **params), "nl")

    # --- the router: /start <code> ----------------------------------------------------------

    def wants(self, inbound: Inbound) -> bool:
        event = inbound.event
        # Any payload but a coach's own invite (the coach desk's, ``c_``): an old or mistyped
        # code still gets the kind word below.
        return (
            isinstance(event, CommandReceived)
            and event.name == "start"
            and CODE.fullmatch(event.args.strip()) is not None
            and not looks_like_coach_invite(event.args.strip())
        )

    def writes_in_claim(self, inbound: Inbound) -> bool:
        """A start with a code is done in the claim: one transaction for the input."""
        return self.wants(inbound)

    async def claims(self, tx: Transaction, inbound: Inbound) -> _Started | bool:
        """Inside the input's transaction (the pipeline's only one for it): the link's start,
        the invitation opened, or the normal start after a kind word; :meth:`route` sends what
        it left after the commit. A version conflict runs the whole input again."""
        if not self.wants(inbound):
            return False
        event = inbound.event
        assert isinstance(event, CommandReceived)
        code = event.args.strip()
        person = inbound.person
        language = self.service.language_for(inbound.language_hint)
        if is_link_code(code):
            return await self._link(tx, person, code, language)
        if is_invite_code(code):
            return await self._invite(tx, person, code, language)
        log.info("start with an unknown payload person=%s", person)
        return await self._start_in(tx, person, language, msg("referral.link.unknown"))

    async def route(self, inbound: Inbound, claim: object = None) -> bool:
        """After the commit: send what the claim left. Without the pipeline's claim (called on
        its own) the claim's work runs in a transaction of its own first."""
        started = claim if isinstance(claim, _Started) else await self._claim_alone(inbound)
        if started is None:
            return False
        if started.ask is not None:
            await self.service.deliver(started.person, [started.ask])
            return True
        routed = started.routed
        assert routed is not None
        if not started.before:
            await self.service.deliver_routed(routed)
            return True
        said = self.say(routed.session.language, *started.before)
        # The start's messages were staged in the outbox with the session: marked sent here,
        # or the relay's sweep would send them a second time.
        follow = await self.service.finish(routed)
        await self.service.relay.deliver(started.person, [said, *follow], routed.staged_ids)
        return True

    async def _claim_alone(self, inbound: Inbound) -> _Started | None:
        for _ in range(ATTEMPTS):
            try:
                async with self.service.storage.transaction() as tx:
                    claimed = await self.claims(tx, inbound)
                return claimed if isinstance(claimed, _Started) else None
            except VersionConflict:
                log.info("version conflict person=%s", inbound.person)
        raise RuntimeError("version conflict persisted")

    async def _start(self, person: PersonId, language: str, *before: Msg) -> None:
        """The normal start (the welcome, or "continue?"), after ``before`` in its language."""
        now = self.service.clock.now()
        routed = await self.service.run(person, CommandReceived("start", "", now), language)
        said = [self.say(routed.session.language, *before)] if before else []
        # The start's messages were staged in the outbox (``service.run``): marked sent here,
        # or the relay's sweep would send them a second time.
        follow = await self.service.finish(routed)
        await self.service.relay.deliver(person, [*said, *follow], routed.staged_ids)

    async def _start_in(
        self, tx: Transaction, person: PersonId, language: str, *before: Msg
    ) -> _Started:
        """:meth:`_start` inside ``tx``: the engine's start, its messages staged."""
        now = self.service.clock.now()
        start = CommandReceived("start", "", now)
        stepped = await self.service.step(tx, person, start, language, after_flow=False)
        assert isinstance(stepped, Routed)  # after_flow=False: the engine ran
        return _Started(person, await self.service.stage(tx, stepped), before)

    async def _link(self, tx: Transaction, person: PersonId, code: str, language: str) -> _Started:
        now = self.service.clock.now()
        referrals = referrals_of(tx)
        link = await referrals.link(code)
        valid = link is not None and link.valid_at(now)
        partnership = (
            self.handoff.directory.partnership(link.partnership)
            if link is not None and valid
            else None
        )
        if link is None or partnership is None:
            log.info("referral link unknown or expired person=%s", person)
            return await self._start_in(tx, person, language, msg("referral.link.unknown"))
        # The start and the link's answers in one engine input (the session changes only
        # through the engine).
        followed = LinkFollowed(referral_answers(partnership.id, partnership.name), now)
        stepped = await self.service.step(tx, person, followed, language, after_flow=False)
        assert isinstance(stepped, Routed)  # after_flow=False: the engine ran
        routed = await self.service.stage(tx, stepped)
        if routed.session.step is not None and not routed.discard:
            await referrals.arrive(person, "link", partnership.id, link.source, now, link_code=code)
            log.info("referral link person=%s partnership=%s", person, partnership.id)
        return _Started(person, routed)

    # --- a coach's personal invitation -----------------------------------------------------

    async def invite(self, coach: CoachRecord) -> Outbox:
        """``/uitnodigen``: a new invitation of ``coach``, as a message to the coach."""
        if coach.person is None:
            return []
        now = self.service.clock.now()
        async with self.service.storage.transaction() as tx:
            code, until = await add_personal_invite(tx, coach, now)
        link = telegram_link(await self.username(), code)
        when = when_text(self.service.translator, until, now, "nl", self.handoff.timezone)
        text = self._coach_text("coach.personal_invite", link=Verbatim(link), until=Verbatim(when))
        if self.public_url is not None:
            web = Verbatim(web_link(self.public_url, code))
            text += "\n" + self._coach_text("coach.personal_invite.web", link=web)
        log.info("referral invite made coach=%s", coach.id)
        return [(coach.person, self.handoff.writer.team(text))]

    def _ask(self, coach: CoachRecord, language: str) -> OutgoingMessage:
        name = Verbatim(coach.first_name)
        buttons = (
            ((self.service.translator.render(msg("referral.invite.yes"), language), "invite=yes"),),
            ((self.service.translator.render(msg("referral.invite.no"), language), "invite=no"),),
        )
        question = msg("referral.invite.ask", coach=name, organisation=Verbatim(coach.organisation))
        return self.say(language, question, buttons=buttons)

    async def _invite(
        self, tx: Transaction, person: PersonId, code: str, language: str
    ) -> _Started:
        now = self.service.clock.now()
        invite = await referrals_of(tx).open_invite(code_hash(code), person, now)
        coach = await tx.coaches.get(CoachId(invite.coach)) if invite is not None else None
        session = await tx.sessions.get(person)
        if session is not None:
            language = session.language
        if invite is None or coach is None or not coach.active:
            log.info("referral invite unknown, used or expired person=%s", person)
            return await self._start_in(tx, person, language, msg("referral.invite.gone"))
        log.info("referral invite opened person=%s coach=%s", person, coach.id)
        return _Started(person, None, ask=self._ask(coach, language))

    async def on_button(self, person: PersonId, event: ButtonPressed, hint: str) -> None:
        """``invite=yes`` / ``invite=no`` under the invitation's question."""
        answer = event.value.partition("=")[2]
        now = self.service.clock.now()
        async with self.service.storage.transaction() as tx:
            referrals = referrals_of(tx)
            invite = await referrals.opened_invite(person, now)
            coach = await tx.coaches.get(CoachId(invite.coach)) if invite is not None else None
            session = await tx.sessions.get(person)
            language = session.language if session is not None else hint
            language = self.service.language_for(language)
            partnership = self.handoff.directory.partnership(invite.partnership) if invite else None
            case_id: CaseId | None = None
            connected: Routed | None = None
            # The coach is full: what that causes, written with the connection.
            offered: Staged | None = None
            declined = False
            if invite is not None and coach is not None and coach.active and partnership:
                asked = self._ask(coach, language).text
                given = answer == "yes"
                await tx.consents.record(
                    ConsentRecord(
                        person,
                        CONSENT_CATEGORY,
                        given,
                        NOTICE_VERSION,
                        hashlib.sha256(asked.encode()).hexdigest(),
                        now,
                    )
                )
                declined = not given
                if given and await referrals.use_invite(invite.code_hash, now):
                    case_id, connected, full = await self._connect(
                        tx, person, session, coach, language, now
                    )
                    if full:
                        offered = await self.service.relay.stage_for(
                            tx,
                            await self._still_offered(tx, person, coach, case_id, language),
                            via=COACH_VIA,
                            about=person,
                        )
        if declined:
            await self._start(person, language, msg("referral.invite.declined"))
            return
        if case_id is None or coach is None or connected is None:
            await self._start(person, language, msg("referral.invite.gone"))
            return
        # What the engine's "done" says after the commit (nothing today; it remembers the
        # language for the screen), then the coach's acceptance.
        done = await self.service.finish(connected)
        extensions = self.desk.extensions if self.desk is not None else []
        if offered is not None:
            # The coach is full (as the acceptance would find): the offer stays theirs until
            # its deadline, as any offer (the card lets them take it or pass it on), and the
            # young person hears when. Written with the connection, out after "done".
            if done:
                await self.handoff.send([(person, message) for message in done])
            await self.handoff.send(offered)
            return
        decorate = [e.accepted for e in extensions if isinstance(e, AcceptDecorator)]
        accepted = await self.handoff.accept_staged(coach, case_id, decorate)
        if isinstance(accepted, Staged):
            # Written with the acceptance (what the extensions add to it included, as the
            # desk's "Neem op" does): out after "done", then what the extensions send of
            # their own after their own reads.
            if done:
                await self.handoff.send([(person, message) for message in done])
            await self.handoff.send(accepted)
            extra: Outbox = []
            for extension in extensions:
                extra = await extension.after(coach, case_id, "accepted", extra)
            if extra:
                await self.handoff.send(extra)
            return
        outbox = accepted
        for extension in extensions:
            outbox = await extension.after(coach, case_id, "accepted", outbox)
        if not any(to == person for to, _ in outbox):
            # The coach became full between the connection's commit and the acceptance (a
            # case taken meanwhile): as above, sent directly (the refusal is a message).
            async with self.service.storage.transaction() as tx:
                outbox += await self._still_offered(
                    tx, person, coach, case_id, language, refused=False
                )
        await self.handoff.send([*((person, message) for message in done), *outbox])

    async def _still_offered(
        self,
        tx: Transaction,
        person: PersonId,
        coach: CoachRecord,
        case_id: CaseId,
        language: str,
        *,
        refused: bool = True,
    ) -> Outbox:
        """The coach is full: their "full" answer (unless the refused acceptance gave it),
        the offer's card, and the young person's "you will hear when"."""
        case = await tx.cases.get(case_id)
        offers = await tx.cases.offers_of(case_id) if case is not None else []
        open_offers = [o for o in offers if o.status == "open" and o.coach == coach.id]
        if case is None or not open_offers or case.promised_at is None:
            return []
        offer = open_offers[-1]
        load = (await tx.cases.loads((coach.id,)))[coach.id] - 1
        full = self.handoff.full_answer(case_id, load, coach.capacity)
        outbox: Outbox = [(coach.person, full)] if coach.person is not None and refused else []
        if coach.person is not None:
            due = self.handoff.when(offer.deadline_at, "nl")
            outbox += [(coach.person, m) for m in self.handoff.writer.card(case, offer, due)]
        partnership = self.handoff.directory.partnership(case.partnership)
        name = Verbatim(partnership.name if partnership is not None else case.partnership)
        when = Verbatim(self.handoff.when(case.promised_at, language))
        told = self.say(language, msg("routing.handoff.offered", partnership=name, when=when))
        return [*outbox, (person, told)]

    async def _connect(
        self,
        tx: Transaction,
        person: PersonId,
        session: Session | None,
        coach: CoachRecord,
        language: str,
        now: datetime,
    ) -> tuple[CaseId, Routed, bool]:
        """The case with the coach's partnership, offered to that coach; the intake done
        (through the engine: :class:`ConnectedToCoach`). Also whether the coach is full (the
        acceptance's own rule, :meth:`bot.coach.handoff.Handoff.accept`)."""
        partnership = self.handoff.directory.partnership(coach.partnership)
        assert partnership is not None
        intake = card_answers(session.answers) if session is not None else {}
        case = await tx.cases.create(
            person, PartnershipId(partnership.id), None, language, intake, now
        )
        month = now.astimezone(ZoneInfo(self.handoff.timezone)).strftime("%Y-%m")
        await tx.privacy.add_count(month, "cases.created")
        await tx.privacy.add_count(month, "referral.invite")
        year = now.astimezone(ZoneInfo(self.handoff.timezone)).year
        due = deadline(
            now,
            self.handoff.accept_within_hours,
            partnership,
            coach,
            self.handoff.holidays(year, year + 1),
        )
        load = (await tx.cases.loads((coach.id,)))[coach.id]
        reasons: dict[str, JsonValue] = {
            "decided_by": "only",
            "expertise": [],
            "language": None,
            "load": load,
            "capacity": coach.capacity,
            "role": coach.role,
            "invite": True,
        }
        offer = await tx.cases.add_offer(case.id, coach.id, reasons, now, due)
        await tx.cases.set_status(case.id, "offered", now)
        await tx.cases.promise(case.id, due)
        await tx.coaches.mark_assigned(coach.id, now)
        await tx.reminders.schedule(person, offer_key(case.id, offer.id), due, 0)
        await tx.privacy.record_access(person, case.partnership, coach.id, "received", now)
        # The intake is done through the engine (its nudges go with it).
        routed = await self.service.step(
            tx, person, ConnectedToCoach(now), language, after_flow=False
        )
        assert isinstance(routed, Routed)  # after_flow=False: the engine ran
        referrals = referrals_of(tx)
        arrival = await referrals.arrive(
            person, "invite", partnership.id, coach.organisation, now, coach=coach.id
        )
        await referrals.mark_submitted(arrival, now, case.id)
        log.info("referral invite connected person=%s coach=%s case=%s", person, coach.id, case.id)
        return case.id, routed, coach.role == "coach" and load >= coach.capacity

    # --- where an intake came from ----------------------------------------------------------

    async def on_submit(
        self, tx: Transaction, session: Session, effect: Effect, now: datetime
    ) -> None:
        """``SubmitIntake``: the arrival of a link is marked with the case it made (if any)."""
        referrals = referrals_of(tx)
        arrival = await referrals.latest_arrival(session.person)
        if arrival is None or arrival.kind != "link":
            return
        case = await tx.cases.latest_of(session.person)
        made = case.id if case is not None and case.created_at >= arrival.arrived_at else None
        await referrals.mark_submitted(arrival.id, now, made)


def cached_username(fetch: Username) -> Username:
    """Ask once (getMe), then remember."""
    found: list[str] = []

    async def username() -> str:
        if not found:
            found.append(await fetch())
        return found[0]

    return username
