"""Texts that state a setting take it from the settings, in every language.

With ``OPSTAP_RETENTION_ABANDONED_DAYS=14`` the purge uses 14 days, so the welcome, the pause
message, ``/privacy`` and the short notice must say 14, never the default 30, with the unit in
the plural form the language needs for that number (babel's ``Plural-Forms``).
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
    assert "30 dagen" in text


@pytest.mark.parametrize(
    ("language", "days", "said"),
    [
        ("nl", 1, "1 dag."),
        ("nl", 14, "14 dagen"),
        ("en", 1, "1 day."),
        ("en", 2, "2 days"),
        ("fr", 1, "1 jour."),
        ("fr", 30, "30 jours"),
        ("uk", 1, "1 день"),
        ("uk", 3, "3 дні"),
        ("uk", 21, "21 день"),
        ("uk", 30, "30 днів"),
        ("ar", 2, "يومان"),
        ("ar", 5, "5 أيام"),
        ("ar", 30, "30 يومًا"),
        ("tr", 1, "1 gün"),
        ("tr", 30, "30 gün"),
    ],
)
def test_a_count_takes_the_plural_form_of_its_language(language: str, days: int, said: str) -> None:
    settings = load_settings({"OPSTAP_RETENTION_ABANDONED_DAYS": str(days)}, env_file=None)
    text = Translator.from_dir(settings=settings).render(msg("intake.paused"), language)
    assert said in text


@pytest.mark.parametrize("language", CODES)
def test_every_plural_form_is_filled_in(language: str) -> None:
    translator = Translator.from_dir()
    for count in (0, 1, 2, 3, 5, 11, 21, 100, 101):
        for unit in ("count.days", "count.months"):
            text = translator.render(msg(unit, count=count), language)
            assert text and "{" not in text and not text.startswith("count."), (unit, count)
