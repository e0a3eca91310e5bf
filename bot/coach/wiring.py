"""Installing the coach side on a conversation service (called from ``bot/runtime.py``).

Rules: every hook the coach side needs is set here, in one place, so the runtime stays a list
of explicit steps: the handoff on ``SubmitIntake`` (in the transaction and after the commit),
the relay as an after-flow hook, the young person's ``case=`` buttons, the routing part of the
personal data registry. The Telegram router (:attr:`CoachSide.desk`), the reminder handler
(:attr:`CoachSide.handoff`) and the erasure notifier (:attr:`CoachSide.relay`) are handed to
the channel, the tick and the privacy desk by the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.coach.card import CASE_BUTTONS
from bot.coach.desk import CoachDesk
from bot.coach.handoff import Handoff
from bot.coach.operations import CaseOperations
from bot.coach.relay import Relay
from bot.routing.gazetteer import belgian_public_holidays, load_directory, load_resolver
from bot.service import ConversationService
from bot.settings import Settings
from flows.effects import SubmitIntake
from storage.routing_personal import CasePart


@dataclass(frozen=True)
class CoachSide:
    handoff: Handoff
    relay: Relay
    desk: CoachDesk

    @property
    def operations(self) -> CaseOperations:
        """The case operations as plain functions (the dashboard's buttons)."""
        return CaseOperations(self.handoff, self.relay)


def install_coach_side(service: ConversationService, settings: Settings) -> CoachSide:
    handoff = Handoff(
        service,
        load_directory(),
        belgian_public_holidays,
        resolver=load_resolver(),
        accept_within_hours=settings.accept_within_hours,
        timezone=settings.timezone,
        fallback_after_days=settings.fallback_after_days,
    )
    relay = Relay(handoff)
    desk = CoachDesk(handoff, relay)
    service.effect_hooks[SubmitIntake] = handoff.on_submit
    service.after_commit[SubmitIntake] = handoff.after_submit
    service.after_flow.append(relay.after_flow)
    service.button_handlers[CASE_BUTTONS] = relay.on_button
    service.storage.personal_data_parts.append(CasePart())
    return CoachSide(handoff, relay, desk)
