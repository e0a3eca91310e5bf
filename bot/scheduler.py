"""The scheduler tick: APScheduler only ticks; reminders are rows in our database.

Rules (goflow's timers, domain.md §7 pitfalls):

* A tick claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, compare-and-set on SQLite),
  so two processes never send the same reminder.
* A reminder that fell due while the service was down is claimed at the next tick. APScheduler's
  own ``misfire_grace_time`` would drop it, which is why jobs never carry reminders.
* Quiet hours: a reminder due at night is deferred to the end of the quiet hours, not sent.
* Holds: before anything else a reminder is shown to every :data:`ReminderHold`; one that
  answers a time defers the reminder to then (not dropped). The safety net holds every reminder
  of a person with an open safety event, except its own (``bot.safety.alerts.SafetyNet.hold``):
  no cheerful nudge while a concern is open.
* A failure releases the row with backoff; after ``MAX_ATTEMPTS`` it is marked failed.
* Jobs and rows carry ids only, never text.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.logs import describe
from bot.service import Clock, ConversationService
from flows.inputs import ReminderDue
from flows.quiet import quiet_until
from storage.ports import ReminderRecord, Storage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5

ReminderHandler = Callable[[ReminderRecord], Awaitable[bool]]
"""Handles a reminder whose key it owns; returns True when it handled it."""
ReminderHold = Callable[[ReminderRecord, datetime], Awaitable[datetime | None]]
"""Says when a due reminder may go at the earliest (``None``: now); it is deferred till then."""
# A hold that fails (the database hiccups) defers the reminder this long rather than sending.
HOLD_RETRY = timedelta(minutes=5)


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

    async def run_once(self) -> int:
        """Claim and process due reminders; returns how many were sent."""
        now = self.clock.now()
        async with self.storage.transaction() as tx:
            due = await tx.reminders.claim_due(now, worker=self.worker)
        sent = 0
        for reminder in due:
            later = await self._held_until(reminder, now)
            if later is None:
                later = quiet_until(now, self.tz, self.quiet_start, self.quiet_end)
            if later is not None:
                async with self.storage.transaction() as tx:
                    await tx.reminders.defer(reminder.id, later)
                continue
            try:
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
            except Exception as error:
                log.error("reminder failed id=%s error=%s", reminder.id, describe(error))
                async with self.storage.transaction() as tx:
                    if reminder.attempts >= MAX_ATTEMPTS:
                        await tx.reminders.mark_failed(reminder.id, type(error).__name__)
                    else:
                        backoff = timedelta(seconds=30 * 2 ** reminder.attempts)
                        await tx.reminders.release(
                            reminder.id, retry_at=now + backoff, error_code=type(error).__name__
                        )
                continue
            async with self.storage.transaction() as tx:
                await tx.reminders.mark_sent(reminder.id)
            sent += 1
        return sent

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
