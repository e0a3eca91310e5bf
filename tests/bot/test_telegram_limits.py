"""The flood limiter against the fake Bot API: 429 waits and retries, 5xx retries with backoff,
403 does not retry, and one chat is never sent more than its rate."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
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


class HeldTime:
    """The limiter's clock for tests against the fake Bot API: it stands still while requests
    run and moves on only by the limiter's own waits, which are recorded. While ``held`` is
    set, a wait does not end until the test lets it go (``release``): a send waiting for its
    chat's pace is then visibly still waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []
        self.held: asyncio.Event | None = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.held is not None:
            await self.held.wait()
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)

    def hold(self) -> None:
        self.held = asyncio.Event()

    def release(self) -> None:
        assert self.held is not None
        self.held.set()

    def limiter(self, **options: float) -> FloodLimiter:
        return FloodLimiter(clock=self.clock, sleep=self.sleep, **options)  # type: ignore[arg-type]

    async def until_waiting(self, count: int) -> None:
        """Until ``count`` waits began (a deadline only for when they never do)."""
        for _ in range(1000):
            if len(self.waits) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{len(self.waits)} waits, expected {count}")


async def test_a_429_waits_retry_after_and_then_sends(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.fail_next("sendMessage", 429, retry_after=1)
    held = HeldTime()
    bot = make_bot(fake_bot_api, held.limiter())
    async with bot:
        await bot.send_message(CHAT, "hallo")
    calls = fake_bot_api.calls("sendMessage")
    assert [c.status for c in calls] == [429, 200]
    # The retry waited Telegram's retry_after (and a little), on the limiter's own clock.
    assert len(held.waits) == 1 and held.waits[0] >= 1.0
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
    held = HeldTime()
    bot = make_bot(fake_bot_api, held.limiter(per_chat_per_second=4, per_chat_burst=2))
    sent_at: list[float] = []
    async with bot:
        for n in range(6):
            await bot.send_message(CHAT, f"bericht {n}")
            sent_at.append(held.clock())
    assert len(fake_bot_api.calls("sendMessage")) == 6
    # A burst of two, then four per second, on the limiter's clock (which moves only by its
    # own waits): the sixth goes (6 - 2) / 4 = 1.0 s after the first.
    assert sent_at == pytest.approx([0.0, 0.0, 0.25, 0.5, 0.75, 1.0])


async def test_a_short_burst_in_one_chat_goes_out_at_once(fake_bot_api: FakeBotApi) -> None:
    held = HeldTime()
    bot = make_bot(fake_bot_api, held.limiter(per_chat_per_second=1, per_chat_burst=3))
    async with bot:
        for n in range(3):
            await bot.send_message(CHAT, f"bericht {n}")
        # The first three without any wait (the old one-per-second pacing waited twice) ...
        assert held.waits == []
        await bot.send_message(CHAT, "de vierde")
    # ... and the fourth waits for its turn: one second on the limiter's clock.
    assert held.waits == pytest.approx([1.0])
    assert len(fake_bot_api.calls("sendMessage")) == 4


async def test_answering_a_button_never_waits_for_the_chats_pacing(
    fake_bot_api: FakeBotApi,
) -> None:
    held = HeldTime()
    bot = make_bot(fake_bot_api, held.limiter(per_chat_per_second=1, per_chat_burst=1))
    async with bot:
        await bot.send_message(CHAT, "eerste")
        held.hold()
        paced = asyncio.create_task(bot.send_message(CHAT, "tweede"))
        # The second send waits for the chat's pace, and keeps waiting until let go.
        await held.until_waiting(1)
        # A query id the fake does not know answers 400; what matters is when it went out.
        # (Were the answer paced, it would wait behind the held send and never come back.)
        with contextlib.suppress(BadRequest):
            await asyncio.wait_for(bot.answer_callback_query("1"), timeout=10)
        assert not paced.done()
        held.release()
        await paced
    assert len(fake_bot_api.take_violations("answerCallbackQuery")) == 1
    # The answer reached Telegram while the paced send was still waiting, and before it.
    methods = [c.method for c in fake_bot_api.calls(include_polling=False)]
    assert methods[-3:] == ["sendMessage", "answerCallbackQuery", "sendMessage"]
    assert held.waits == pytest.approx([1.0])


async def test_the_crisis_response_never_waits_for_the_chats_pacing(
    fake_bot_api: FakeBotApi,
) -> None:
    held = HeldTime()
    bot = make_bot(fake_bot_api, held.limiter(per_chat_per_second=1, per_chat_burst=1))
    async with bot:
        await bot.send_message(CHAT, "eerste")
        held.hold()
        paced = asyncio.create_task(bot.send_message(CHAT, "tweede"))
        await held.until_waiting(1)
        # Were the crisis response paced, it would wait behind the held send for ever.
        with urgent_delivery():
            await asyncio.wait_for(bot.send_message(CHAT, "hulplijnen"), timeout=10)
        assert not paced.done()
        held.release()
        await paced
    # The paced send waited for the chat's pace; the crisis response went past it.
    assert held.waits == pytest.approx([1.0])
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
