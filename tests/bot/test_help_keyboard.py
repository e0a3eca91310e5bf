"""The persistent help button and its hint come once per chat, also across restarts (the
chats that have it are stored: ``help_keyboards``), and again after a change of language."""

from __future__ import annotations

from pathlib import Path

from bot.service import OutgoingMessage
from flows.ids import PersonId
from storage.help_keyboard_port import HELP_KEYBOARD_KEY
from tests.bot.test_pipeline import CHAT, inline
from tests.fakes.bot_api import FakeBotApi, SentMessage
from tests.reliability.test_inbox_outbox import telegram_on

HINT = "safety.button.hint"  # the test translator renders message ids


def with_help_button(fake: FakeBotApi) -> list[SentMessage]:
    return [m for m in fake.messages(CHAT) if (m.reply_markup or {}).get("keyboard")]


async def test_the_help_hint_comes_once_per_chat_across_restarts(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    fake = fake_bot_api
    async with telegram_on(fake, tmp_path) as running:
        fake.user_sends_command(CHAT, "/start")
        await fake.wait_for_message(CHAT, contains="taps.q1", timeout=10)
        await fake.wait_idle(0.3, timeout=10)
        await running.front.keyboards.stored()
        async with running.storage.transaction() as tx:
            assert await tx[HELP_KEYBOARD_KEY].all() == {PersonId(f"tg:{CHAT}"): "nl"}
    [hint] = with_help_button(fake)
    assert hint.plain_text == HINT

    # A restart: the chat has the button already, so a question comes without a hint.
    async with telegram_on(fake, tmp_path) as running:
        question = [m for m in fake.messages(CHAT) if inline(m)][-1]
        fake.user_presses_button(CHAT, question.message_id, "q1=a")
        await fake.wait_for_message(CHAT, contains="taps.q2", timeout=10)
        await fake.wait_idle(0.3, timeout=10)
        assert with_help_button(fake) == [hint]
        # A new language brings it again (in that language), and that is stored too.
        await running.front.channel.language_changed(PersonId(f"tg:{CHAT}"), "en")
        asked = OutgoingMessage("taps.q2", buttons=((("a", "q2=a"),),), prompt=True, language="en")
        await running.service.deliver(PersonId(f"tg:{CHAT}"), [asked])
        await fake.wait_idle(0.3, timeout=10)
        assert len(with_help_button(fake)) == 2
        await running.front.keyboards.stored()
        async with running.storage.transaction() as tx:
            assert await tx[HELP_KEYBOARD_KEY].all() == {PersonId(f"tg:{CHAT}"): "en"}
