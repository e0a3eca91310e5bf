"""Building the referral feature for the runtime (:class:`bot.referral.feature.Referrals`).

The bot's @username for ``/uitnodigen`` links is ``OPSTAP_BOT_USERNAME``, else asked of Telegram
once (getMe) when the first invitation is made.
"""

from __future__ import annotations

from bot.coach.wiring import CoachSide
from bot.referral.cli import bot_username
from bot.referral.feature import Referrals, cached_username
from bot.service import ConversationService
from bot.settings import Settings


def referral_feature(
    service: ConversationService, settings: Settings, coach: CoachSide
) -> Referrals:
    """The feature (plug it in with ``service.add``, after the coach side)."""

    async def username() -> str:
        return await bot_username(settings)

    return Referrals(
        service,
        coach.handoff,
        cached_username(username),
        desk=coach.desk,
        public_url=settings.public_url,
    )
