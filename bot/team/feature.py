"""The team dashboard as a feature (:mod:`bot.plugins`).

Rules: :meth:`TeamDashboard.register` is the only place the dashboard plugs in: its routes,
each with the permission it declares (:data:`bot.team.access.ROUTES`, behind the dashboard's
guard), the app's set-up (its dependencies, the security headers), the ``team`` personal-data
part and its housekeeping job. The dashboard needs the team's repository (``TEAM_DATA_KEY``:
its reports are queries, so only the SQL backend registers it today): it asks the storage for
that capability (``storage.provides``), never for its class, and on a storage without it
registers nothing. Cookies are Secure (``__Host-``) when
``OPSTAP_PUBLIC_URL`` is https; plain http is the development exception (``make run`` on
127.0.0.1), refused in production: there the routes are not registered without https, and a
warning says so (the personal-data part still is: the tables hold data either way).

The team queue's daily digest and its end (the warm fallback) are reminder rows of the coach
side (``handoff.digest.<partnership>``, ``handoff.<case>.fallback``, handled by the handoff's
reminder handler that the coach side registers): rows are claimed by one process under a
lease and fall at each partnership's opening hour, where a cron job would run in every
process. The dashboard lists what they leave in the team queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.appointments.booking import Booking
from bot.coach.handoff import Handoff
from bot.coach.relay import Relay
from bot.plugins import Job, Registry
from bot.referral.feature import cached_username
from bot.service import ConversationService
from bot.settings import Settings
from bot.team.app import TeamDeps, guarded_routes, prepare, templates
from bot.team.auth import IDLE, MAX_AGE, Authenticator
from storage.team_personal import ATTEMPTS_KEPT, TeamPart
from storage.team_sql import TEAM_DATA_KEY, SqlTeamStore

log = logging.getLogger(__name__)


@dataclass
class TeamDashboard:
    service: ConversationService
    settings: Settings
    handoff: Handoff
    relay: Relay
    booking: Booking | None
    name: str = "dashboard"
    deps: TeamDeps | None = field(default=None, init=False)

    def register(self, registry: Registry) -> None:
        storage = self.service.storage
        if not storage.provides(TEAM_DATA_KEY):
            log.warning("team dashboard off: the storage has no team repository")
            return
        registry.personal_data(TeamPart())
        store = SqlTeamStore(storage)
        registry.job("team.sessions", self._purge(store), "interval", minutes=15)
        secure = (self.settings.public_url or "").startswith("https://")
        if self.settings.production and not secure:
            log.warning("team dashboard off: production needs OPSTAP_PUBLIC_URL over https")
            return
        deps = TeamDeps(
            store=store,
            auth=Authenticator(store, self.service.clock),
            clock=self.service.clock,
            handoff=self.handoff,
            relay=self.relay,
            booking=self.booking,
            directory=self.handoff.directory,
            secure_cookies=secure,
            timezone=self.settings.timezone,
            report_min_count=self.settings.report_min_count,
            # Asked of Telegram once (getMe), then remembered: every poster needs it.
            bot_username=cached_username(self._bot_username),
            templates=templates(),
            public_url=self.settings.public_url,
        )
        self.deps = deps
        registry.http(lambda app: prepare(app, deps))
        for spec, handler in guarded_routes():
            registry.route(spec.method, spec.path, handler, permission=spec.permission)

    def _purge(self, store: SqlTeamStore) -> Job:
        clock = self.service.clock

        async def purge() -> None:
            """Sessions idle for longer than allowed and old login attempts go within 15
            minutes (the retention job would take a day); ids only, nothing logged."""
            now = clock.now()
            async with store.transaction() as t:
                await t.team.purge_sessions(now - IDLE, now - MAX_AGE)
                await t.team.purge_attempts(now - ATTEMPTS_KEPT)

        return purge

    async def _bot_username(self) -> str:
        settings = self.settings
        if settings.telegram_token is not None:
            from bot.telegram.whoami import fetch_bot_username

            return await fetch_bot_username(settings.telegram_token, settings.telegram_api_url)
        if settings.bot_username is not None:
            return settings.bot_username
        raise ValueError("no bot username")
