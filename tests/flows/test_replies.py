"""Natural replies: what typed words mean, in the six languages (flows/replies.py)."""

from __future__ import annotations

import pytest

from bot.i18n import Translator
from flows.effects import SendMessage
from flows.engine import start
from flows.ids import PersonId
from flows.replies import LANGUAGES, intent, normalise, number_in_words, phrases, rating_in_words
from tests.flows import T0, intake_flow
from tests.test_plain_language import words


def test_every_intent_has_words_in_all_six_languages() -> None:
    assert set(LANGUAGES) == {"nl", "en", "fr", "ar", "tr", "uk"}
    for name in ("yes", "no", "stop", "skip", "back", "dont_know", "rather_not"):
        assert set(phrases(name)) == set(LANGUAGES), name


def test_no_phrase_means_two_things() -> None:
    # Across all languages, so that a mixed-language message is never read two ways.
    seen: dict[str, str] = {}
    for name in ("yes", "no", "stop", "skip", "back", "dont_know", "rather_not"):
        for language_phrases in phrases(name).values():
            for phrase in language_phrases:
                clean = normalise(phrase)
                assert seen.setdefault(clean, name) == name, (phrase, seen[clean], name)


@pytest.mark.parametrize(
    ("typed", "language", "meaning"),
    [
        ("Ja!", "nl", "yes"),
        ("ja klopt", "nl", "yes"),
        ("oui", "fr", "yes"),
        ("نعم", "ar", "yes"),
        ("evet", "tr", "yes"),
        ("так", "uk", "yes"),
        ("nee", "nl", "no"),
        ("Non merci", "fr", "no"),
        ("hayır", "tr", "no"),
        ("stop", "nl", "stop"),
        ("Ik wil stoppen", "nl", "stop"),
        ("I want to stop", "en", "stop"),
        ("je veux arrêter", "fr", "stop"),
        ("хочу зупинитися", "uk", "stop"),
        ("weet ik niet", "nl", "dont_know"),
        ("Ik weet het niet", "nl", "dont_know"),
        ("I don't know", "en", "dont_know"),
        ("je sais pas", "fr", "dont_know"),
        ("لا أعرف", "ar", "dont_know"),
        ("bilmiyorum", "tr", "dont_know"),
        ("не знаю", "uk", "dont_know"),
        ("zeg ik liever niet", "nl", "rather_not"),
        ("I'd rather not say", "en", "rather_not"),
        ("je préfère ne pas dire", "fr", "rather_not"),
        ("söylemek istemiyorum", "tr", "rather_not"),
        ("overslaan", "nl", "skip"),
        ("sla over", "nl", "skip"),
        ("пропустити", "uk", "skip"),
        ("terug", "nl", "back"),
        ("geri", "tr", "back"),
    ],
)
def test_whole_messages_are_understood(typed: str, language: str, meaning: str) -> None:
    assert intent(typed, language) == meaning


@pytest.mark.parametrize(
    "typed",
    [
        "stop met drinken",
        "ja maar",
        "ik weet niet wat ik moet doen",
        "nee nee nee ik wil werk",
        "",
        "😭",
    ],
)
def test_a_message_means_something_only_as_a_whole(typed: str) -> None:
    assert intent(typed, "nl") is None


@pytest.mark.parametrize(
    ("typed", "language", "number"),
    [
        ("twintig", "nl", 20),
        ("eenentwintig", "nl", 21),
        ("drieëntwintig", "nl", 23),
        ("achttien", "nl", 18),
        ("negenentwintig", "nl", 29),
        ("dertig", "nl", 30),
        ("twenty-two", "en", 22),
        ("nineteen", "en", 19),
        ("vingt", "fr", 20),
        ("vingt et un", "fr", 21),
        ("vingt-huit", "fr", 28),
        ("dix-neuf", "fr", 19),
        ("yirmi üç", "tr", 23),
        ("yirmibir", "tr", 21),
        ("двадцять", "uk", 20),
        ("двадцять чотири", "uk", 24),
        ("вісімнадцять", "uk", 18),
        ("عشرون", "ar", 20),
        ("خمسة وعشرين", "ar", 25),
        ("ثمانية عشر", "ar", 18),
    ],
)
def test_numbers_in_words(typed: str, language: str, number: int) -> None:
    assert number_in_words(typed, language) == number


@pytest.mark.parametrize("typed", ["veel", "twintig euro en zo", "", "een twee drie"])
def test_not_a_number(typed: str) -> None:
    assert number_in_words(typed, "nl") is None


@pytest.mark.parametrize(
    ("typed", "language", "rating"),
    [
        ("slecht", "nl", "2"),
        ("gaat wel", "nl", "3"),
        ("goed", "nl", "4"),
        ("heel goed", "nl", "5"),
        ("very bad", "en", "1"),
        ("bof", "fr", "3"),
        ("iyi", "tr", "4"),
        ("погано", "uk", "2"),
        ("ممتاز", "ar", "5"),
    ],
)
def test_ratings_in_words(typed: str, language: str, rating: str) -> None:
    assert rating_in_words(typed, language) == rating


@pytest.mark.parametrize("language", ["nl", "en", "fr", "ar", "tr", "uk"])
def test_the_welcome_has_at_most_50_words_before_the_first_question(
    language: str, tr: Translator
) -> None:
    # Everything shown before the first question, buttons included, in the person's language.
    shown = start(intake_flow(), PersonId("tg:1"), at=T0, language=language).effects
    texts = [tr.render_parts(e.parts, language) for e in shown if isinstance(e, SendMessage)]
    assert len(texts) == 1
    assert len(words(texts[0])) <= 50, (language, len(words(texts[0])))
    assert "112" in texts[0] and "1813" in texts[0]
