"""The composition root: builds every part from settings and runs them together.

Rules: this is the only module that knows every concrete adapter. The features (coach side,
appointments, privacy, safety net, dashboard; :mod:`bot.plugins`) are composed from one list, in
the order their hooks run; everything they add (hooks, buttons, routers, reminder handlers and
holds, jobs, personal-data parts, HTTP routes) reaches the service, the pipeline, the tick, the
scheduler and the HTTP app through the registry, never by hand here. Start-up order is storage,
service, features, HTTP, scheduler, Telegram; shutdown is the reverse, bounded so Ctrl-C or SIGTERM
stop the process in time. Storage gets the keyring from the settings (encryption at rest). The
retention purge runs daily at 03:30 local time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.appointments.wiring import appointment_side
from bot.clock import SystemClock
from bot.coach.wiring import coach_side
from bot.conversations import ENTRY, build_flows
from bot.i18n import DEFAULT_LOCALES_DIR, Translator
from bot.logs import describe
from bot.plugins import Feature, Job
from bot.privacy import PrivacyDesk
from bot.referral.wiring import referral_feature
from bot.retention import policy_from, prune_handled, purge
from bot.safety import compiled
from bot.safety.alerts import CaseOnDuty, FallbackOnDuty, SafetyNet
from bot.safety.helplines import load_helplines
from bot.safety.responder import HelpLineResponder
from bot.scheduler import ReminderTick
from bot.service import Channel, Clock, ConversationService
from bot.settings import Settings
from bot.team.feature import TeamDashboard
from bot.web.app import CHANNEL_KEY, CLOCK_KEY, INBOX_KEY, SECURE_KEY, SERVICE_KEY, add_routes
from bot.web.channel import WebChannel
from bot.web.inbox import WebInbox
from bot.web.limits import GuardedAppRunner, install_limits
from flows.ids import PersonId
from flows.safety.helplines import HelpLines
from storage.leader import leader_lock
from storage.sql import open_storage

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 256 * 1024
# Seconds between attempts to reach the Bot API at start-up: doubling, then every minute.
TELEGRAM_RETRY = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
# The whole graceful stop, and the parts of it.
STOP_WITHIN = 9.0
TICK_STOP = 3.0
TELEGRAM_STOP = 4.0


@dataclass
class Runtime:
    settings: Settings
    service: ConversationService
    web_channel: WebChannel
    tick: ReminderTick
    http: web.Application
    telegram: object | None = None
    web_inbox: WebInbox | None = None
    _runner: web.AppRunner | None = None
    _scheduler: AsyncIOScheduler | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _telegram_start: asyncio.Task[None] | None = None
    telegram_ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when the compiled screener should be stored for the next start (bot.safety.compiled).
    store_screener: Callable[[], Path] | None = None
    _cache_write: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.http.middlewares.append(self._refuse_while_stopping)
        # The outbox: replies a crash left (the web chat's now, Telegram's once it runs), then
        # batched bookkeeping and a sweep for stragglers.
        relay = self.service.relay
        try:
            await relay.sweep(everything=True, background=True)
        except Exception as error:
            log.error("outbox sweep at start failed error=%s", describe(error))
        relay.start()
        if self.web_inbox is not None:
            # The web chat's inputs a crash or a stop left, after their replies and before the
            # page can send anything new: their turns are reserved before the site opens.
            await self.web_inbox.start()
        # Slow and idle connections are closed (bot.web.limits).
        self._runner = GuardedAppRunner(self.http, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.http_host, self.settings.http_port)
        await site.start()
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            _stoppable(self._tick, "reminder-tick"),
            "interval",
            seconds=self.settings.tick_seconds,
            max_instances=1,
            coalesce=True,
            # The job only ticks; a missed tick is simply the next one.
            misfire_grace_time=None,
            id="reminder-tick",
        )
        scheduler.add_job(
            _stoppable(self._retention, "retention-purge"),
            "cron",
            hour=3,
            minute=30,
            timezone=ZoneInfo(self.settings.timezone),
            max_instances=1,
            coalesce=True,
            # Down at 03:30: still purge when back the same morning.
            misfire_grace_time=6 * 3600,
            id="retention-purge",
        )
        scheduler.add_job(
            _stoppable(self._prune_handled, "inbox-prune"),
            "interval",
            hours=1,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            id="inbox-prune",
        )
        for job in self.service.registry.jobs:
            scheduler.add_job(
                _stoppable(self._job(job.run, job.name), job.name),
                job.trigger,
                max_instances=1,
                coalesce=True,
                id=job.name,
                **job.options,
            )
        scheduler.start()
        self._scheduler = scheduler
        if self.telegram is not None:
            self._telegram_start = asyncio.create_task(self._start_telegram())
        if self.store_screener is not None:
            self._cache_write = asyncio.create_task(self._store_screener(self.store_screener))

    @staticmethod
    async def _store_screener(store: Callable[[], Path]) -> None:
        # After start-up and off the event loop, once per version.  It takes about 9 seconds
        # (pickling re-parses every pattern), more on a busy machine, so it runs in a daemon
        # thread and not in the loop's executor: a stop never waits for it (SIGTERM stops in
        # time; asyncio.run would join an executor thread).  The file is replaced atomically,
        # so a write cut off by the exit leaves no cache and the next start writes it again.
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()

        def report(error: Exception | None) -> None:
            if finished.done():
                return
            if error is None:
                finished.set_result(None)
            else:
                finished.set_exception(error)

        def write() -> None:
            error: Exception | None = None
            try:
                store()
            except Exception as failed:
                error = failed
            # When the loop has closed, nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(report, error)

        threading.Thread(target=write, name="screener-cache", daemon=True).start()
        try:
            await finished
        except Exception as error:
            log.warning("screener cache not written error=%s", describe(error))

    async def _start_telegram(self) -> None:
        from bot.telegram.app import TelegramFrontDoor

        assert isinstance(self.telegram, TelegramFrontDoor)
        attempt = 0
        while not self._stopping.is_set():
            try:
                await self.telegram.start()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                wait = TELEGRAM_RETRY[min(attempt, len(TELEGRAM_RETRY) - 1)]
                attempt += 1
                # The type only: PTB's messages and tracebacks quote the token.
                log.error(
                    "telegram start failed error=%s attempt=%d retry_in=%.0fs",
                    type(error).__name__,
                    attempt,
                    wait,
                )
                await self.telegram.reset()
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=wait)
                except TimeoutError:
                    continue
                return
            else:
                if attempt:
                    log.info("telegram started attempt=%d", attempt + 1)
                self.telegram_ready.set()
                return

    @web.middleware
    async def _refuse_while_stopping(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if self._stopping.is_set():
            # Telegram and the page try again later, against the next process.
            raise web.HTTPServiceUnavailable(headers={"Retry-After": "5"})
        return await handler(request)

    @staticmethod
    def _job(run: Job, name: str) -> Job:
        async def guarded() -> None:
            try:
                await run()
            except Exception as error:
                log.error("job failed job=%s error=%s", name, describe(error))

        return guarded

    async def _tick(self) -> None:
        try:
            await self.tick.run_once()
        except Exception as error:
            log.error("tick failed error=%s", describe(error))

    async def _prune_handled(self) -> None:
        try:
            await prune_handled(self.service.storage, self.service.clock.now())
        except Exception as error:
            log.error("inbox prune failed error=%s", describe(error))

    async def _retention(self) -> None:
        try:
            await purge(self.service.storage, self.service.clock.now(), policy_from(self.settings))
        except Exception as error:
            log.error("retention failed error=%s", describe(error))

    async def stop(self) -> None:
        # From here on every HTTP request gets 503 (the middleware above).
        self._stopping.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        if self._telegram_start is not None and not self._telegram_start.done():
            self._telegram_start.cancel()
            await asyncio.gather(self._telegram_start, return_exceptions=True)

        async def stop_tick() -> None:
            try:
                await self.tick.stop(within=TICK_STOP)
            except Exception as error:
                log.error("tick did not stop cleanly error=%s", describe(error))

        async def stop_telegram() -> None:
            if self.telegram is None or not self.telegram_ready.is_set():
                return
            from bot.telegram.app import TelegramFrontDoor

            assert isinstance(self.telegram, TelegramFrontDoor)
            try:
                await asyncio.wait_for(self.telegram.stop(), timeout=TELEGRAM_STOP)
            except (TimeoutError, Exception) as error:
                log.warning("telegram did not stop cleanly error=%s", type(error).__name__)

        await asyncio.gather(stop_tick(), stop_telegram())
        if self.web_inbox is not None:
            # Inputs being handled again are left pending for the next start.
            await self.web_inbox.stop()
        # What was sent and handled is written back; the rest is sent or handled at the next
        # start (at most twice, never lost).
        await self.service.relay.stop()
        if self._cache_write is not None and not self._cache_write.done():
            # The daemon thread writing the cache is left to finish or to end with the process.
            self._cache_write.cancel()
            await asyncio.gather(self._cache_write, return_exceptions=True)
        if self._runner is not None:
            try:
                await asyncio.wait_for(self._runner.cleanup(), timeout=1.5)
            except TimeoutError:
                log.warning("http did not stop cleanly")
        await self.service.storage.close()


def bot_id(token: str) -> int:
    """The bot's numeric id: the part of the token before the colon (0 when it is not a number;
    the Bot API refuses such a token anyway)."""
    head = token.partition(":")[0]
    return int(head) if head.isdigit() and len(head) <= 19 else 0


def warn_about_safety_setup(settings: Settings, lines: HelpLines) -> None:
    """Said in the first lines at start-up: who hears a safety signal, and which help lines
    nobody has verified yet (the team checks them; the bot never calls them verified)."""
    if settings.safety_chat_id is None:
        log.warning(
            "no safety chat configured (OPSTAP_SAFETY_CHAT_ID): a safety signal of a young "
            "person without a coach reaches nobody of the team; they are told to call the "
            "help lines themselves"
        )
    unverified = [line.id for line in lines.unverified()]
    if unverified:
        log.warning("help lines not verified yet: %s", ", ".join(unverified))


async def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    locales_dir: Path = DEFAULT_LOCALES_DIR,
) -> Runtime:
    clock = clock or SystemClock()
    # Bookkeeping timestamps come from the same clock as every decision.
    storage = await open_storage(settings.database_url, settings.keyring, now=clock.now)
    if settings.keyring is None:
        log.warning("encryption at rest is off: OPSTAP_SECRET_KEY is not set")
    warn_about_safety_setup(settings, load_helplines())
    translator = Translator.from_dir(locales_dir, settings)
    # The web channel stores its transcript (and registers its personal-data part).
    web_channel = WebChannel(storage, clock=clock)
    channels: dict[str, Channel] = {"web": web_channel}
    flows = build_flows(translator)
    # Safety first: every text is screened and a flag gets the help lines at once. The
    # compiled screener comes from the cache when it is current (most of a start otherwise).
    screener, stale = compiled.load(settings.cache_dir)
    responder = HelpLineResponder(translator, load_helplines())
    service = ConversationService(
        storage=storage,
        flows=flows,
        entry=ENTRY,
        channels=channels,
        translator=translator,
        clock=clock,
        screener=screener,
        crisis=responder,
    )
    coach = coach_side(service, settings)
    appointments = appointment_side(
        service,
        settings,
        directory=coach.handoff.directory,
        holidays=coach.handoff.holidays,
        coach_desk=coach.desk,
    )
    # Coach messages of the appointments go through the coach side (so /wis can remove them).
    appointments.context.sender = coach.handoff.send
    referrals = referral_feature(service, settings, coach)
    safety_chat = (
        None if settings.safety_chat_id is None else PersonId(f"tg:{settings.safety_chat_id}")
    )
    features: list[Feature] = [
        coach,
        # After the coach side: its follow-up planning needs the case the handoff made in the
        # same transaction (hooks of one effect run in this order).
        appointments,
        # After the coach side too: an intake's arrival is marked with the case the handoff
        # made in the same transaction.
        referrals,
        PrivacyDesk(service, notifier=coach.relay, timezone=settings.timezone),
        SafetyNet(
            service,
            responder,
            CaseOnDuty(storage, FallbackOnDuty(safety_chat)),
            ack_minutes=settings.safety_ack_minutes,
        ),
        # The team dashboard: its routes (each with its permission), job and data part.
        TeamDashboard(
            service,
            settings,
            handoff=coach.handoff,
            relay=coach.relay,
            booking=appointments.booking,
        ),
    ]
    for feature in features:
        service.add(feature)
    for start in service.registry.on_start:
        try:
            await start()
        except Exception as error:
            log.error("feature start-up failed error=%s", describe(error))
    http = web.Application(client_max_size=MAX_BODY)
    http[SERVICE_KEY] = service
    http[CHANNEL_KEY] = web_channel
    http[CLOCK_KEY] = clock
    http[SECURE_KEY] = (settings.public_url or "").startswith("https://")
    add_routes(http)
    # Rate limits, a bound on new anonymous identities, 4xx for malformed requests, no-store.
    install_limits(http)
    # The features' routes (the team dashboard), each with its declared permission.
    service.registry.mount(http)
    telegram = None
    if settings.telegram_token is not None:
        from bot.telegram.app import WEBHOOK_PATH, TelegramFrontDoor

        async def blocked_chat(chat_id: int) -> None:
            # A young person's chat: their reminders stop; a coach's: their offers move on.
            await appointments.reachability.blocked_chat(chat_id)
            await coach.handoff.blocked_chat(chat_id)

        front = TelegramFrontDoor(
            token=settings.telegram_token,
            api_url=settings.telegram_api_url,
            service=service,
            clock=clock,
            webhook_url=f"{settings.public_url}{WEBHOOK_PATH}"
            if settings.webhook_enabled
            else None,
            webhook_secret=settings.webhook_secret,
            on_blocked=blocked_chat,
            on_unblocked=appointments.reachability.unblocked_chat,
            sends_per_second=settings.telegram_sends_per_second,
            # Several workers on one PostgreSQL database: one polls (bot.telegram.leader).
            leader=leader_lock(settings.database_url, bot_id(settings.telegram_token)),
        )
        channels["tg"] = front.channel
        # Telegram's outbox rows wait until it runs (TelegramFrontDoor.start).
        service.relay.hold_back("tg")
        # Cards and relay messages in coach chats are remembered by id (edit, delete on /wis).
        coach.handoff.chats = front.channel
        if settings.webhook_enabled:
            front.add_routes(http)
        telegram = front
    # SQLite serves one worker: whatever a process claimed before this one started is a dead
    # process's (bot.outbox, bot.scheduler).
    single_worker = settings.database_url.startswith("sqlite")
    service.relay.single_worker = single_worker
    tick = ReminderTick(
        storage,
        service,
        clock,
        timezone=settings.timezone,
        quiet_start=settings.quiet_start,
        quiet_end=settings.quiet_end,
        handlers=tuple(service.registry.reminder_handlers),
        holds=tuple(service.registry.reminder_holds),
        single_worker=single_worker,
    )
    runtime = Runtime(
        settings, service, web_channel, tick, http, telegram, web_inbox=http[INBOX_KEY]
    )
    folder = settings.cache_dir
    if stale and folder is not None:
        runtime.store_screener = lambda: compiled.store(screener, folder)
    return runtime


def _stoppable(run: Callable[[], Awaitable[None]], name: str) -> Callable[[], Awaitable[None]]:
    """A scheduled job that a shutdown may cut off: the stop cancels a tick in the middle of its
    transaction (rolled back, its reminders claimed again after the lease), and APScheduler
    would print that cancellation as a traceback on every such stop."""

    async def run_until_stopped() -> None:
        try:
            await run()
        except asyncio.CancelledError:
            log.info("job stopped by the shutdown job=%s", name)

    return run_until_stopped


async def serve(settings: Settings) -> None:
    runtime = await build_runtime(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    mode = "off"
    if settings.telegram_enabled:
        mode = "webhook" if settings.webhook_enabled else "long polling"
    # One line that says where to go; nothing secret in it.
    print(
        f"Opstap is running: web chat at {settings.web_url} (Telegram: {mode}). Stop with Ctrl-C.",
        file=sys.stderr,
        flush=True,
    )
    await stop.wait()
    log.info("stopping")
    try:
        await asyncio.wait_for(runtime.stop(), timeout=STOP_WITHIN)
    except TimeoutError:
        log.warning("shutdown took too long")
