"""Telegram's flood limits, kept on our side (domain.md §6).

Rules:

* About one message per second per chat on average, with a short burst allowed (a tap's
  reply, a statement and the next question go out at once: Telegram tolerates a few messages
  in a row), and 30 per second overall. Both are leaky buckets (``aiolimiter``): a chat's
  bucket holds ``per_chat_burst`` sends and drains at ``per_chat_per_second``. PTB's own
  ``AIORateLimiter`` has no per-private-chat limit and retries 0 times by default, so we use
  this limiter instead.
* Only sends and edits are paced: answering a callback query (``answerCallbackQuery``) never
  waits behind a chat's pacing, so a tap stops spinning at once.
* A 429 waits ``retry_after`` (plus a little) and tries again, and every other request waits
  too while one is waiting, since the limit is per bot.
* 5xx and network timeouts retry with exponential backoff. A timed-out ``sendMessage`` may have
  arrived: a rare duplicate is the price of not losing a reminder.
* 4xx other than 429 (a bad request, a chat that blocked the bot) never retries: the caller
  decides (a 403 marks the young person unreachable).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)
JSON = bool | dict[str, Any] | list[dict[str, Any]]
MAX_CHATS = 10_000


class FloodLimiter(BaseRateLimiter[int]):
    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        per_chat_per_second: float = 1,
        per_chat_burst: int = 3,
        max_retries: int = 4,
        backoff: float = 0.5,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1)
        self._per_chat_rate = per_chat_per_second
        self._per_chat_burst = max(1, per_chat_burst)
        self._chats: OrderedDict[int | str, AsyncLimiter] = OrderedDict()
        self._max_retries = max_retries
        self._backoff = backoff
        self._open = asyncio.Event()
        self._open.set()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            burst = self._per_chat_burst
            limiter = AsyncLimiter(burst, burst / self._per_chat_rate)
            self._chats[chat_id] = limiter
            # Forget the least recently used chats: a limiter only matters for a second.
            while len(self._chats) > MAX_CHATS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

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
                if sends and chat_id is not None:
                    async with self._overall, self._chat_limiter(chat_id):
                        return await callback(*args, **kwargs)
                if sends:
                    async with self._overall:
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
                    await asyncio.sleep(wait)
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
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    if callable(total):
        return float(total())
    return float(value)  # type: ignore[arg-type]
