"""Fourteenth round, Arabic, Turkish and Ukrainian: rules and idioms by kind.

Screened by the rules alone (the shipped lexicons without the classifier).  Each pair is a
real signal that must flag and its everyday look-alike that must pass.  The texts are written
for these tests, not copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener

# A forced marriage flags when the speaker is the one married off (crisis) or promised (check);
# a cousin, a sister, the news or a film pass, unless the speaker is next.
FORCED_MARRIAGE = [
    ("babam beni zorla amcamın oğluyla evlendirecek", "kuzenimi zorla evlendirdiler"),
    ("zorla evlendiriliyorum, yardım edin", "haberde zorla evlendirilen kızları izledim"),
    ("zorla evlendirildim, 17 yaşındaydım", "film zorla evlendirilen bir kadını anlatıyor"),
    ("yazın köyde beni nişanlayacaklar", "yazın köyde ablamı nişanlayacaklar"),
    ("ablamı zorla evlendirdiler, sıra bende", "ablamı zorla evlendirdiler, çok üzülüyorum"),
]

# Missed kinds: peace only while obeying him; a car running me over (Levantine "دعس");
# a medicine taken beyond what the box says; beaten with a belt by several.
MISSED_KINDS = [
    ("الوضع هادي طالما بسمع كلامه", "الوضع هادي بالبيت"),
    ("لو دعستني سيارة اليوم بيرتاحوا كلهم", "كانت سيارة بدها تدعس القطة اليوم"),
    (
        "kutudaki prospektüste yazandan fazla alıyorum bu ilacı",
        "kutudaki prospektüste yazandan fazla almayın diyor",
    ),
    ("abilerim beni sopayla dövdüler", "abilerim sopayla top oynadılar"),
]

# False alarms by kind, each beside the real signal in the same shape: the way home feared
# (by bike, after the news), not the home; a night shift "killing me"; the weather "makes me
# want to die"; shelters for victims of domestic violence looked up for a course; a lecturer
# or a boss who "will kill" or "shoot" me over a trifle; a parent alone with her own toddler.
FALSE_ALARMS = [
    (
        "eve dönmeye korkuyorum, babam sarhoş",
        "gece otobüsle eve dönmeye korkuyorum, durakta kavga çıkmış",
    ),
    ("اخويا عم يقتلني", "الشيفت الليلي بالمصنع عم يقتلني، بدي نصيحة"),
    ("بغيت نموت", "هالبرد كيخليني بغيت نموت"),
    (
        "أنا ضحية العنف الأسري",
        "للبحث ديالي كنقلب على مراكز الإيواء ديال ضحايا العنف الأسري",
    ),
    ("хочеться здохнути", "від цього дощу хочеться здохнути"),
    (
        "я жертва домашнього насильства",
        "для доповіді шукаю кризові центри для жертв домашнього насильства",
    ),
    ("вітчим мене застрелить", "тренер мене застрелить якщо я пропущу тренування"),
    ("чоловік мене вб'є, він знову п'яний", "викладачка мене вб'є, я не здала курсову"),
    ("малий 4 роки сам вдома", "у мене дитина 4 роки, я з нею сама цілий день"),
]


@pytest.mark.parametrize(("signal", "look_alike"), FORCED_MARRIAGE + MISSED_KINDS + FALSE_ALARMS)
def test_the_signal_flags_and_the_look_alike_passes(
    rules: Screener, signal: str, look_alike: str
) -> None:
    assert rules.screen(signal).flagged, signal
    assert not rules.screen(look_alike).flagged, look_alike


@pytest.mark.parametrize(
    ("speaker", "someone_else"),
    [
        (
            "annem babam beni zorla evlendirmek istiyor",
            "annem babam ablamı zorla evlendirmek istiyor",
        ),
        (
            "zorla evlendirmek için beni memlekete götürüyorlar",
            "zorla evlendirilen kızlar için bağış topluyoruz",
        ),
    ],
)
def test_the_speaker_married_off_is_a_crisis_someone_else_passes(
    rules: Screener, speaker: str, someone_else: str
) -> None:
    screening = rules.screen(speaker)
    assert screening.flagged and screening.tier == "crisis", speaker
    assert not rules.screen(someone_else).flagged, someone_else


@pytest.mark.parametrize(
    "text",
    [
        "kuzenimi zorla evlendirdiler, şimdi başka şehirde",
        "ablamı zorla evlendirdiler, bugün ziyarete gittik",
    ],
)
def test_someone_else_married_off_does_not_flag_a_check(rules: Screener, text: str) -> None:
    assert not rules.screen(text).flagged, text
