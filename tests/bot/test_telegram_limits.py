"""The flood limiter against the fake Bot API: 429 waits and retries, 5xx retries with backoff,
403 does not retry, and one chat is never sent more than its rate."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from telegram.error import BadRequest, Forbidden
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
    # ... and the fourth waits for the bucket: about one second.
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
