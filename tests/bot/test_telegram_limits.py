"""The flood limiter against the fake Bot API: 429 waits and retries, 5xx retries with backoff,
403 does not retry, and one chat is never sent more than its rate."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

import pytest
from telegram.error import BadRequest, Forbidden
from telegram.ext import ExtBot

from bot.delivery import background_delivery, urgent_delivery
from bot.telegram.limits import BACKGROUND_YIELDS, FloodLimiter
from tests.fakes.bot_api import FakeBotApi

CHAT = 777
T = TypeVar("T")


def make_bot(fake: FakeBotApi, limiter: FloodLimiter) -> ExtBot[None]:
    # FloodLimiter takes an int per call (a chat id); PTB types the bot for None.
    return ExtBot(fake.token, base_url=fake.base_url, rate_limiter=limiter)  # type: ignore[arg-type]


async def test_a_429_waits_retry_after_and_then_sends(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.fail_next("sendMessage", 429, retry_after=1)
    bot = make_bot(fake_bot_api, FloodLimiter())
    async with bot:
        await bot.send_message(CHAT, "hallo")
    calls = fake_bot_api.calls("sendMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 1.0
    assert [m.text for m in fake_bot_api.messages(CHAT)] == ["hallo"]


async def test_a_5xx_is_retried_with_backoff(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.fail_next("sendMessage", 502, times=2)
    bot = make_bot(fake_bot_api, FloodLimiter(backoff=0.05))
    async with bot:
        await bot.send_message(CHAT, "hallo")
    assert [c.status for c in fake_bot_api.calls("sendMessage")] == [502, 502, 200]


async def test_a_blocked_chat_is_not_retried(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.block_chat(CHAT)
    bot = make_bot(fake_bot_api, FloodLimiter())
    async with bot:
        with pytest.raises(Forbidden):
            await bot.send_message(CHAT, "hallo")
    assert len(fake_bot_api.calls("sendMessage")) == 1


async def test_one_chat_is_held_to_its_rate(fake_bot_api: FakeBotApi) -> None:
    bot = make_bot(fake_bot_api, FloodLimiter(per_chat_per_second=4, per_chat_burst=2))
    async with bot:
        for n in range(6):
            await bot.send_message(CHAT, f"bericht {n}")
    times = [c.time for c in fake_bot_api.calls("sendMessage")]
    # A burst of two, then four per second: the sixth waits (6 - 2) / 4 = 1.0 s. Without the
    # limiter all six take a few milliseconds; the bound leaves room for a slow machine only
    # on the side that cannot hide a missing limiter.
    assert times[-1] - times[0] >= 0.75


async def test_a_short_burst_in_one_chat_goes_out_at_once(fake_bot_api: FakeBotApi) -> None:
    bot = make_bot(fake_bot_api, FloodLimiter(per_chat_per_second=1, per_chat_burst=3))
    async with bot:
        for n in range(3):
            await bot.send_message(CHAT, f"bericht {n}")
        await bot.send_message(CHAT, "de vierde")
    times = [c.time for c in fake_bot_api.calls("sendMessage")]
    # The first three at once (under the old one-per-second pacing they took 2 s) ...
    assert times[2] - times[0] < 0.5
    # ... and the fourth waits for its turn: about one second.
    assert times[3] - times[0] >= 0.75


async def test_answering_a_button_never_waits_for_the_chats_pacing(
    fake_bot_api: FakeBotApi,
) -> None:
    bot = make_bot(fake_bot_api, FloodLimiter(per_chat_per_second=1, per_chat_burst=1))
    async with bot:
        await bot.send_message(CHAT, "eerste")
        paced = asyncio.create_task(bot.send_message(CHAT, "tweede"))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        # A query id the fake does not know answers 400; what matters is when it went out.
        with contextlib.suppress(BadRequest):
            await bot.answer_callback_query("1")
        answered = time.monotonic() - started
        await paced
    assert len(fake_bot_api.take_violations("answerCallbackQuery")) == 1
    # The paced send waits about a second; the answer does not wait for it.
    assert answered < 0.5
    times = [c.time for c in fake_bot_api.calls("sendMessage")]
    assert times[1] - times[0] >= 0.75


async def test_the_crisis_response_never_waits_for_the_chats_pacing(
    fake_bot_api: FakeBotApi,
) -> None:
    bot = make_bot(fake_bot_api, FloodLimiter(per_chat_per_second=1, per_chat_burst=1))
    async with bot:
        await bot.send_message(CHAT, "eerste")
        paced = asyncio.create_task(bot.send_message(CHAT, "tweede"))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with urgent_delivery():
            await bot.send_message(CHAT, "hulplijnen")
        sent = time.monotonic() - started
        await paced
    # The paced send waits about a second; the crisis response goes past it at once.
    assert sent < 0.5
    assert [c.params["text"] for c in fake_bot_api.calls("sendMessage")] == [
        "eerste",
        "hulplijnen",
        "tweede",
    ]


# --- the limits themselves, on a virtual clock (no test here waits for real time) ----------


class VirtualTime:
    """A clock that stands still while anything can run and jumps to the next sleeper's
    wake-up time when nothing can."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), self._order, wake))
        self._order += 1
        await wake

    async def run(self, work: Awaitable[T]) -> T:
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(200):  # let everything that can run without time passing run
                await asyncio.sleep(0)
            if task.done():
                break
            assert self._sleepers, "stuck: nothing runs and nobody sleeps"
            wake_at, _, wake = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake_at)
            wake.set_result(None)
        return task.result()


@dataclass(frozen=True)
class Send:
    chat: int
    started: float
    ended: float


