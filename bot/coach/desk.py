"""The coach desk: what a coach's chat with the bot does.

Rules of this module:

* The desk is a router of the inbound pipeline (:class:`bot.pipeline.Router`):
  :meth:`CoachDesk.claims` looks inside the input's transaction (and relays a coach's message
  to a case right there, so it costs one transaction), :meth:`CoachDesk.route` handles the
  claimed input after it, with the coach the claim found. It takes an invite deep link
  (``/start c_...``) from any chat, and every input of a chat bound to a coach. Other chats are
  not touched (``False``): the young person's conversation goes on as before. When the lookup
  itself fails, the input is passed on rather than lost. When relaying a coach's message
  fails, nothing of it is kept or sent (the transaction rolls back) and the coach is told that
  this message did not reach the young person and to send it again (``coach.relay.failed``).
* Coach chats are team chats (:meth:`CoachDesk.is_team`, known in memory from start-up and every
  lookup): the pipeline does not screen them for crisis words.
* Only ``case=`` buttons are the desk's: any other button pressed in a coach chat (a safety
  alert's, a privacy one) goes on to the conversation service's button handlers.
* Coach actions: the card buttons (``case=<n>:accept`` / ``decline`` / ``close:<outcome>``;
  ``claim`` under the team digest takes a case from the partnership's team queue), a
  reply to any message of a case (it carries ``Dossier #n``), ``/case N [text]``, ``/cases``,
  ``/sluit N`` (then an outcome button), ``/help``. Plain text without a reply goes to the
  coach's current case (set by accepting a case or by ``/case N``), otherwise the desk asks which
  case is meant: a message is never guessed onto a young person.
* A coach acts on their own cases only; every action checks the case's coach in the same
  transaction that changes it. A deactivated coach is told so and can do nothing.
* Coaches read concise Dutch (``coach.*``).
* Other features plug in as :class:`DeskExtension` (appointments): the commands they name, and
  what they add to the desk's answer when a case is accepted, looked at (``/case N``) or closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from bot.coach.card import CASE_BUTTONS, CardWriter, case_button, case_in
from bot.coach.handoff import Handoff, Outbox
from bot.coach.invites import looks_like_invite, token_hash
from bot.coach.relay import Relay
from bot.inbound import Inbound
from bot.logs import describe
from bot.outbox import Staged
from bot.pipeline import ClaimFailed
from bot.service import OutgoingMessage
from flows.ids import CaseId, PersonId, row_number
from flows.inputs import ButtonPressed, CommandReceived, MediaReceived, ReminderDue, TextReceived
from flows.routing.outcomes import OUTCOMES, is_outcome
from flows.text import Param, Verbatim, msg
from storage.ports import Transaction, VersionConflict
from storage.routing_port import CASE_OUTCOMES, CaseOutcome, CaseRecord, CoachRecord

log = logging.getLogger(__name__)


class _ChatTaken(Exception):
    """The chat already belongs to another coach: roll the redemption back."""


CaseMoment = Literal["accepted", "viewed", "closed"]


@dataclass(frozen=True)
class Written:
    """The desk's claim of a coach's message it relayed inside the input's transaction: what
    is left to send after the commit."""

    coach: CoachRecord
    # Staged: already written to the outbox in that transaction (bot.coach.relay).
    outbox: Outbox | Staged


class DeskExtension(Protocol):
    """A feature's part of the coach desk: commands it answers, and what it adds to the desk's
    answer at a moment of a case (the answer is passed in and the extended one returned)."""

    @property
    def commands(self) -> frozenset[str]: ...

    async def command(self, coach: CoachRecord, command: CommandReceived) -> Outbox | Staged:
        """The answer to one of :attr:`commands`: messages, or what the command's own change
        wrote to the outbox with it (:mod:`bot.outbox`)."""
        ...

    async def after(
        self, coach: CoachRecord, case_id: CaseId, moment: CaseMoment, outbox: Outbox
    ) -> Outbox: ...


@runtime_checkable
class AcceptDecorator(Protocol):
    """An extension that adds to the desk's answer to "Neem op" without I/O: done inside the
    accepting transaction, so the outbox holds the answer as the coach sees it (the
    extension's ``after`` then gets an empty answer for "accepted")."""

    def accepted(self, case: CaseRecord, coach: CoachRecord, outbox: Outbox) -> Outbox: ...


@dataclass
class CoachDesk:
    handoff: Handoff
    relay: Relay
    extensions: list[DeskExtension] = field(default_factory=list)
    # Chats bound to a coach, as far as this process knows (never screened as young people).
    team: set[PersonId] = field(default_factory=set)

    @property
    def writer(self) -> CardWriter:
        return self.handoff.writer

    def _say(self, message_id: str, **params: Param) -> OutgoingMessage:
        return self.writer.say(message_id, **params)

    def _help_labels(self) -> frozenset[str]:
        translator = self.handoff.service.translator
        return frozenset(
            translator.render(msg("safety.button"), language).strip().casefold()
            for language in translator.languages
        )

    # --- the router -----------------------------------------------------------------------

    def is_team(self, person: PersonId) -> bool:
        return person in self.team

    async def warm(self) -> None:
        """Learn the coach chats at start-up (so their first message is not screened)."""
        async with self.handoff.service.storage.transaction() as tx:
            coaches = await tx.coaches.all()
        self.team.update(c.person for c in coaches if c.person is not None)

    def wants(self, inbound: Inbound) -> bool:
        """Without storage: never a reminder, never another feature's button (those are the
        service's button handlers' business, also in a coach chat)."""
        event = inbound.event
        if isinstance(event, ReminderDue):
            return False
        return not (
            isinstance(event, ButtonPressed) and event.value.partition("=")[0] != CASE_BUTTONS
        )

    def writes_in_claim(self, inbound: Inbound) -> bool:
        """Only a coach's message to a case is written in the claim (:meth:`_write_in`): plain
        text, a reply, a file, ``/case N tekst``. Any other input is a lookup."""
        event = inbound.event
        if isinstance(event, CommandReceived):
            return event.name == "case"
        return not isinstance(event, ButtonPressed) and self.wants(inbound)

    async def claims(self, tx: Transaction, inbound: Inbound) -> Written | CoachRecord | bool:
        """Inside the input's transaction: an invite link (``True``), or an input of a coach's
        chat (the coach: :meth:`route` needs no lookup of its own; a message to a case is
        relayed right here, :class:`Written`)."""
        if not self.wants(inbound):
            return False
        event = inbound.event
        if (
            isinstance(event, CommandReceived)
            and event.name == "start"
            and looks_like_invite(event.args)
        ):
            return True
        coach = await tx.coaches.by_person(inbound.person)
        if coach is None:
            return False
        self.team.add(inbound.person)
        written = await self._write_in(tx, coach, inbound)
        if written is not None:
            return Written(coach, written)
        return coach

    async def _write_in(
        self, tx: Transaction, coach: CoachRecord, inbound: Inbound
    ) -> Outbox | Staged | None:
        """A coach's message to a case (plain text to the current case, a reply, ``/case N
        text``), relayed inside the input's transaction: the coach's most common input costs
        one transaction. ``None``: anything else, which :meth:`route` handles after the commit
        (the same rules as :meth:`_handle`)."""
        event = inbound.event
        if not coach.active or inbound.edited or coach.person is None:
            return None
        if isinstance(event, TextReceived):
            if event.text.strip().casefold() in self._help_labels():
                return None
            case = case_in(inbound.reply_to) or coach.current_case
            if case is None:
                return None
            return await self._relay_in(tx, coach, CaseId(case), event.text)
        if (
            isinstance(event, CommandReceived)
            and event.name == "case"
            and not any(event.name in extension.commands for extension in self.extensions)
        ):
            number, _, text = event.args.strip().partition(" ")
            if row_number(number) is not None and text.strip():
                return await self._relay_in(tx, coach, CaseId(number), text)
        return None

    async def _relay_in(
        self, tx: Transaction, coach: CoachRecord, case_id: CaseId, text: str
    ) -> Outbox | Staged:
        """The relay in the input's transaction. When it fails, all of that transaction rolls
        back (the young person gets nothing, half or whole) and the coach hears that this
        message did not go and to send it again (:class:`ClaimFailed`), not the generic error
        text."""
        try:
            return await self.relay.coach_wrote_in(tx, coach, case_id, text)
        except VersionConflict:
            raise  # the pipeline runs the input again
        except Exception as error:
            raise ClaimFailed([self._relay_failed(coach, case_id, error)]) from error

    async def _relay(self, coach: CoachRecord, case_id: CaseId, text: str) -> Outbox | Staged:
        """The relay in a transaction of its own (the desk called without the pipeline's
        claim): on a failure the same answer to the coach as :meth:`_relay_in`."""
        try:
            return await self.relay.coach_wrote(coach, case_id, text)
        except Exception as error:
            assert coach.person is not None
            return [(coach.person, self._relay_failed(coach, case_id, error))]

    def _relay_failed(
        self, coach: CoachRecord, case_id: CaseId, error: Exception
    ) -> OutgoingMessage:
        """Log a failed relay by ids (never the text) and say so to the coach."""
        log.error(
            "relay to young person failed case=%s coach=%s error=%s",
            case_id,
            coach.id,
            describe(error),
        )
        return self._say("coach.relay.failed", case=case_id)

    async def route(self, inbound: Inbound, claim: object = None) -> bool:
        """Handle an input; ``claim`` is what :meth:`claims` found in the input's transaction
        (without it, for instance called directly, the coach is looked up here)."""
        event = inbound.event
        service = self.handoff.service
        if (
            isinstance(event, CommandReceived)
            and event.name == "start"
            and looks_like_invite(event.args)
        ):
            await self.handoff.send(await self._redeem(inbound.person, event.args))
            return True
        if isinstance(claim, Written):
            # Relayed in the input's transaction (:meth:`claims`): only the sending is left.
            await self.handoff.send(claim.outbox)
            return True
        coach = claim if isinstance(claim, CoachRecord) else None
        if coach is None:
            try:
                async with service.storage.transaction() as tx:
                    coach = await tx.coaches.by_person(inbound.person)
            except Exception as error:
                log.error("coach lookup failed person=%s error=%s", inbound.person, describe(error))
                return False
        if coach is None:
            return False
        if isinstance(event, ButtonPressed) and event.value.partition("=")[0] != CASE_BUTTONS:
            # Other features' buttons in a coach chat (a safety alert's "close", privacy) are
            # the service's button handlers' business.
            return False
        try:
            outbox = await self._handle(coach, inbound)
        except Exception as error:
            log.error("coach desk failed coach=%s error=%s", coach.id, describe(error))
            outbox = [(inbound.person, self._say("coach.error"))]
        await self.handoff.send(outbox)
        return True

    async def _redeem(self, person: PersonId, token: str) -> Outbox:
        now = self.handoff.service.clock.now()
        try:
            async with self.handoff.service.storage.transaction() as tx:
                coach_id = await tx.coaches.redeem_invite(token_hash(token), now)
                if coach_id is None:
                    return [(person, self._say("coach.invite.invalid"))]
                other = await tx.coaches.by_person(person)
                if other is not None and other.id != coach_id:
                    raise _ChatTaken
                await tx.coaches.bind(coach_id, person)
                self.team.add(person)
                coach = await tx.coaches.get(coach_id)
        except _ChatTaken:
            return [(person, self._say("coach.invite.taken"))]
        if coach is None:
            return [(person, self._say("coach.invite.invalid"))]
        log.info("coach bound coach=%s person=%s", coach.id, person)
        partnership = self.handoff.directory.partnership(coach.partnership)
        team = Verbatim(partnership.name if partnership else coach.partnership)
        return [
            (person, self._say("coach.welcome", name=Verbatim(coach.first_name), team=team)),
            (person, self._say("coach.help")),
        ]

    # --- a coach's input ------------------------------------------------------------------

    async def _handle(self, coach: CoachRecord, inbound: Inbound) -> Outbox | Staged:
        me = inbound.person
        event = inbound.event
        if not coach.active:
            return [(me, self._say("coach.inactive"))]
        if inbound.edited:
            return [(me, self._say("coach.edit_ignored"))]
        if isinstance(event, ButtonPressed):
            return await self._button(coach, event.value)
        if isinstance(event, CommandReceived):
            return await self._command(coach, event)
        if isinstance(event, MediaReceived):
            files = self.relay.files
            if files is None:
                return [(me, self._say("coach.text_only"))]
            target = case_in(inbound.reply_to) or coach.current_case
            if target is None:
                return [(me, self._say("coach.which_case"))]
            return await files.from_coach(coach, CaseId(target), event)
        if isinstance(event, TextReceived):
            if event.text.strip().casefold() in self._help_labels():
                # The young people's help keyboard shows in coach chats too: never relay it.
                return [(me, self._say("coach.help_button"))]
            case = case_in(inbound.reply_to) or coach.current_case
            if case is None:
                return [(me, self._say("coach.which_case"))]
            return await self._relay(coach, CaseId(case), event.text)
        return [(me, self._say("coach.help"))]

    async def _button(self, coach: CoachRecord, value: str) -> Outbox | Staged:
        me = coach.person
        assert me is not None
        prefix, _, rest = value.partition("=")
        case, _, action = rest.partition(":")
        if prefix != CASE_BUTTONS or row_number(case) is None:
            return [(me, self._say("coach.stale"))]
        case_id = CaseId(case)
        if action in ("accept", "claim"):
            decorate = [e.accepted for e in self.extensions if isinstance(e, AcceptDecorator)]
            accepted = await self.handoff.accept_staged(coach, case_id, decorate)
            if not isinstance(accepted, Staged):
                return await self._after(coach, case_id, "accepted", accepted)
            # Written with the change (what the extensions add to it included,
            # ``AcceptDecorator``): out first, then anything they send of their own.
            await self.handoff.send(accepted)
            return await self._after(coach, case_id, "accepted", [])
        if action == "decline":
            return await self.handoff.decline(coach, case_id)
        kind, _, outcome = action.partition(":")
        if kind == "close" and is_outcome(outcome):
            closed = await self.relay.close(coach, case_id, _outcome(outcome))
            if not isinstance(closed, Staged):
                return await self._after(coach, case_id, "closed", closed)
            # Written with the change: out first, then what the extensions add (their own
            # messages, after their own reads).
            await self.handoff.send(closed)
            return await self._after(coach, case_id, "closed", [])
        return [(me, self._say("coach.stale"))]

    async def _command(self, coach: CoachRecord, command: CommandReceived) -> Outbox | Staged:
        me = coach.person
        assert me is not None
        name = command.name
        for extension in self.extensions:
            if name in extension.commands:
                return await extension.command(coach, command)
        number, _, text = command.args.strip().partition(" ")
        if name == "case":
            if row_number(number) is None:
                return [(me, self._say("coach.case.how"))]
            if text.strip():
                return await self._relay(coach, CaseId(number), text)
            return await self._choose(coach, CaseId(number))
        if name == "cases":
            return [(me, await self._list(coach))]
        if name in ("sluit", "close"):
            target = number if row_number(number) is not None else coach.current_case
            if target is None:
                return [(me, self._say("coach.close.how"))]
            return await self._ask_outcome(coach, CaseId(target))
        return [(me, self._say("coach.help"))]

    async def _choose(self, coach: CoachRecord, case_id: CaseId) -> Outbox:
        me = coach.person
        assert me is not None
        async with self.handoff.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            if case is None or case.coach != coach.id:
                return [(me, self._say("coach.case.unknown", case=case_id))]
            if case.status != "open":
                return [(me, self._say("coach.case.closed", case=case_id))]
            await tx.coaches.set_current_case(coach.id, case.id)
        name = Verbatim(self.writer.young_name(case.intake))
        return await self._after(
            coach,
            case.id,
            "viewed",
            [(me, self._say("coach.case.current", case=case.id, name=name))],
        )

    async def _after(
        self, coach: CoachRecord, case_id: CaseId, moment: CaseMoment, outbox: Outbox
    ) -> Outbox:
        for extension in self.extensions:
            try:
                outbox = await extension.after(coach, case_id, moment, outbox)
            except Exception as error:
                # The desk's own answer still goes out when an extension fails.
                log.error(
                    "desk extension failed coach=%s case=%s error=%s",
                    coach.id,
                    case_id,
                    describe(error),
                )
        return outbox

    async def _list(self, coach: CoachRecord) -> OutgoingMessage:
        async with self.handoff.service.storage.transaction() as tx:
            cases = await tx.cases.of_coach(coach.id, ("open",))
        if not cases:
            return self._say("coach.cases.none")
        lines = [self.writer.text("coach.cases.title", count=len(cases), capacity=coach.capacity)]
        for case in cases:
            place = case.intake.get("place_label")
            lines.append(
                self.writer.text(
                    "coach.cases.line",
                    case=case.id,
                    name=Verbatim(self.writer.young_name(case.intake)),
                    place=Verbatim(place if isinstance(place, str) else "?"),
                )
            )
        return self.writer.team("\n".join(lines))

    async def _ask_outcome(self, coach: CoachRecord, case_id: CaseId) -> Outbox:
        me = coach.person
        assert me is not None
        async with self.handoff.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
        if case is None or case.coach != coach.id:
            return [(me, self._say("coach.case.unknown", case=case_id))]
        if case.status != "open":
            return [(me, self._say("coach.case.closed", case=case_id))]
        buttons = tuple(
            ((self.writer.text(f"coach.outcome.{o}"), case_button(case.id, f"close:{o}")),)
            for o in OUTCOMES
        )
        text = self.writer.text("coach.close.ask", case=case.id)
        return [(me, self.writer.team(text, buttons))]


def _outcome(value: str) -> CaseOutcome:
    for outcome in CASE_OUTCOMES:
        if outcome == value:
            return outcome
    raise ValueError("unknown outcome")
