"""Everyday answers to the intake's questions never get the check question.

A young person who types their age or where they live and is asked "denk je eraan om jezelf
iets aan te doen?" loses trust in the chat. The golden transcripts caught "ik ben 16" doing
exactly that once the classifier joined the rules; these answers (other ages and towns than
the training templates in paraphrases.yaml) keep it from coming back.
"""

from __future__ import annotations

import pytest

from bot.safety.lexicon import load_screener

EVERYDAY = [
    "ik ben 27",
    "ik ben 32 jaar",
    "ik ben 18 jaar oud",
    "ik woon in Kortrijk",
    "ik woon bij mijn broer in Brugge",
    "ik ben 21 en woon in Lokeren",
    "Ik heb schulden en ze hebben me buiten gezet",
    "ik zoek werk in Sint-Niklaas",
    "i'm 27",
    "i am 32 years old",
    "i live in Bruges",
    "j'ai 27 ans",
    "j'habite à Liège",
    "عمري 27 سنة",
    "27 yaşındayım",
    "мені 27 років",
]


@pytest.mark.parametrize("text", EVERYDAY)
def test_an_everyday_intake_answer_is_not_a_signal(text: str) -> None:
    result = load_screener().screen(text)
    assert not result.flagged, (text, result.tier, result.score)
