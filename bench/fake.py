"""The fake Bot API as the benchmarks use it: the tests' own fake, plus timing and limits.

Rules of this module:

* It is :class:`tests.fakes.bot_api.FakeBotApi` unchanged in what it answers; this subclass
  only records, per chat, when the bot answered (for latency) and, when asked, enforces
  Telegram's flood limits the way Telegram does: a 429 with ``retry_after``.
* Limits (``enforce_limits=True``): at most 30 sends in any sliding second overall, and per chat
  one per second on average with a burst of ``chat_burst`` (Telegram: "avoid more than one
  message per second in a chat; short bursts are allowed"): a GCRA, so ``chat_burst`` at once,
  then one a second. Every 429 is counted in :attr:`rejected`.
* Only loopback: it listens where the tests' fake listens (127.0.0.1, a free port).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from time import monotonic
from typing import Any

from tests.fakes.bot_api import Call, FakeBotApi, _error_payload

SENDS = (
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "sendDocument",
    "copyMessage",
    "forwardMessage",
)
# What counts as "the bot answered this chat": a new or edited message.
ANSWERS = frozenset({"sendMessage", "editMessageText", "sendDocument"})


def _chat_of(params: dict[str, Any]) -> int | None:
    chat = params.get("chat_id")
    try:
        return int(chat) if chat is not None else None
    except (TypeError, ValueError):
        return None


class BenchFake(FakeBotApi):
    def __init__(
        self,
        *args: Any,
        enforce_limits: bool = False,
        overall_per_second: int = 30,
        chat_burst: int = 3,
        chat_per_second: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.enforce_limits = enforce_limits
        self.overall_per_second = overall_per_second
        self.chat_burst = chat_burst
        self.chat_interval = 1 / chat_per_second
        self.rejected = 0
        self.answered_callbacks = 0
        self._overall: deque[float] = deque()
        # Per chat, the theoretical arrival time of its next send (GCRA).
        self._per_chat: dict[int, float] = {}
        self._answers: dict[int, list[float]] = defaultdict(list)
        self._waiters: dict[int, asyncio.Event] = {}
        self.sent_per_chat: dict[int, int] = defaultdict(int)

    def answers(self, chat: int) -> list[float]:
        """Monotonic times at which the bot sent or edited a message in ``chat``."""
        return self._answers[chat]

    async def wait_answer(self, chat: int, after: float, within: float) -> float | None:
        """The first answer time in ``chat`` later than ``after``; ``None`` on time-out."""
        deadline = monotonic() + within
        while True:
            for moment in self._answers[chat]:
                if moment > after:
                    return moment
            remaining = deadline - monotonic()
            if remaining <= 0:
                return None
            event = self._waiters.setdefault(chat, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return None
            event.clear()

    def _limited(self, chat: int | None, now: float) -> bool:
        while self._overall and now - self._overall[0] >= 1.0:
            self._overall.popleft()
        if len(self._overall) >= self.overall_per_second:
            return True
        if chat is not None:
            due = self._per_chat.get(chat, now)
            if now < due - (self.chat_burst - 1) * self.chat_interval:
                return True
            self._per_chat[chat] = max(due, now) + self.chat_interval
        self._overall.append(now)
        return False

    async def _process(self, call: Call) -> tuple[int, dict[str, Any]]:
        chat = _chat_of(call.params)
        if self.enforce_limits and call.method in SENDS and self._limited(chat, monotonic()):
            self.rejected += 1
            return 429, _error_payload(429, "Too Many Requests: retry after 1", 1)
        status, payload = await super()._process(call)
        if status == 200:
            if call.method == "answerCallbackQuery":
                self.answered_callbacks += 1
            if chat is not None and call.method in ANSWERS:
                self._answers[chat].append(monotonic())
                if call.method == "sendMessage":
                    self.sent_per_chat[chat] += 1
                waiter = self._waiters.get(chat)
                if waiter is not None:
                    waiter.set()
        return status, payload
