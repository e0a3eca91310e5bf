"""The real ``opstap run`` against the fake Bot API, stopped while it works: with SIGKILL and
with SIGTERM, every update gets its answer after the restart, and none more than twice
(issue #16, deliverables 1, 2 and 5; the large seeded chaos test lives beside this one)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.e2e.process import TOKEN, OpstapProcess
from tests.fakes.bot_api import FakeBotApi, SentMessage

pytestmark = pytest.mark.e2e
CHATS = tuple(range(7001, 7013))


def question(message: SentMessage) -> bool:
    return bool(message.reply_markup and message.reply_markup.get("inline_keyboard"))


async def questions_after(
    fake: FakeBotApi, before: dict[int, int], within: float
) -> dict[int, int]:
    """Per chat, how many questions came after ``before``; waits until every chat has one."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        counts = {
            chat: sum(1 for m in fake.messages(chat)[before[chat] :] if question(m))
            for chat in CHATS
        }
        if all(counts.values()) or loop.time() > deadline:
            await fake.wait_idle(0.5, timeout=within)
            return {
                chat: sum(1 for m in fake.messages(chat)[before[chat] :] if question(m))
                for chat in CHATS
            }
        await asyncio.sleep(0.2)


async def burst_then_stop(
    fake: FakeBotApi, process: OpstapProcess, sig: int, env: dict[str, str], tmp_path: Path
) -> dict[int, int]:
    before = {chat: len(fake.messages(chat)) for chat in CHATS}
    for chat in CHATS:
        fake.user_sends_command(chat, "/start")
    # Some answered, some in flight, some not fetched yet.
    await fake.wait_for_message(CHATS[0], after=before[CHATS[0]], timeout=15)
    await process.stop(sig)
    again = OpstapProcess(tmp_path, env)
    await again.start()
    try:
        return await questions_after(fake, before, within=30)
    finally:
        await again.stop()


async def test_no_update_is_lost_or_answered_more_than_twice_across_kill_and_sigterm(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(token=TOKEN) as fake:
        env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_root}
        first = OpstapProcess(tmp_path, env)
        await first.start()
        killed = await burst_then_stop(fake, first, signal.SIGKILL, env, tmp_path)
        assert all(1 <= n <= 2 for n in killed.values()), killed
        second = OpstapProcess(tmp_path, env)
        await second.start()
        stopped = await burst_then_stop(fake, second, signal.SIGTERM, env, tmp_path)
        assert all(1 <= n <= 2 for n in stopped.values()), stopped
        # Everything Telegram handed over was confirmed in the end.
        assert fake.pending_updates() == []
