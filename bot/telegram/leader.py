"""One polling worker at a time: the others serve the web chat, the dashboard and the tick.

Telegram hands a bot's updates to one ``getUpdates`` caller; a second one gets ``409 Conflict``
and both keep failing. So when several workers share a PostgreSQL database, exactly one polls:
the holder of the leader lock (:mod:`storage.leader`, a session-level advisory lock on a
connection of its own). The others try to take it every :data:`RETRY` seconds; when the leader
dies its server session ends, the lock is free at once, and another worker polls within
seconds. A leader checks every :data:`CHECK` seconds that its lock connection is alive and
stops polling the moment it is not, before another worker could start.

Every worker still sends: replies to the web chat, reminders of the tick, coach messages. In
webhook mode no lock is needed (Telegram posts each update once to one address; any worker
behind it may take it). SQLite serves one worker only, which simply polls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from storage.leader import LeaderLock

log = logging.getLogger(__name__)
RETRY = 1.0
CHECK = 1.0

Action = Callable[[], Awaitable[None]]


class PollingLeadership:
    """Polls while this worker holds ``lock``; :meth:`stop` stops polling and releases it."""

    def __init__(
        self,
        lock: LeaderLock,
        start_polling: Action,
        stop_polling: Action,
        *,
        retry: float = RETRY,
        check: float = CHECK,
    ) -> None:
        self.lock = lock
        self._start_polling = start_polling
        self._stop_polling = stop_polling
        self.retry = retry
        self.check = check
        self.leading = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="polling-leader")

    async def _run(self) -> None:
        waiting_said = False
        while True:
            if not await self.lock.try_acquire():
                if not waiting_said:
                    log.info("telegram polling: another worker polls; this one does not")
                    waiting_said = True
                await asyncio.sleep(self.retry)
                continue
            waiting_said = False
            try:
                await self._start_polling()
            except Exception as error:
                # The type only: the Bot API's messages may quote the token.
                log.error("telegram polling did not start error=%s", type(error).__name__)
                await self.lock.release()
                await asyncio.sleep(self.retry)
                continue
            self.leading = True
            log.info("telegram polling: this worker leads")
            await self._hold()
            self.leading = False
            log.warning("telegram polling: leader lock lost, polling stopped")
            await self._stop_quietly()

    async def _hold(self) -> None:
        """Return once the lock is lost, checking every :attr:`check` seconds."""
        while True:
            if not await self.lock.still_held():
                return
            await asyncio.sleep(self.check)

    async def _stop_quietly(self) -> None:
        try:
            await self._stop_polling()
        except Exception as error:
            log.info("telegram polling stop failed error=%s", type(error).__name__)

    async def stop(self) -> None:
        """Stop polling (when leading) and give the lock to another worker."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self.leading:
            self.leading = False
            await self._stop_quietly()
        await self.lock.release()
