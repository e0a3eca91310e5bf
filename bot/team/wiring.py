"""Installing the team dashboard on the service (called from ``bot/runtime.py``).

Rules: the dashboard needs the SQL store (its reports are queries); on any other store it is
not mounted. Cookies are Secure (``__Host-``) when ``OPSTAP_PUBLIC_URL`` is https; plain http
is the development exception (``make run`` on 127.0.0.1), refused in production: there the
dashboard is not mounted without https, and a warning says so.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.appointments.booking import Booking
from bot.coach.handoff import Handoff
from bot.coach.relay import Relay
from bot.service import ConversationService
from bot.settings import Settings
from bot.team.app import TeamDeps, add_team_routes, templates
from bot.team.auth import Authenticator
from storage.sql import SqlStorage
from storage.team_personal import TeamPart
from storage.team_sql import SqlTeamStore

log = logging.getLogger(__name__)


def install_team(
    http: web.Application,
    settings: Settings,
    service: ConversationService,
    *,
    handoff: Handoff,
    relay: Relay,
    booking: Booking | None,
) -> TeamDeps | None:
    storage = service.storage
    if not isinstance(storage, SqlStorage):
        log.warning("team dashboard off: it needs the SQL store")
        return None
    secure = (settings.public_url or "").startswith("https://")
    if settings.production and not secure:
        log.warning("team dashboard off: production needs OPSTAP_PUBLIC_URL over https")
        return None

    async def bot_username() -> str:
        if settings.telegram_token is not None:
            from bot.telegram.whoami import fetch_bot_username

            return await fetch_bot_username(settings.telegram_token, settings.telegram_api_url)
        if settings.bot_username is not None:
            return settings.bot_username
        raise ValueError("no bot username")

    store = SqlTeamStore(storage)
    deps = TeamDeps(
        store=store,
        auth=Authenticator(store, service.clock),
        clock=service.clock,
        handoff=handoff,
        relay=relay,
        booking=booking,
        directory=handoff.directory,
        secure_cookies=secure,
        timezone=settings.timezone,
        report_min_count=settings.report_min_count,
        bot_username=bot_username,
        templates=templates(),
    )
    add_team_routes(http, deps)
    storage.personal_data_parts.append(TeamPart())
    return deps
