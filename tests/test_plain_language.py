"""Plain Dutch (B1 or simpler) in every message the bot can send.

Dutch is the source language; translations follow its shape. Checked on the catalog:

* the average sentence of a message is at most 15 words;
* a message has at most 60 words (the full privacy notice excepted: it is the layer you ask for);
* "je", never the formal "u"/"uw";
* the welcome says it is a bot.

Placeholders count as one word; emoji and bullets are not words.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import catalog_path, load_catalog

LOCALES = Path(__file__).resolve().parent.parent / "locales"
MAX_AVERAGE_SENTENCE = 15
MAX_WORDS = 60
LONG_ALLOWED = frozenset({"privacy.full"})

_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n+")
_WORD = re.compile(r"\{\w+\}|[\w'’@/+.-]*\w[\w'’@/+.-]*")


def dutch() -> dict[str, str]:
    return dict(load_catalog(catalog_path(LOCALES, "nl"), "nl").entries)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if words(s)]


def average_sentence_length(text: str) -> float:
    parts = sentences(text)
    return sum(len(words(s)) for s in parts) / len(parts) if parts else 0.0


MESSAGES = sorted(dutch().items())


def test_the_measure_itself() -> None:
    assert words("Typ /hulp. Bel 0470 12 34 56!") == [
        "Typ",
        "/hulp.",
        "Bel",
        "0470",
        "12",
        "34",
        "56",
    ]
    assert average_sentence_length("Een twee drie. Vier vijf.\nZes") == 2.0
    assert words("👋 • {domain}") == ["{domain}"]


@pytest.mark.parametrize(("message_id", "text"), MESSAGES, ids=[m for m, _ in MESSAGES])
def test_sentences_are_short(message_id: str, text: str) -> None:
    assert average_sentence_length(text) <= MAX_AVERAGE_SENTENCE, text


@pytest.mark.parametrize(("message_id", "text"), MESSAGES, ids=[m for m, _ in MESSAGES])
def test_messages_are_short(message_id: str, text: str) -> None:
    if message_id in LONG_ALLOWED:
        return
    assert len(words(text)) <= MAX_WORDS, f"{message_id}: {len(words(text))} words"


@pytest.mark.parametrize(("message_id", "text"), MESSAGES, ids=[m for m, _ in MESSAGES])
def test_je_not_u(message_id: str, text: str) -> None:
    formal = [w for w in words(text) if w.lower() in ("u", "uw")]
    assert formal == [], f"{message_id} uses the formal form"


def test_the_bot_says_it_is_a_bot() -> None:
    welcome = dutch()["intake.welcome.bot"]
    assert "bot" in welcome and "112" in welcome
