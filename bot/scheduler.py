"""The scheduler tick: APScheduler only ticks; reminders are rows in our database.

Rules (goflow's timers, domain.md §7 pitfalls):

* A tick claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, compare-and-set on SQLite),
  so two processes never send the same reminder. It claims only reminders of persons whose
  channel this process has (a process without a Telegram token leaves ``tg:`` reminders alone).
* ``sent`` means a channel took it: handlers run under :func:`bot.delivery.strict_delivery`, and
  a reminder that reaches a channel this process lacks (a coach alert from a process without
  Telegram) goes back to pending, its attempt taken back, for a process that has it.
* The lease is short (:data:`storage.ports.REMINDER_LEASE`): a killed worker's reminders are
  claimed again within a minute. Every send is bounded by :data:`SEND_TIMEOUT`, well within the
  lease, and a tick stops claiming new batches after :data:`BATCH_WINDOW`, so a live worker
  never outlives its own lease. On a database that serves one worker (SQLite,
  ``single_worker``) a claim made before this process started is a dead process's: it is
  claimed again at once, not after the lease (a kill right after a claim made those
  reminders 40-80 s late in the chaos test).
* Concurrency: a batch runs over many people at once (up to :data:`CONCURRENCY`); one person's
  reminders run in due order, one at a time. The channel's own limiter (Telegram: 30 messages
  a second overall, about one a second per chat) sets the pace; reminders are background
  work there (:func:`bot.delivery.background_delivery`), so replies go first.
* A reminder that fell due while the service was down is claimed at the next tick. APScheduler's
  own ``misfire_grace_time`` would drop it, which is why jobs never carry reminders.
* Quiet hours: a reminder due at night is deferred to the end of the quiet hours, not sent.
* Holds: before anything else a reminder is shown to every :data:`ReminderHold`; one that
  answers a time defers the reminder to then (not dropped). The safety net holds every reminder
  of a person with an open safety event, except its own (``bot.safety.alerts.SafetyNet.hold``):
  no cheerful nudge while a concern is open.
* A failure releases the row with backoff; after ``MAX_ATTEMPTS`` it is marked failed.
* :meth:`ReminderTick.stop` (SIGTERM) stops claiming, lets the sends in flight finish and
  releases whatever this worker still holds.
* Jobs and rows carry ids only, never text.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.delivery import NoChannel, background_delivery, strict_delivery
from bot.logs import describe
from bot.service import Clock, ConversationService
from flows.inputs import ReminderDue
from flows.quiet import quiet_until
from storage.ports import REMINDER_LEASE, ReminderRecord, Storage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5

ReminderHandler = Callable[[ReminderRecord], Awaitable[bool]]
"""Handles a reminder whose key it owns; returns True when it handled it."""
ReminderHold = Callable[[ReminderRecord, datetime], Awaitable[datetime | None]]
"""Says when a due reminder may go at the earliest (``None``: now); it is deferred till then."""
# A hold that fails (the database hiccups) defers the reminder this long rather than sending.
HOLD_RETRY = timedelta(minutes=5)
# A reminder for a channel this process lacks is offered again this much later.
NO_CHANNEL_RETRY = timedelta(seconds=20)
BATCH = 50
CONCURRENCY = 32
SEND_TIMEOUT = 15.0
BATCH_WINDOW = 10.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class ReminderTick:
    def __init__(
        self,
        storage: Storage,
        service: ConversationService,
        clock: Clock,
        *,
        timezone: str = "Europe/Brussels",
        quiet_start: int = 22,
        quiet_end: int = 8,
        worker: str | None = None,
        handlers: tuple[ReminderHandler, ...] = (),
        holds: tuple[ReminderHold, ...] = (),
        lease: timedelta = REMINDER_LEASE,
        batch: int = BATCH,
        concurrency: int = CONCURRENCY,
        send_timeout: float = SEND_TIMEOUT,
        single_worker: bool = False,
    ) -> None:
        self.storage = storage
        self.service = service
        self.clock = clock
        self.tz = ZoneInfo(timezone)
        self.quiet_start = quiet_start
        self.quiet_end = quiet_end
        self.worker = worker or worker_name()
        self.handlers = handlers
        self.holds = holds
        self.lease = lease
        self.batch = batch
        self.concurrency = concurrency
        self.send_timeout = send_timeout
        self.single_worker = single_worker
        self.started_at = clock.now()
        self._stopping = False
        self._running: asyncio.Task[object] | None = None

    async def run_once(self) -> int:
        """Claim and process due reminders, batch after batch while they come full; returns
        how many were sent."""
        if self._stopping:
            return 0
        self._running = asyncio.current_task()
        sent = 0
        started = time.monotonic()
        try:
            while not self._stopping:
                now = self.clock.now()
                async with self.storage.transaction() as tx:
                    due = await tx.reminders.claim_due(
                        now,
                        worker=self.worker,
                        limit=self.batch,
                        lease=self._lease(now),
                        prefixes=self.prefixes,
                    )
                if not due:
                    break
                log.debug(
                    "reminders claimed ids=%s late=%s",
                    [r.id for r in due],
                    [round((now - r.due_at).total_seconds(), 1) for r in due],
                )
                sent += await self._process(due, now)
                if len(due) < self.batch or time.monotonic() - started > BATCH_WINDOW:
                    break
        finally:
            self._running = None
        return sent

    def _lease(self, now: datetime) -> timedelta:
        """The lease of other claims: with one worker per database, every claim made before
        this process started is a dead process's and expired."""
        if not self.single_worker:
            return self.lease
        return max(timedelta(0), min(self.lease, now - self.started_at))

    @property
    def prefixes(self) -> tuple[str, ...]:
        # Only channels that run: Telegram's reminders wait while it is still starting.
        return tuple(f"{name}:" for name in self.service.channels if self.service.has_channel(name))

    async def stop(self, within: float = 5.0) -> None:
        """Claim nothing more, let the batch in flight finish (up to ``within`` seconds), then
        give back every reminder this worker still holds."""
        self._stopping = True
        running = self._running
        if running is not None and not running.done():
            done, _ = await asyncio.wait({running}, timeout=within)
            if not done:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
        async with self.storage.transaction() as tx:
            released = await tx.reminders.release_claims(self.worker)
        if released:
            log.info("reminders released on stop count=%d", released)

    async def _process(self, due: Iterable[ReminderRecord], now: datetime) -> int:
        # One person's reminders in due order; different people at once, bounded.
        per_person: dict[str, list[ReminderRecord]] = {}
        for reminder in due:
            per_person.setdefault(reminder.person, []).append(reminder)
        gate = asyncio.Semaphore(self.concurrency)

        async def one_person(reminders: list[ReminderRecord]) -> int:
            async with gate:
                count = 0
                for reminder in reminders:
                    count += await self._one(reminder, now)
                return count

        counts = await asyncio.gather(*(one_person(r) for r in per_person.values()))
        return sum(counts)

    async def _one(self, reminder: ReminderRecord, now: datetime) -> int:
        later = await self._held_until(reminder, now)
        if later is None:
            later = quiet_until(now, self.tz, self.quiet_start, self.quiet_end)
        if later is not None:
            async with self.storage.transaction() as tx:
                await tx.reminders.defer(reminder.id, later)
            return 0
        try:
            async with asyncio.timeout(self.send_timeout):
                with strict_delivery(), background_delivery():
                    handled = False
                    for handler in self.handlers:
                        if await handler(reminder):
                            handled = True
                            break
                    if not handled:
                        await self.service.handle(
                            reminder.person,
                            ReminderDue(reminder.key, reminder.session_version, now),
                        )
        except NoChannel as error:
            log.info("reminder left for a worker with channel=%s id=%s", error, reminder.id)
            async with self.storage.transaction() as tx:
                await tx.reminders.defer(reminder.id, now + NO_CHANNEL_RETRY)
            return 0
        except Exception as error:
            log.error("reminder failed id=%s error=%s", reminder.id, describe(error))
            async with self.storage.transaction() as tx:
                if reminder.attempts >= MAX_ATTEMPTS:
                    await tx.reminders.mark_failed(reminder.id, type(error).__name__)
                else:
                    backoff = timedelta(seconds=30 * 2**reminder.attempts)
                    await tx.reminders.release(
                        reminder.id, retry_at=now + backoff, error_code=type(error).__name__
                    )
            return 0
        async with self.storage.transaction() as tx:
            await tx.reminders.mark_sent(reminder.id)
        log.debug("reminder sent id=%s", reminder.id)
        return 1

    async def _held_until(self, reminder: ReminderRecord, now: datetime) -> datetime | None:
        latest: datetime | None = None
        for hold in self.holds:
            try:
                until = await hold(reminder, now)
            except Exception as error:
                log.error("reminder hold failed id=%s error=%s", reminder.id, describe(error))
                until = now + HOLD_RETRY
            if until is not None and (latest is None or until > latest):
                latest = until
        return latest
