"""Telegram's flood limits, kept on our side (domain.md §6).

Rules:

* 30 sends per second overall, as Telegram counts them: never more than 30 in any one-second
  window (:class:`SlidingWindow`). A bucket that lets 30 through at once and refills at 30 a
  second lets almost 60 into one window, and Telegram answers the rest with 429s.
* Per chat about one message per second on average with a short burst (a tap's reply, a
  statement and the next question go out at once): a burst of ``per_chat_burst`` sends, then
  one every ``1 / per_chat_per_second`` seconds (:class:`ChatPace`, a GCRA).
* Telegram counts a send when it arrives; we only know when we started it and when the answer
  came. So a send is checked against the limits at its start and counted, once done, at its
  end: the server saw it somewhere in between, so no window Telegram can draw holds more than
  the limit. On loopback that costs a few milliseconds a window (29.x sends a second).
* A send first waits for its chat, then for the overall window, so a chat that has to wait
  never holds up the others. Waiters of one limit go in arrival order, except that sends of
  background work (the reminder tick, :func:`bot.delivery.background_delivery`) let the
  replies that arrive up to :data:`BACKGROUND_YIELDS` seconds after them go first: a burst of
  reminders fills the window only where no young person is waiting for an answer, yet a
  steady stream of replies that keeps the window full (50 people typing after a restart) never
  holds a reminder back for longer than that.
* Only sends and edits are paced: answering a callback query (``answerCallbackQuery``) never
  waits behind a chat's pacing, so a tap stops spinning at once. The crisis response
  (:func:`bot.delivery.urgent_delivery`) never waits for its chat's pace either; in the
  overall window it is a reply.
* A 429 waits ``retry_after`` (plus a little) and tries again, and every other request waits
  too while one is waiting, since the limit is per bot.
* 5xx and network timeouts retry with exponential backoff. A timed-out ``sendMessage`` may have
  arrived: a rare duplicate is the price of not losing a reminder.
* 4xx other than 429 (a bad request, a chat that blocked the bot) never retries: the caller
  decides (a 403 marks the young person unreachable).
* Time comes from ``clock`` and waiting from ``sleep`` (both injectable), so the tests check
  the limits on a virtual clock instead of timing them.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from time import monotonic
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery import delivery_is_background, delivery_is_urgent

log = logging.getLogger(__name__)
JSON = bool | dict[str, Any] | list[dict[str, Any]]
MAX_CHATS = 10_000
# Priorities in the overall window: replies (the crisis response among them) before background
# work.
REPLY = 0
BACKGROUND = 1
# A background send waits as if it had arrived this much later: replies go first, but not for
# ever. (Without it the full-size chaos test saw reminders wait 10-15 s behind replies, and
# miss their minute.)
BACKGROUND_YIELDS = 2.0
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SlidingWindow:
    """At most ``limit`` calls in any window of ``period`` seconds.

    A call holds a place from its start; when it ends, its place stays taken until ``period``
    after its end. A new call starts only while fewer than ``limit`` places are taken. Waiting
    calls go in order of arrival, a background call (priority 1) as if it had arrived
    :data:`BACKGROUND_YIELDS` seconds later."""

    def __init__(self, limit: int, period: float, clock: Clock, sleep: Sleep) -> None:
        self.limit = max(1, limit)
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._ended: deque[float] = deque()
        self._running = 0
        self._freed = asyncio.Event()
        # Whose turn it is to wait for a place: one call at a time, the others queued here.
        self._turn_taken = False
        self._queue: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = 0

    async def _take_turn(self, priority: int) -> None:
        if not self._turn_taken and not self._queue:
            self._turn_taken = True
            return
        turn = asyncio.get_running_loop().create_future()
        order = self._clock() + (BACKGROUND_YIELDS if priority != REPLY else 0.0)
        heapq.heappush(self._queue, (order, self._arrivals, turn))
        self._arrivals += 1
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._pass_turn()  # handed the turn just as it was cancelled: pass it on
            raise

    def _pass_turn(self) -> None:
        while self._queue:
            _, _, turn = heapq.heappop(self._queue)
            if not turn.done():  # a cancelled waiter is skipped
                turn.set_result(None)
                return
        self._turn_taken = False

    @asynccontextmanager
    async def slot(self, priority: int = 0) -> AsyncIterator[None]:
        await self._take_turn(priority)
        try:
            while True:
                now = self._clock()
                while self._ended and self._ended[0] + self.period <= now:
                    self._ended.popleft()
                if self._running + len(self._ended) < self.limit:
                    break
                if self._ended:
                    await self._sleep(self._ended[0] + self.period - now)
                else:
                    # Every place is held by a call still running: wait for one to end.
                    self._freed.clear()
                    await self._freed.wait()
            self._running += 1
        finally:
            self._pass_turn()
        try:
            yield
        finally:
            self._running -= 1
            self._ended.append(self._clock())
            self._freed.set()


class ChatPace:
    """One chat: a burst of ``burst`` sends, then one every ``interval`` seconds (GCRA).

    ``_due`` is the theoretical arrival time of the next send; a send may start once the clock
    is within ``(burst - 1) * interval`` of it. A send is booked at its start and moved to its
    end when it is done (Telegram may have seen it as late as that)."""

    def __init__(self, burst: int, interval: float, clock: Clock, sleep: Sleep) -> None:
        self.tolerance = (max(1, burst) - 1) * interval
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._due = float("-inf")
        self._turn = asyncio.Lock()

    def idle(self, now: float) -> bool:
        """Nothing booked that still matters: the chat could send a whole burst now."""
        return self._due <= now and not self._turn.locked()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._turn:
            while (wait := self._due - self.tolerance - self._clock()) > 0:
                await self._sleep(wait)
            started = self._clock()
            self._due = max(self._due, started) + self.interval
        try:
            yield
        finally:
            self._due += max(0.0, self._clock() - started)


class FloodLimiter(BaseRateLimiter[int]):
    def __init__(
        self,
        *,
        overall_per_second: int = 30,
        per_chat_per_second: float = 1,
        per_chat_burst: int = 3,
        max_retries: int = 4,
        backoff: float = 0.5,
        clock: Clock = monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._overall = SlidingWindow(overall_per_second, 1.0, clock, sleep)
        self._per_chat_interval = 1 / per_chat_per_second
        self._per_chat_burst = max(1, per_chat_burst)
        self._chats: OrderedDict[int | str, ChatPace] = OrderedDict()
        self._max_retries = max_retries
        self._backoff = backoff
        self._open = asyncio.Event()
        self._open.set()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _chat_pace(self, chat_id: int | str) -> ChatPace:
        pace = self._chats.get(chat_id)
        if pace is None:
            pace = ChatPace(self._per_chat_burst, self._per_chat_interval, self._clock, self._sleep)
            self._chats[chat_id] = pace
            # Forget the least recently used chats once they are idle: a chat's pace only
            # matters for a few seconds, and forgetting a busy one would let it burst again.
            now = self._clock()
            while len(self._chats) > MAX_CHATS:
                oldest_id, oldest = next(iter(self._chats.items()))
                if not oldest.idle(now):
                    break
                del self._chats[oldest_id]
        else:
            self._chats.move_to_end(chat_id)
        return pace

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        chat_id = data.get("chat_id")
        sends = endpoint.startswith(("send", "edit", "copy", "forward"))
        for attempt in range(retries + 1):
            await self._open.wait()
            try:
                urgent = delivery_is_urgent()
                priority = BACKGROUND if delivery_is_background() and not urgent else REPLY
                if sends and chat_id is not None and not urgent:
                    async with self._chat_pace(chat_id).slot(), self._overall.slot(priority):
                        return await callback(*args, **kwargs)
                if sends:
                    async with self._overall.slot(priority):
                        return await callback(*args, **kwargs)
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                # The private timedelta avoids PTB 22's deprecation warning on the int.
                wait = _seconds(error._retry_after) + 0.1
                log.info("telegram 429 method=%s wait=%.1fs", endpoint, wait)
                self._open.clear()
                try:
                    await self._sleep(wait)
                finally:
                    self._open.set()
            except BadRequest:
                raise
            except NetworkError as error:
                # 5xx and timeouts: the request may succeed a moment later.
                if attempt == retries:
                    raise
                wait = self._backoff * 2**attempt
                log.info(
                    "telegram retry method=%s error=%s wait=%.1fs",
                    endpoint,
                    type(error).__name__,
                    wait,
                )
                await self._sleep(wait)
        raise AssertionError("unreachable")


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    if callable(total):
        return float(total())
    return float(value)  # type: ignore[arg-type]
