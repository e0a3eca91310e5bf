"""Typed help words (flows.safety.help_words)."""

from __future__ import annotations

import pytest

from flows.safety.help_words import HELP_WORDS, asks_for_help


@pytest.mark.parametrize(
    "text",
    [
        "help",
        "HELP!!",
        "hulp",
        "Hulp aub",
        "sos",
        "SOS!",
        "help me please",
        "au secours",
        "à l'aide",
        "aide",
        "yardım",
        "imdat",
        "yardım edin",
        "допомога",
        "допоможіть",
        "помогите",
        "مساعدة",
        "ساعدني",
        "i need help",
        "ik heb hulp nodig",
        "  hulp  ",
    ],
)
def test_help_words_in_six_languages_ask_for_help(text: str) -> None:
    assert asks_for_help(text)


@pytest.mark.parametrize(
    "text",
    [
        "ik zoek hulp bij mijn cv",
        "helpdesk",
        "hulp bij de huur",
        "ja",
        "nee",
        "help je mij met mijn cv?",
        "yardımcı oldu",
        "soso",
        "aide-soignante worden",
        "",
    ],
)
def test_other_text_is_an_answer(text: str) -> None:
    assert not asks_for_help(text)


def test_every_language_has_help_words() -> None:
    assert set(HELP_WORDS) == {"nl", "en", "fr", "ar", "tr", "uk"}
    for words in HELP_WORDS.values():
        assert all(asks_for_help(w) for w in words)
