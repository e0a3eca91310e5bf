"""End to end: the persistent 🆘 help button and its hint speak the chosen language.

Issue 14: the reply keyboard and its hint were Dutch for English, French, Turkish and
Ukrainian speakers (the channel guessed the language from the text direction).
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
YOUNG = 4343
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LABELS = {
    "nl": "🆘 Ik heb nu hulp nodig",
    "en": "🆘 I need help now",
    "fr": "🆘 J'ai besoin d'aide maintenant",
    "tr": "🆘 Şimdi yardıma ihtiyacım var",
    "uk": "🆘 Мені потрібна допомога зараз",
}


def has_inline(message: SentMessage) -> bool:
    return bool(message.reply_markup and message.reply_markup.get("inline_keyboard"))


def help_labels(message: SentMessage) -> list[str]:
    markup = message.reply_markup or {}
    return [b["text"] for row in markup.get("keyboard", []) for b in row]


@pytest.fixture
async def runtime(fake_bot_api: FakeBotApi, tmp_path: Path) -> AsyncIterator[Runtime]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    settings = load_settings(
        {
            "OPSTAP_DATABASE_URL": url,
            "OPSTAP_HTTP_PORT": str(free_port()),
            "TELEGRAM_API_URL": fake_bot_api.api_root,
            "OPSTAP_TICK_SECONDS": "0.2",
        },
        env_file=None,
    )
    settings = settings.model_copy(update={"telegram_token": fake_bot_api.token})
    started = await build_runtime(settings, clock=FrozenClock(NOW))
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.mark.parametrize("language", ["en", "tr"])
async def test_the_help_button_and_hint_follow_the_language_and_a_switch(
    fake_bot_api: FakeBotApi, runtime: Runtime, language: str
) -> None:
    fake = fake_bot_api
    fake.user_sends_command(YOUNG, "/start", language_code=language)
    welcome = await fake.wait_for_message(YOUNG, predicate=has_inline, timeout=15)
    await fake.wait_idle(0.3, timeout=10)
    shown = [label for m in fake.messages(YOUNG) for label in help_labels(m)]
    assert shown == [LABELS[language]]
    hint = next(m for m in fake.messages(YOUNG) if help_labels(m))
    assert LABELS[language].removeprefix("🆘 ") in hint.plain_text

    # A switch to French: the next keyboard and hint are French.
    fake.user_sends_command(YOUNG, "/taal", language_code=language)
    picker = await fake.wait_for_message(
        YOUNG, after=welcome.index + 1, predicate=has_inline, timeout=15
    )
    fake.user_presses_button(YOUNG, picker.message_id, "_language=fr", language_code=language)
    await fake.wait_for_message(
        YOUNG,
        after=picker.index + 1,
        predicate=lambda m: LABELS["fr"] in help_labels(m),
        timeout=15,
    )
