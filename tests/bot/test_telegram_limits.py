"""The flood limiter against the fake Bot API: 429 waits and retries, 5xx retries with backoff,
403 does not retry, and one chat is never sent more than its rate."""

from __future__ import annotations

import pytest
from telegram.error import Forbidden
from telegram.ext import ExtBot

from bot.telegram.limits import FloodLimiter
from tests.fakes.bot_api import FakeBotApi

CHAT = 777


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
    bot = make_bot(fake_bot_api, FloodLimiter(per_chat_per_second=4))
    async with bot:
        for n in range(6):
            await bot.send_message(CHAT, f"bericht {n}")
    times = [c.time for c in fake_bot_api.calls("sendMessage")]
    # Six messages at four per second cannot all go out within the first half second.
    assert times[-1] - times[0] >= 0.5
