"""End to end: several people press random buttons and type at the real ``opstap run``.

Four simulated people act at random (a fixed seed) against the process and the fake Bot API:
press any button they can see (current or old), type an answer, a command or an emoji, some
faster than the bot can pace its replies. Every callback query must be answered, and soon:
Telegram drops a query after about 15 seconds, and a spinner that never stops is what users
see then. The bound here (3 s, the in-process tests hold 1 s) leaves room for a busy machine;
answering after the handling, behind the chat's pacing, took 5 to 21 s in such a run.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from tests.e2e.process import TOKEN, OpstapProcess
from tests.fakes.bot_api import FakeBotApi, SentMessage

pytestmark = pytest.mark.e2e
PEOPLE = (6101, 6102, 6103, 6104)
ACTIONS = 25
TEXTS = (
    "Ik zoek werk",
    "ja",
    "nee",
    "23",
    "3000 Leuven",
    "Kessel-Lo",
    "🙂",
    "???",
    "/start",
    "/taal",
    "/stop",
    "/privacy",
    "ik weet het niet",
)


def pressable(message: SentMessage) -> list[str]:
    return [data for row in message.buttons() for _, data in row if data is not None]


Pressed = list[tuple[str, float]]  # query id, when


async def person(fake: FakeBotApi, chat: int, rng: random.Random, pressed: Pressed) -> None:
    fake.user_sends_command(chat, "/start")
    await fake.wait_for_message(chat, predicate=lambda m: bool(pressable(m)), timeout=20)
    for _ in range(ACTIONS):
        await asyncio.sleep(rng.uniform(0.05, 0.6))
        # What is on the screen now: buttons of the last few messages.
        visible = [m for m in fake.messages(chat)[-4:] if pressable(m) and not m.deleted]
        if visible and rng.random() < 0.7:
            message = rng.choice(visible)
            update = fake.user_presses_button(
                chat, message.message_id, rng.choice(pressable(message))
            )
            pressed.append((update["callback_query"]["id"], time.monotonic()))
        else:
            text = rng.choice(TEXTS)
            if text.startswith("/"):
                fake.user_sends_command(chat, text)
            else:
                fake.user_sends_text(chat, text)


async def test_random_presses_leave_no_callback_query_unanswered(tmp_path: Path) -> None:
    rng = random.Random(20261206)
    async with FakeBotApi(token=TOKEN) as fake:
        env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_root}
        process = OpstapProcess(tmp_path, env)
        await process.start()
        pressed: Pressed = []
        try:
            await asyncio.gather(
                *(person(fake, chat, random.Random(rng.random()), pressed) for chat in PEOPLE)
            )
            # Replies are paced (about one a second per chat); wait until all went out.
            await fake.wait_idle(2.0, timeout=120)
        finally:
            await process.stop()
        assert fake.unanswered_callback_queries() == []
        assert len(pressed) > 20
        answered = {
            c.params["callback_query_id"]: c.time for c in fake.calls("answerCallbackQuery") if c.ok
        }
        assert all(query in answered for query, _ in pressed)
        slow = sorted(round(answered[q] - at, 1) for q, at in pressed if answered[q] - at > 3.0)
        assert not slow, f"callback queries answered after {slow} s"
        assert "Traceback" not in process.output()
        # Fake-only complaints about edits of messages a press found changed are Telegram's
        # 400s the bot ignores; anything else would be a real violation.
        for method in ("editMessageText", "editMessageReplyMarkup"):
            fake.take_violations(method)
        fake.assert_no_violations()
