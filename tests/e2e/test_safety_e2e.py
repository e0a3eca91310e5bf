"""End to end: the safety net through the fake Bot API, with the runtime in this process.

A young person in the middle of the intake writes a crisis phrase, presses the persistent help
button and edits an earlier message into a crisis phrase: each time the first reply is the
crisis response. The on-duty chat (``OPSTAP_SAFETY_CHAT_ID``) gets the alert, without the young
person's words, and takes it up with its button.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from storage.migrate import upgrade
from tests.e2e.process import free_port
from tests.fakes.bot_api import FakeBotApi, SentMessage

pytestmark = pytest.mark.e2e
YOUNG = 4242
TEAM = 7777
# Tuesday 24 November 2026, 10:00 in Brussels: working hours.
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
HELP_LABEL = "🆘 Ik heb nu hulp nodig"


def has_inline(message: SentMessage) -> bool:
    return bool(message.reply_markup and message.reply_markup.get("inline_keyboard"))


def is_crisis_response(message: SentMessage) -> bool:
    return "1813" in message.plain_text and "112" in message.plain_text


@pytest.fixture
async def runtime(fake_bot_api: FakeBotApi, tmp_path: Path) -> AsyncIterator[Runtime]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    settings = load_settings(
        {
            "OPSTAP_DATABASE_URL": url,
            "OPSTAP_HTTP_PORT": str(free_port()),
            "TELEGRAM_API_URL": fake_bot_api.api_root,
            "OPSTAP_SAFETY_CHAT_ID": str(TEAM),
            "OPSTAP_TICK_SECONDS": "0.2",
        },
        env_file=None,
    )
    # The fixture's token is shorter than a real one; the settings check is not under test.
    settings = settings.model_copy(update={"telegram_token": fake_bot_api.token})
    started = await build_runtime(settings, clock=FrozenClock(NOW))
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def test_crisis_help_first_in_the_middle_of_the_intake(
    fake_bot_api: FakeBotApi, runtime: Runtime
) -> None:
    fake = fake_bot_api
    fake.user_sends_command(YOUNG, "/start")
    welcome = await fake.wait_for_message(YOUNG, predicate=has_inline, timeout=15)
    fake.user_presses_button(YOUNG, welcome.message_id, "welcome=start")
    words = await fake.wait_for_answer(YOUNG, welcome, timeout=15)
    answer = fake.user_sends_text(YOUNG, "Ik zoek een woning")
    confirm = await fake.wait_for_message(
        YOUNG, after=words.index + 1, predicate=has_inline, timeout=15
    )

    # 1. A crisis phrase mid-intake: the crisis response, not the next question.
    before = len(fake.messages(YOUNG))
    fake.user_sends_text(YOUNG, "ik zie het niet meer zitten")
    first = await fake.wait_for_message(YOUNG, after=before, timeout=15)
    assert is_crisis_response(first), first.plain_text
    assert [data for _, data in first.buttons()[0]] == ["safety=talk"]

    # The on-duty chat gets the alert: number, category, time, buttons; never the words.
    alert = await fake.wait_for_message(TEAM, contains="#1", timeout=15)
    assert "zelfdoding" in alert.plain_text and "10:00" in alert.plain_text
    assert "zitten" not in alert.plain_text
    assert [data for row in alert.buttons() for _, data in row] == [
        "safety=1:ack",
        "safety=1:close",
    ]
    # The young person hears that a person knows, and when.
    await fake.wait_for_message(YOUNG, after=first.index + 1, contains="verwittigd", timeout=15)

    # 2. The persistent help button (a reply keyboard) gives the same response.
    keyboard = [m for m in fake.messages(YOUNG) if HELP_LABEL in m.button_texts()]
    assert keyboard, "the help button was never shown"
    before = len(fake.messages(YOUNG))
    fake.user_sends_text(YOUNG, HELP_LABEL)
    pressed = await fake.wait_for_message(YOUNG, after=before, timeout=15)
    assert is_crisis_response(pressed), pressed.plain_text
    # Its own "Verder met de vragen" button is the next step: it brings the open question back.
    await fake.wait_idle(0.3)
    fake.user_presses_button(YOUNG, pressed.message_id, "safety=continue")
    again = await fake.wait_for_message(
        YOUNG, after=pressed.index + 1, contains="Klopt dat?", timeout=15
    )

    # 3. An earlier answer edited into a crisis phrase: the crisis response again.
    before = again.index + 1
    fake.user_edits_message(YOUNG, answer["message"]["message_id"], "ik wil er niet meer zijn")
    edited = await fake.wait_for_message(YOUNG, after=before, timeout=15)
    assert is_crisis_response(edited), edited.plain_text

    # 4. /hulp, the same response.
    await fake.wait_idle(1.5)
    before = len(fake.messages(YOUNG))
    fake.user_sends_command(YOUNG, "/hulp")
    command = await fake.wait_for_message(YOUNG, after=before, timeout=15)
    assert is_crisis_response(command), command.plain_text

    # The team takes it up.
    fake.user_presses_button(TEAM, alert.message_id, "safety=1:ack")
    await fake.wait_for_message(TEAM, contains="op jouw naam", timeout=15)

    # The intake continues where it was: the open question is still the words check.
    await fake.wait_idle(0.3)
    fake.user_presses_button(YOUNG, command.message_id, "safety=continue")
    latest = await fake.wait_for_message(
        YOUNG, after=command.index + 1, contains="Klopt dat?", timeout=15
    )
    assert latest.text == confirm.text
    await fake.wait_idle(0.5)
    fake.user_presses_button(YOUNG, latest.message_id, "words_confirm=yes")
    await fake.wait_for_answer(YOUNG, latest, contains="oud", timeout=15)
    await fake.wait_idle(0.5)
    assert fake.unanswered_callback_queries() == []