async def send_all(
    limiter: FloodLimiter, time: VirtualTime, chats: list[int], latency: float = 0.02
) -> list[Send]:
    """One ``sendMessage`` per entry of ``chats`` (a chat may repeat), all at once; each call
    takes ``latency`` virtual seconds."""
    sends: list[Send] = []

    async def one(chat: int) -> None:
        async def call() -> bool:
            started = time.clock()
            await time.sleep(latency)
            sends.append(Send(chat, started, time.clock()))
            return True

        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)

    await time.run(asyncio.gather(*(one(chat) for chat in chats)))
    return sends


def most_in_a_window(sends: list[Send], period: float) -> int:
    """The most sends Telegram can have counted in one window of ``period`` seconds: it saw
    each somewhere between its start and its end, so count those that may fall together."""
    return max(
        sum(1 for other in sends if other.started <= send.started < other.ended + period)
        for send in sends
    )


def virtual_limiter(time: VirtualTime, **options: float) -> FloodLimiter:
    return FloodLimiter(clock=time.clock, sleep=time.sleep, **options)  # type: ignore[arg-type]


async def test_never_more_than_30_sends_in_any_second_and_still_29_a_second() -> None:
    vtime = VirtualTime()
    chats = [1000 + n for n in range(300)]  # one reminder each for 300 people
    sends = await send_all(virtual_limiter(vtime), vtime, chats)
    assert len(sends) == 300
    assert most_in_a_window(sends, 1.0) <= 30
    # Sustained: 300 sends take about ten seconds (a window per 30, plus their latency).
    span = max(s.started for s in sends) - min(s.started for s in sends)
    assert 300 / span >= 28


async def test_many_chats_with_bursts_keep_both_limits() -> None:
    vtime = VirtualTime()
    chats = [2000 + n % 40 for n in range(200)]  # five messages each to 40 people
    sends = await send_all(virtual_limiter(vtime), vtime, chats)
    assert most_in_a_window(sends, 1.0) <= 30
    for chat in set(chats):
        own = sorted((s for s in sends if s.chat == chat), key=lambda s: s.started)
        assert len(own) == 5
        # A burst of three, then one a second (GCRA): in any window of w seconds at most
        # 3 + w sends, counting each from its start for the later and its end for the earlier.
        for i, first in enumerate(own):
            for j in range(i + 1, len(own)):
                assert j - i + 1 <= 3 + (own[j].started - first.ended), (chat, i, j)


async def test_a_chats_burst_goes_out_at_once_and_then_one_a_second() -> None:
    vtime = VirtualTime()
    sends = await send_all(virtual_limiter(vtime), vtime, [77] * 5, latency=0.0)
    starts = sorted(s.started for s in sends)
    assert starts[:3] == [0.0, 0.0, 0.0]
    assert starts[3:] == pytest.approx([1.0, 2.0])


async def test_a_chat_that_waits_does_not_hold_up_the_others() -> None:
    vtime = VirtualTime()
    # Chat 5 has six messages queued; chat 6's one message still goes out at once.
    sends = await send_all(virtual_limiter(vtime), vtime, [5] * 6 + [6], latency=0.0)
    assert next(s for s in sends if s.chat == 6).started == 0.0


async def test_a_reply_goes_before_waiting_background_sends() -> None:
    vtime = VirtualTime()
    limiter = virtual_limiter(vtime)
    sends: list[Send] = []

    async def one(chat: int, background: bool, after: float) -> None:
        await vtime.sleep(after)

        async def call() -> bool:
            sends.append(Send(chat, vtime.clock(), vtime.clock()))
            return True

        with background_delivery() if background else contextlib.nullcontext():
            await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)

    # 90 reminders to 90 people at once; half a second later a young person's reply.
    work = [one(3000 + n, True, 0.0) for n in range(90)] + [one(1, False, 0.5)]
    await vtime.run(asyncio.gather(*work))
    reply = next(s for s in sends if s.chat == 1)
    reminders = sorted(s.started for s in sends if s.chat != 1)
    # The first 30 reminders went at once; the reply takes the first place that frees up,
    # before the 60 reminders that were waiting for it.
    assert reminders[29] == 0.0
    assert reply.started == pytest.approx(1.0)
    assert reminders[30] >= reply.started
    assert most_in_a_window(sends, 1.0) <= 30


async def test_a_steady_stream_of_replies_never_holds_a_reminder_back_for_long() -> None:
    # The full-size chaos test's reminders waited 10-15 s while replies to 50 busy people kept
    # the window full: a background send lets only the replies of the next
    # BACKGROUND_YIELDS seconds go first.
    vtime = VirtualTime()
    limiter = virtual_limiter(vtime)
    sends: list[Send] = []

    async def one(chat: int, background: bool, after: float) -> None:
        await vtime.sleep(after)

        async def call() -> bool:
            sends.append(Send(chat, vtime.clock(), vtime.clock()))
            return True

        with background_delivery() if background else contextlib.nullcontext():
            await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)

    # 60 replies a second for 20 seconds (twice what the window lets through), each to its own
    # chat, and one reminder after the first second.
    replies = [one(10_000 + n, False, n / 60) for n in range(20 * 60)]
    await vtime.run(asyncio.gather(*replies, one(1, True, 1.0)))
    reminder = next(s for s in sends if s.chat == 1)
    # In arrival order behind the replies of its first BACKGROUND_YIELDS seconds (a backlog
    # of 180 at 30 a second), not behind all 1200 (40 s).
    assert reminder.started <= 7.0
    # ... and before the replies that arrived later than that.
    later = [s for s in sends if s.chat >= 10_000 + int((1.0 + BACKGROUND_YIELDS) * 60) + 1]
    assert all(s.started >= reminder.started for s in later)
    assert most_in_a_window(sends, 1.0) <= 30
