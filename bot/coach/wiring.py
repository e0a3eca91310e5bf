"""The coach side as a feature (:mod:`bot.plugins`).

Rules: :meth:`CoachSide.register` is the only place the coach side plugs in: the handoff on
``SubmitIntake`` (its in-transaction note goes to its after-commit phase), the relay as an
after-flow hook, the young person's ``case=`` buttons, the coach desk as a router of the
inbound pipeline (its coach chats are team chats, not screened), the handoff's reminder
handler, what happens when the outbox gives up the handover's PDF for VDAB, the ``cases``
personal-data part and the desk's start-up (learning the coach chats).
The erasure notifier (:attr:`CoachSide.relay`) is handed to the privacy feature by the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.coach.card import CASE_BUTTONS
from bot.coach.case_team import COMMAND as TEAM_COMMAND
from bot.coach.case_team import TEAM_BUTTONS, CaseTeam
from bot.coach.desk import CoachDesk
from bot.coach.files import RelayFiles
from bot.coach.handoff import Handoff
from bot.coach.handover import HANDOVER_BUTTONS, HANDOVER_VIA, HandoverDesk
from bot.coach.operations import CaseOperations
from bot.coach.relay import Relay
from bot.plugins import Registry
from bot.routing.gazetteer import belgian_public_holidays, load_directory, load_resolver
from bot.service import ConversationService
from bot.settings import Settings
from flows.effects import SubmitIntake
from storage.case_team import CaseTeamPart
from storage.handovers import HandoverPart
from storage.relay_files import RelayFilePart
from storage.routing_personal import CasePart


@dataclass(frozen=True)
class CoachSide:
    handoff: Handoff
    relay: Relay
    desk: CoachDesk
    handover: HandoverDesk
    team: CaseTeam
    name: str = "coach"

    def register(self, registry: Registry) -> None:
        registry.on_effect(
            SubmitIntake,
            in_transaction=self.handoff.on_submit,
            after_commit=self.handoff.after_submit,
        )
        registry.after_flow_hook(self.relay.after_flow, in_transaction=self.relay.relay_in)
        registry.button(CASE_BUTTONS, self.relay.on_button)
        registry.router(self.desk, team=self.desk.is_team)
        registry.reminders(self.handoff.on_reminder)
        registry.personal_data(CasePart())
        # After the cases part: their retention removes a case, then its files go.
        registry.personal_data(RelayFilePart())
        registry.personal_data(HandoverPart())
        registry.button(HANDOVER_BUTTONS, self.handover.on_button)
        # VDAB's chat never took the PDF: the handover says so and its coach is told.
        registry.undelivered(HANDOVER_VIA, self.handover.undelivered)
        registry.personal_data(CaseTeamPart())
        registry.button(TEAM_BUTTONS, self.team.on_button)
        registry.command(TEAM_COMMAND, self.team.on_command)
        registry.start(self.desk.warm)

    @property
    def operations(self) -> CaseOperations:
        """The case operations as plain functions (the dashboard's buttons)."""
        return CaseOperations(self.handoff, self.relay)


def coach_side(service: ConversationService, settings: Settings) -> CoachSide:
    handoff = Handoff(
        service,
        load_directory(),
        belgian_public_holidays,
        resolver=load_resolver(),
        accept_within_hours=settings.accept_within_hours,
        timezone=settings.timezone,
        fallback_after_days=settings.fallback_after_days,
    )
    relay = Relay(handoff, files=RelayFiles(handoff))
    handover = HandoverDesk(handoff)
    team = CaseTeam(handoff)
    desk = CoachDesk(handoff, relay, extensions=[handover, team])
    return CoachSide(handoff, relay, desk, handover, team)


def install_coach_side(service: ConversationService, settings: Settings) -> CoachSide:
    """Build the coach side and plug it into ``service``."""
    side = coach_side(service, settings)
    service.add(side)
    return side
