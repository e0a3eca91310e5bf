"""The rules' false alarms by kind (eighth round, Arabic, Turkish and Ukrainian), each beside the
real signal it must never hide.

Screened by the rules alone (the shipped lexicons without the classifier): these are rule
changes, and the classifier decides separately.  The texts are written for these tests, not
copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener


@pytest.mark.parametrize(
    "text",
    [
        # "Will kill me" over a trifle: a cup, a headlight, a charger; grades, taxes, being late;
        # the boss or teacher in Darija.
        "сестра мене вб'є якщо я розіб'ю її улюблену чашку",
        "тато вб'є мене за розбиту фару",
        "annem beni öldürecek, karnemi gördü",
        "bu vergi beni öldürecek",
        "geç kalırsam müdür beni öldürür",
        "اخوي رح يقتلني إذا ضيعت الشاحن تبعو",
        "lprof ghadi y9tlni, mad dert walou",
        # Word senses: a rope by its everyday use, "все" (everything) is no decision, a knife
        # named as a tool, hands that hurt after cutting food, a parent alone with a child for
        # years, a razor at the barber's, a place one no longer wants to live in.
        "мотузка для білизни в мене на балконі, все висить",
        "ходжу на скелелазіння, страхувальна мотузка, все перевіряємо двічі",
        "у мене на складі начальник тримає ніж для коробок",
        "на кухні цілий день м'ясо ріжу, руки болять",
        "сама з дитиною вже 4 роки, працюю на двох роботах",
        "berberde jiletle sakal tıraşı oldum, biraz kesildi",
        "bu şehirde artık yaşamak istemiyorum, kiralar çok yüksek",
        # A scene in a series: someone there cuts themselves.
        "дивився аніме, де героїня себе ріже",
        # Games and matches.
        "kuzenim beni konsolda dövdü, rövanş istiyorum",
        "maçta o penaltıdan sonra kendimi öldürmek istedim",
        # A degree ("to the point I would die"), a goal ("I'll die if I don't get my licence"),
        # others' teasing.
        "ضحكت على النكتة لدرجة كنت رح موت",
        "ra7 nmout ila ma khdit lpermis had l3am",
        "اخواتي بيمزحوا إني رح موت عزباء",
        # A family member who struck someone outside the family.
        "اخوي ضرب طالب بالباص",
    ],
)
def test_an_everyday_kind_passes_the_rules(rules: Screener, text: str) -> None:
    assert not rules.screen(text).flagged, text


@pytest.mark.parametrize(
    "text",
    [
        "вітчим вб'є мене якщо я комусь скажу",
        "kocam beni öldürecek, kapıyı kilitledi",
        "baba ghadi y9tlni",
        "мотузку купив. кінець.",
        "я вже купила мотузку, все рішила",
        "він тримає ніж біля мого горла",
        "я ріжу руки щоночі",
        "я сама з братиком 2 роки, мами немає з ранку",
        "kendimi jiletle kestim",
        "artık yaşamak istemiyorum",
        "дивився аніме, де героїня себе ріже, і я теж ріжу себе",
        "abim beni dövdü, yüzüm morardı",
        "kendimi öldürmek istiyorum",
        "ra7 nmout lyoum, ma b9itch baghi n3ich",
        "رح موت الليلة",
        "بابا ضرب امي مبارح",
    ],
)
def test_the_real_signal_still_flags(rules: Screener, text: str) -> None:
    assert rules.screen(text).flagged, text
