"""A case team: a colleague of another partner organisation looks along, if the young person
agrees.

Rules of this module:

* The coach asks with ``/meekijken N Naam`` (the colleague's first name or id): a coach of the
  same partnership, active, with a bound chat, of another partner organisation. Only the case's
  own coach, only for an open case.
* The young person is asked first, in plain words and in their language ("Mag Sara van CAW ook
  meekijken?"), with yes and no (``ctm=<id>:yes|no``). Nobody is added before yes; the answer
  is a compare-and-set, so a second press changes nothing.
* Once in, the colleague gets the full card, receives what the young person writes and can
  write in the relay (:class:`bot.coach.relay.Relay`); the young person sees their first name
  and organisation. The young person sees who looks along and can remove them at any time
  with ``/meekijken`` (``ctm=<id>:remove``); the coach and the colleague hear of it.
* Logs hold case, coach and member ids only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.coach.handoff import COACH_VIA, Handoff, Outbox
from bot.service import OutgoingMessage
from flows.ids import CaseId, PersonId
from flows.inputs import ButtonPressed, CommandReceived
from flows.text import Param, Verbatim, msg
from storage.case_team_port import CASE_TEAM_KEY, CaseMember, CaseMemberStatus
from storage.ports import Transaction
from storage.routing_port import CaseRecord, CoachRecord

if TYPE_CHECKING:
    # Only for a type: the desk imports the relay, which imports this module.
    from bot.coach.desk import CaseMoment

log = logging.getLogger(__name__)

TEAM_BUTTONS = "ctm"
COMMAND = "meekijken"


def member_label(coach: CoachRecord) -> str:
    """How the young person sees a team member: first name and organisation."""
    return f"{coach.first_name} ({coach.organisation})" if coach.organisation else coach.first_name


async def active_members(tx: Transaction, case_id: CaseId) -> list[CoachRecord]:
    """The colleagues looking along with a case right now (the young person said yes)."""
    found: list[CoachRecord] = []
    for member in await tx[CASE_TEAM_KEY].of_case(case_id):
        if member.status != "active":
            continue
        coach = await tx.coaches.get(member.coach)
        if coach is not None and coach.active:
            found.append(coach)
    return found


@dataclass
class CaseTeam:
    """The coach desk's ``/meekijken`` (a :class:`bot.coach.desk.DeskExtension`), the young
    person's ``/meekijken`` and their ``ctm=`` buttons."""

    handoff: Handoff

    def _coach(self, message_id: str, **params: Param) -> OutgoingMessage:
        return self.handoff.writer.say(message_id, **params)

    # --- the coach asks -------------------------------------------------------------------

    @property
    def commands(self) -> frozenset[str]:
        return frozenset({COMMAND})

    async def after(
        self, coach: CoachRecord, case_id: CaseId, moment: CaseMoment, outbox: Outbox
    ) -> Outbox:
        return outbox

    async def command(self, coach: CoachRecord, command: CommandReceived) -> Outbox:
        me = coach.person
        if me is None:
            return []
        number, _, wanted = command.args.strip().partition(" ")
        wanted = wanted.strip().casefold()
        if not number.isdigit() or not wanted:
            return [(me, self._coach("coach.team.how"))]
        case_id = CaseId(number)
        now = self.handoff.service.clock.now()
        async with self.handoff.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            if case is None or case.coach != coach.id:
                return [(me, self._coach("coach.case.unknown", case=case_id))]
            if case.status != "open":
                return [(me, self._coach("coach.case.closed", case=case_id))]
            colleagues = [
                c
                for c in await tx.coaches.of_partnership(case.partnership)
                if c.id != coach.id
                and c.active
                and c.person is not None
                and (c.id.casefold() == wanted or c.first_name.casefold() == wanted)
            ]
            if len(colleagues) != 1:
                return [(me, self._coach("coach.team.nobody", case=case.id))]
            colleague = colleagues[0]
            if colleague.organisation.casefold() == coach.organisation.casefold():
                text_id = "coach.team.same_organisation"
                label = Verbatim(colleague.first_name)
                return [(me, self._coach(text_id, case=case.id, name=label))]
            if any(
                m.coach == colleague.id and m.status in ("asked", "active")
                for m in await tx[CASE_TEAM_KEY].of_case(case.id)
            ):
                text_id = "coach.team.already"
                label = Verbatim(member_label(colleague))
                return [(me, self._coach(text_id, case=case.id, name=label))]
            member = await tx[CASE_TEAM_KEY].ask(case.id, case.person, colleague.id, coach.id, now)
        log.info("case team asked case=%s member=%s coach=%s", case.id, member, coach.id)
        render = self.handoff.service.translator.render
        language = case.language
        name, organisation = Verbatim(colleague.first_name), Verbatim(colleague.organisation)
        question = self.handoff.say(
            language,
            msg(
                "case_team.ask",
                name=name,
                organisation=organisation,
                coach=Verbatim(coach.first_name),
            ),
            buttons=(
                ((render(msg("case_team.button.yes"), language), f"{TEAM_BUTTONS}={member}:yes"),),
                ((render(msg("case_team.button.no"), language), f"{TEAM_BUTTONS}={member}:no"),),
            ),
        )
        young = Verbatim(self.handoff.writer.young_name(case.intake))
        asked = self._coach(
            "coach.team.asked",
            case=case.id,
            young=young,
            name=Verbatim(member_label(colleague)),
        )
        return [(case.person, question), (me, asked)]

    # --- the young person: answer, see, remove --------------------------------------------

    async def on_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        """``ctm=<id>:yes|no|remove`` (a :data:`bot.plugins.ButtonHandler`)."""
        _, _, rest = event.value.partition("=")
        number, _, answer = rest.partition(":")
        if not number.isdigit() or answer not in ("yes", "no", "remove"):
            return
        service = self.handoff.service
        now = service.clock.now()
        async with service.person_lock(person), service.storage.transaction() as tx:
            member = await tx[CASE_TEAM_KEY].get(int(number))
            case = None if member is None else await tx.cases.get(member.case_id)
            if member is None or case is None or member.person != person:
                return
            new: CaseMemberStatus
            expected: CaseMemberStatus
            if answer == "yes":
                new, expected = "active", "asked"
            elif answer == "no":
                new, expected = "declined", "asked"
            else:
                new, expected = "removed", "active"
            changed = await tx[CASE_TEAM_KEY].answer(member.id, new, now, expected=expected)
            colleague = await tx.coaches.get(member.coach)
            coach = await tx.coaches.get(case.coach) if case.coach is not None else None
            if not changed or colleague is None:
                outbox: Outbox = [(person, self.handoff.say(case.language, msg("case_team.stale")))]
            else:
                log.info(
                    "case team answered case=%s member=%s answer=%s",
                    case.id,
                    member.id,
                    answer,
                )
                outbox = self._answered(case, member, colleague, coach, answer)
            # Written with the answer: a crash after the commit cannot lose them.
            staged = await service.relay.stage_for(tx, outbox, via=COACH_VIA, about=case.person)
        await service.relay.send_staged(staged)

    def _answered(
        self,
        case: CaseRecord,
        member: CaseMember,
        colleague: CoachRecord,
        coach: CoachRecord | None,
        answer: str,
    ) -> Outbox:
        writer = self.handoff.writer
        young = Verbatim(writer.young_name(case.intake))
        label = Verbatim(member_label(colleague))
        name, organisation = Verbatim(colleague.first_name), Verbatim(colleague.organisation)
        language = case.language
        out: Outbox = []
        if answer == "yes":
            out.append(
                (
                    case.person,
                    self.handoff.say(
                        language, msg("case_team.joined", name=name, organisation=organisation)
                    ),
                )
            )
            if colleague.person is not None:
                by = Verbatim(coach.first_name if coach is not None else "-")
                welcome = self._coach("coach.team.welcome", case=case.id, young=young, coach=by)
                out.append((colleague.person, welcome))
                out += [(colleague.person, m) for m in writer.details(case)]
            text_id = "coach.team.agreed"
        elif answer == "no":
            out.append(
                (case.person, self.handoff.say(language, msg("case_team.declined", name=name)))
            )
            text_id = "coach.team.declined"
        else:
            out.append(
                (case.person, self.handoff.say(language, msg("case_team.removed", name=name)))
            )
            if colleague.person is not None:
                out.append((colleague.person, self._coach("coach.team.left", case=case.id)))
            text_id = "coach.team.removed"
        if coach is not None and coach.person is not None:
            out.append((coach.person, self._coach(text_id, case=case.id, young=young, name=label)))
        return out

    async def on_command(self, person: PersonId, command: CommandReceived, language: str) -> None:
        """The young person's ``/meekijken``: who looks along, with a button to stop each."""
        service = self.handoff.service
        async with service.storage.transaction() as tx:
            session = await tx.sessions.get(person)
            case = await tx.cases.latest_of(person)
            members: list[tuple[CaseMember, CoachRecord]] = []
            if case is not None:
                for member in await tx[CASE_TEAM_KEY].of_case(case.id):
                    colleague = await tx.coaches.get(member.coach)
                    if member.status == "active" and colleague is not None:
                        members.append((member, colleague))
        if session is not None:
            language = session.language
        if case is not None:
            language = case.language
        render = service.translator.render
        if not members:
            reply = self.handoff.say(language, msg("case_team.none"))
        else:
            names = ", ".join(member_label(c) for _, c in members)
            reply = self.handoff.say(
                language,
                msg("case_team.list", names=Verbatim(names)),
                buttons=tuple(
                    (
                        (
                            render(
                                msg("case_team.button.remove", name=Verbatim(c.first_name)),
                                language,
                            ),
                            f"{TEAM_BUTTONS}={m.id}:remove",
                        ),
                    )
                    for m, c in members
                ),
            )
        await service.deliver(person, [reply])
