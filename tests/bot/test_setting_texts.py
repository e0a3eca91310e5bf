"""Texts that state a setting take it from the settings, in every language.

With ``OPSTAP_RETENTION_ABANDONED_DAYS=14`` the purge uses 14 days, so the welcome, the pause
message, ``/privacy`` and the short notice must say 14, never the default 30.
"""

from __future__ import annotations

import pytest

from bot.i18n import Translator
from bot.settings import load_settings
from flows.languages import CODES
from flows.text import msg

RETENTION_TEXTS = ("intake.welcome.privacy", "intake.paused", "privacy.full", "privacy.short")


@pytest.mark.parametrize("language", CODES)
def test_retention_texts_follow_the_settings(language: str) -> None:
    settings = load_settings(
        {"OPSTAP_RETENTION_ABANDONED_DAYS": "14", "OPSTAP_RETENTION_CLOSED_MONTHS": "7"},
        env_file=None,
    )
    translator = Translator.from_dir(settings=settings)
    for message_id in RETENTION_TEXTS:
        text = translator.render(msg(message_id), language)
        assert "14" in text, (language, message_id)
        assert "30" not in text and "{" not in text, (language, message_id)
    full = translator.render(msg("privacy.full"), language)
    assert "7" in full and "12" not in full


def test_the_defaults_are_said_without_settings() -> None:
    text = Translator.from_dir().render(msg("intake.paused"), "nl")
    assert "30" in text
