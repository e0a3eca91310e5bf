"""The relay: coach and young person write to each other through the bot, kept with the case.

Rules of this module:

* Young person -> coach: :meth:`Relay.after_flow` is a :data:`bot.service.AfterFlow` hook, so
  it only sees text of a young person whose intake is done, after the safety screening (a
  crisis text is answered by the safety net and never relayed). The common case, a text to a
  case that is not closed, is stored in the input's own transaction (:meth:`Relay.relay_in`,
  the hook's in-transaction phase): one transaction per message. With an open case the text goes
  to the coach; while the case is still offered or waiting it is kept and handed over when a
  coach accepts; after closing the young person gets the way back ("ik heb opnieuw hulp nodig",
  also a button ``case=reopen``), which reopens the case with the same coach.
* Coach -> young person: :meth:`Relay.coach_wrote`, for the coach's own open case only. The
  young person sees the coach's first name as invited, never their Telegram name or handle.
* Every message is stored with its case (``relay_messages``, encrypted at rest) before it is
  sent, and what it causes (the coach's and the case team's copy, the young person's copy and
  the confirmations) is written to the outbox in that same transaction (:mod:`bot.outbox`,
  sent after the commit through ``Handoff.send_one``): a crash in between delays them, never
  loses them. Logs hold case and coach ids only.
* A coach's "current case" (where plain messages go) changes only by an explicit act of that
  coach: accepting a case or addressing one (a reply, ``/case N``). A reopened case does not
  take it over, so a message never lands with another young person by surprise.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.coach.card import CardWriter
from bot.coach.case_team import active_members, member_label
from bot.coach.files import RelayFiles
from bot.coach.handoff import COACH_VIA, DELETE_WITHIN, Handoff, Outbox
from bot.outbox import Staged
from bot.plugins import AfterFlowThen
from bot.privacy import AfterErasure
from bot.service import OutgoingMessage
from flows.ids import CaseId, PersonId
from flows.inputs import ButtonPressed, Input, MediaReceived, TextReceived
from flows.session import Session
from flows.text import Msg, Verbatim, msg
from storage.ports import Transaction
from storage.routing_port import CaseOutcome, CaseRecord, CoachRecord

log = logging.getLogger(__name__)

REOPEN = "case=reopen"
# A relayed message must fit one Telegram message with the header around it.
MAX_RELAY = 3500
_NOT_WORDS = re.compile(r"[^\w]+")


def _normal(text: str) -> str:
    return " ".join(_NOT_WORDS.sub(" ", text.casefold()).split())


@dataclass
class Relay:
    handoff: Handoff
    # Photos, PDFs and voice notes (bot.coach.files); without it the relay takes text only.
    files: RelayFiles | None = None
    _reopen_phrases: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        translator = self.handoff.service.translator
        phrases = set()
        for language in translator.languages:
            # The button's words, typed in any of the languages, do what the button does.
            phrases.add(_normal(translator.render(msg("routing.reopen.button"), language)))
        self._reopen_phrases = frozenset(p for p in phrases if p)

    @property
    def writer(self) -> CardWriter:
        return self.handoff.writer

    def _now(self) -> datetime:
        return self.handoff.service.clock.now()

    def reopen_button(self, language: str) -> tuple[tuple[tuple[str, str], ...], ...]:
        label = self.handoff.service.translator.render(msg("routing.reopen.button"), language)
        return (((label, REOPEN),),)

    # --- young person -> coach ------------------------------------------------------------

    async def relay_in(
        self, tx: Transaction, session: Session, event: Input
    ) -> AfterFlowThen | None:
        """The common case inside the input's transaction (the one that found the intake done,
        :data:`bot.plugins.AfterFlowInTransaction`): a text of fitting length to a case that is
        not closed is stored with it there; after the commit it goes to the coach and the case
        team, and the young person hears so. Anything else is :meth:`after_flow`'s."""
        if not isinstance(event, TextReceived):
            return None
        text = event.text.strip()
        if len(text) > MAX_RELAY:
            return None
        case = await tx.cases.latest_of(session.person)
        if case is None or case.status == "closed":
            return None
        staged = await self._store_for_coach(tx, case, text, session.language)

        async def then() -> list[OutgoingMessage]:
            # Written with the message (the outbox): to the coach and the case team first,
            # then the young person's confirmation.
            await self.handoff.service.relay.send_staged(staged)
            return []

        return then

    async def after_flow(self, session: Session, event: Input) -> list[OutgoingMessage] | None:
        """The :data:`bot.service.AfterFlow` hook (see the module rules)."""
        if isinstance(event, ButtonPressed):
            return None
        person, language = session.person, session.language
        async with self.handoff.service.storage.transaction() as tx:
            case = await tx.cases.latest_of(person)
        if case is None:
            return None
        say = self.handoff.say
        if case.status == "closed":
            if isinstance(event, TextReceived) and _normal(event.text) in self._reopen_phrases:
                await self.handoff.service.relay.send_staged(await self.reopen(person, language))
                return []
            return [say(language, msg("routing.closed.hint"), buttons=self.reopen_button(language))]
        if isinstance(event, MediaReceived) and self.files is not None:
            return await self.files.from_young(case, session, event)
        if not isinstance(event, TextReceived):
            return [say(language, msg("routing.text_only"))]
        text = event.text.strip()
        if len(text) > MAX_RELAY:
            return [say(language, msg("routing.too_long", limit=MAX_RELAY))]
        await self.handoff.service.relay.send_staged(await self._to_coach(case, text, language))
        return []

    async def _to_coach(self, case: CaseRecord, text: str, language: str) -> Staged:
        async with self.handoff.service.storage.transaction() as tx:
            return await self._store_for_coach(tx, case, text, language)

    async def _store_for_coach(
        self, tx: Transaction, case: CaseRecord, text: str, language: str
    ) -> Staged:
        """Store the young person's text with the case (inside ``tx``), and write to the
        outbox in the same transaction what it causes: the copies for the coach and the case
        team, and the young person's answer (send them after the commit with
        ``Relay.send_staged``)."""
        say = self.handoff.say
        now = self._now()
        relay = self.handoff.service.relay
        coach = await tx.coaches.get(case.coach) if case.coach is not None else None
        if case.status != "open" or coach is None or coach.person is None:
            # Kept for the coach who accepts: handed over with the acceptance.
            await tx.cases.add_message(case.id, "to_coach", text, now, delivered=False)
            log.info("relay kept case=%s", case.id)
            kept = say(language, msg("routing.kept"))
            return await relay.stage_for(
                tx, [(case.person, kept)], via=COACH_VIA, about=case.person
            )
        await tx.cases.add_message(case.id, "to_coach", text, now, delivered=True)
        # The case team (bot.coach.case_team) reads along, with the young person's yes.
        team = [m.person for m in await active_members(tx, case.id) if m.person is not None]
        log.info("relay to coach case=%s coach=%s team=%d", case.id, coach.id, len(team))
        name = Verbatim(self.writer.young_name(case.intake))
        note = self.writer.text("coach.from_young", case=case.id, name=name, text=Verbatim(text))
        outbox: Outbox = [(p, self.writer.team(note)) for p in (coach.person, *team)]
        reply = say(language, msg("routing.relayed", coach=Verbatim(coach.first_name)))
        return await relay.stage_for(
            tx, [*outbox, (case.person, reply)], via=COACH_VIA, about=case.person
        )

    # --- coach -> young person ------------------------------------------------------------

    async def coach_wrote(self, coach: CoachRecord, case_id: CaseId, text: str) -> Outbox | Staged:
        async with self.handoff.service.storage.transaction() as tx:
            return await self.coach_wrote_in(tx, coach, case_id, text)

    async def coach_wrote_in(
        self, tx: Transaction, coach: CoachRecord, case_id: CaseId, text: str
    ) -> Outbox | Staged:
        """:meth:`coach_wrote` inside ``tx`` (the coach desk does it in the input's own
        transaction); the messages are sent after the commit (``Handoff.send``). A message
        that was relayed has its messages written to the outbox in ``tx`` (:class:`Staged`):
        a crash after the commit sends them later, never not."""
        me = coach.person
        if me is None:
            return []
        text = text.strip()
        now = self._now()
        case = await tx.cases.get(case_id)
        # A member of the case team writes too, under their name and organisation.
        member = (
            case is not None
            and case.coach != coach.id
            and any(m.id == coach.id for m in await active_members(tx, case.id))
        )
        if case is None or (case.coach != coach.id and not member):
            return [(me, self._coach("coach.case.unknown", case_id))]
        if case.status != "open":
            return [(me, self._coach("coach.case.closed", case_id))]
        if not text:
            return [(me, self._coach("coach.case.empty", case_id))]
        if len(text) > MAX_RELAY:
            return [(me, self.writer.say("coach.too_long", limit=MAX_RELAY))]
        await tx.cases.add_message(case.id, "to_young", text, now, delivered=True)
        if coach.current_case != case.id:
            await tx.coaches.set_current_case(coach.id, case.id)
        log.info("relay to young person case=%s coach=%s", case.id, coach.id)
        language = case.language
        who = member_label(coach) if member else coach.first_name
        young = self.handoff.say(
            language, msg("routing.from_coach", coach=Verbatim(who), text=Verbatim(text))
        )
        name = Verbatim(self.writer.young_name(case.intake))
        sent = self.writer.say("coach.sent", case=case.id, name=name)
        return await self.handoff.service.relay.stage_for(
            tx, [(case.person, young), (me, sent)], via=COACH_VIA, about=case.person
        )

    def _coach(self, message_id: str, case_id: str) -> OutgoingMessage:
        return self.writer.say(message_id, case=case_id)

    # --- closing and reopening ------------------------------------------------------------

    async def close(
        self, coach: CoachRecord, case_id: CaseId, outcome: CaseOutcome
    ) -> Outbox | Staged:
        """Close the case. The coach's confirmation and the young person's message (with the
        reopen button) are written to the outbox in the transaction that closes it
        (:mod:`bot.outbox`); send them with ``Handoff.send``."""
        me = coach.person  # None: closing from the dashboard without a chat
        mine = self.handoff._to
        now = self._now()
        async with self.handoff.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            if case is None or case.coach != coach.id:
                return mine(me, self._coach("coach.case.unknown", case_id))
            if case.status != "open":
                return mine(me, self._coach("coach.case.closed", case_id))
            await tx.cases.close(case.id, outcome, now)
            if coach.current_case == case.id:
                await tx.coaches.set_current_case(coach.id, None)
            await tx.privacy.add_count(self.handoff.month(now), f"cases.closed.{outcome}")
            label = Verbatim(self.writer.text(f"coach.outcome.{outcome}"))
            language = case.language
            young = self.handoff.say(
                language,
                msg("routing.closed", coach=Verbatim(coach.first_name)),
                buttons=self.reopen_button(language),
            )
            done = self.writer.say("coach.closed", case=case.id, outcome=label)
            staged = await self.handoff.service.relay.stage_for(
                tx, [*mine(me, done), (case.person, young)], via=COACH_VIA, about=case.person
            )
        log.info("case closed case=%s coach=%s outcome=%s", case.id, coach.id, outcome)
        return staged

    async def on_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        """The young person's ``case=...`` buttons (a :data:`bot.service.ButtonHandler`)."""
        service = self.handoff.service
        if event.value != REOPEN:
            return
        async with service.storage.transaction() as tx:
            session = await tx.sessions.get(person)
        if session is not None:
            language = session.language
        async with service.person_lock(person):
            staged = await self.reopen(person, language)
        await service.relay.send_staged(staged)

    async def reopen(self, person: PersonId, language: str) -> Staged:
        """The young person needs help again: the same case, with the same coach if they can
        still be reached (else the partnership's next coach). The messages it causes are
        written to the outbox with the change; send them with ``Relay.send_staged``."""
        async with self.handoff.service.storage.transaction() as tx:
            outbox = await self._reopen(tx, person, language)
            return await self.handoff.service.relay.stage_for(
                tx, outbox, via=COACH_VIA, about=person
            )

    async def _reopen(self, tx: Transaction, person: PersonId, language: str) -> Outbox:
        say = self.handoff.say
        now = self._now()
        case = await tx.cases.latest_of(person)
        if case is None:
            return [(person, say(language, msg("routing.reopen.none")))]
        coach = await tx.coaches.get(case.coach) if case.coach is not None else None
        if case.status != "closed":
            if case.status == "open" and coach is not None:
                return [
                    (
                        person,
                        say(
                            language,
                            msg("routing.reopen.open", coach=Verbatim(coach.first_name)),
                        ),
                    )
                ]
            return [(person, say(language, msg("routing.kept")))]
        await tx.cases.reopen(case.id, now)
        await tx.privacy.add_count(self.handoff.month(now), "cases.reopened")
        if coach is not None and coach.active and coach.person is not None:
            log.info("case reopened case=%s coach=%s", case.id, coach.id)
            name = Verbatim(self.writer.young_name(case.intake))
            note = self.writer.text("coach.reopened", case=case.id, name=name)
            back = say(language, msg("routing.reopened", coach=Verbatim(coach.first_name)))
            return [(coach.person, self.writer.team(note)), (person, back)]
        # The coach left: the case goes round the partnership again.
        log.info("case reopened without its coach case=%s", case.id)
        reopened = await tx.cases.get(case.id)
        assert reopened is not None
        return await self.handoff.move_on(tx, reopened, now, told_before=True)

    # --- erasure (bot.privacy.CoachNotifier) ------------------------------------------------

    async def case_erased(self, tx: Transaction, person: PersonId) -> AfterErasure | None:
        """Tell the coaches of the person's cases that the case is gone, nothing more; keep an
        anonymous trace for the team; after the commit, delete the bot's messages about the
        person in coach chats where Telegram still allows it (48 hours), else edit them to
        "verwijderd"."""
        told: list[tuple[PersonId, Msg]] = []
        refs: list[tuple[CaseId, PersonId, int, datetime]] = []
        now = self._now()
        for case in await tx.cases.all_of(person):
            await tx.cases.record_erased(case, now)
            refs += [
                (case.id, m.chat, m.message_id, m.sent_at)
                for m in await tx.cases.coach_messages_of(case.id)
            ]
            coaches = {case.coach} if case.coach is not None else set()
            coaches |= {o.coach for o in await tx.cases.offers_of(case.id) if o.status == "open"}
            coaches |= {m.id for m in await active_members(tx, case.id)}
            for coach_id in coaches:
                coach = await tx.coaches.get(coach_id)
                if coach is not None and coach.person is not None and case.status != "closed":
                    told.append((coach.person, msg("coach.erased", case=case.id)))
        if not told and not refs:
            return None
        messages = [(p, self.writer.renderer.team([m])) for p, m in told]

        async def tell() -> None:
            await self.retract(refs, now)
            await self.handoff.send(messages)

        return tell

    async def retract(
        self, refs: list[tuple[CaseId, PersonId, int, datetime]], now: datetime
    ) -> None:
        """Delete (within 48 hours) or blank the bot's messages about an erased case."""
        chats = self.handoff.chats
        if chats is None:
            return
        deleted = edited = 0
        for case_id, chat, message_id, sent_at in refs:
            try:
                if now - sent_at < DELETE_WITHIN and await chats.delete_message(chat, message_id):
                    deleted += 1
                    continue
                if await chats.replace_text(chat, message_id, self.writer.erased(case_id)):
                    edited += 1
            except Exception as error:
                log.info("coach message not retracted error=%s", type(error).__name__)
        log.info("coach messages retracted deleted=%d edited=%d", deleted, edited)
