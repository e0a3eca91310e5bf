"""The intake's domain lexicon matches whole words per language; start-up warnings."""

from __future__ import annotations

import logging

import pytest

from bot.intake_data import load_domain_lexicon
from bot.runtime import warn_about_safety_setup
from bot.safety.helplines import load_helplines
from bot.settings import load_settings


@pytest.mark.parametrize(
    "text",
    ["ik heb net 30 paracetamols genomen", "ik heb paranoia", "the paramedics came"],
)
def test_a_turkish_word_is_not_found_inside_another_word(text: str) -> None:
    lexicon = load_domain_lexicon()
    for languages in (("nl",), ("tr", "nl"), None):
        assert "money" not in lexicon.match(text, languages)


def test_turkish_money_words_still_match_for_turkish_speakers() -> None:
    lexicon = load_domain_lexicon()
    assert "money" in lexicon.match("param yok, kira ödeyemiyorum", ("tr", "nl"))
    assert "money" in lexicon.match("paralarım bitti", ("tr", "nl"))


def test_terms_apply_only_in_the_languages_asked_for() -> None:
    lexicon = load_domain_lexicon()
    assert "money" in lexicon.match("borcum var", ("tr",))
    assert "money" not in lexicon.match("borcum var", ("nl",))


def test_start_up_says_when_no_safety_chat_is_configured(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = load_settings({}, env_file=None)
    with caplog.at_level(logging.WARNING, logger="bot.runtime"):
        warn_about_safety_setup(settings, load_helplines())
    text = caplog.text
    assert "no safety chat configured (OPSTAP_SAFETY_CHAT_ID)" in text
    assert "help lines not verified yet" in text and "antigif" in text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.runtime"):
        warn_about_safety_setup(
            settings.model_copy(update={"safety_chat_id": -100123}), load_helplines()
        )
    assert "no safety chat configured" not in caplog.text
