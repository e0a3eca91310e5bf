"""Fifteenth round, Arabic, Turkish and Ukrainian: coercion, "will kill me" said of a thing,
and letters to offices.

Screened by the rules alone (the shipped lexicons without the classifier).  Each pair is a
real signal that must flag and its everyday look-alike that must pass.  The texts are written
for these tests, not copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener

# Forced or pressured: a crisis when what is forced is harmful (sex, nudes, marriage, drugs,
# theft, money or papers, being kept in) or a threat of harm comes with it; forced to study,
# to a wedding, to work on Saturday, to the mosque or to eat is no signal.
COERCED_HARM = [
    ("sevgilim beni seks yapmaya zorluyor", "annem beni düğüne gitmeye zorluyor"),
    ("sevgilim beni çıplak fotoğraf göndermeye zorluyor", "babam beni okumaya zorluyor"),
    ("babam beni evlenmeye zorluyor", "babam beni camiye gitmeye zorluyor"),
    ("abim beni uyuşturucu satmaya zorluyor", "patronum beni fazla mesai yapmaya zorluyor"),
    ("beni odada zorla tuttular", "annem beni erken yatmaya zorluyor"),
    ("babam beni okumaya zorluyor yoksa beni dövecek", "annem beni yemek yemeye zorluyor"),
    ("хлопець змушує мене займатися сексом", "мама змушує мене йти на весілля"),
    ("він змушує мене продавати наркотики", "тато змушує мене вчитися"),
    ("він змушує мене віддавати гроші", "мама заставляет меня есть"),
    ("тато змушує мене віддати паспорт", "мама змушує мене зробити паспорт"),
    ("він змушує мене працювати інакше поб'є", "начальник змушує мене працювати в суботу"),
    ("صاحبي كيجبرني نمارس الجنس معاه", "بابا كيجبرني نمشي للجامع"),
    ("هو يجبرني على بيع المخدرات", "أبي يجبرني على الدراسة"),
    ("خويا كيجبرني نسرق", "أمي تجبرني أروح العرس"),
    ("يجبرني نرسل صور عارية", "الخدمة كتجبرني نخدم السبت"),
    ("بابا كيجبرني نمشي للمدرسة وإلا يضربني", "بابا كيجبرني نمشي للمدرسة"),
]

# A forced thing left vague, or "he forces me" with nothing after it: the check tier.
COERCED_VAGUE = [
    "babam beni istemediğim şeyler yapmaya zorluyor",
    "babam beni zorluyor",
    "він змушує мене робити те чого я не хочу",
    "він змушує мене",
    "هو يجبرني على أشياء ما بغيتش",
    "هو يجبرني",
]

# Turkish "zorla" (by force) with a marriage, a sexual act or being held stays a crisis.
BY_FORCE = [
    "beni zorla evlendirmek istiyorlar",
    "sevgilim beni zorla ilişkiye soktu",
    "amcam beni zorla odaya kilitledi",
]

# "Will kill me" said of a thing (debts, bills, exams, this job, stress) is an idiom; said of
# a person it stays a threat.
KILL_ME_THING = [
    ("kocam beni öldürecek", "bu borçlar beni öldürecek"),
    ("babam beni öldürecek", "faturalar beni öldürecek"),
    ("чоловік мене вб'є", "ці борги мене вб'ють"),
    ("він мене вб'є", "стрес мене вб'є"),
    ("راجلي غادي يقتلني", "هاد الديون غادي تقتلني"),
    ("هو غادي يقتلني", "الستريس غادي يقتلني"),
]

# A letter to an office, a landlord, a lawyer or an employer is no farewell letter; a
# farewell letter, or letters to everyone, still flags.
LETTERS = [
    ("herkese bir mektup yazdım", "avukata mektup yazdım, hazır"),
    ("herkese bir mektup yazdım", "mahkeme için mektup yazdım"),
    ("я написала прощальний лист", "я написала лист до cpas"),
    ("كتبت رسالة وداع", "كتبت رسالة لمول الدار"),
]


@pytest.mark.parametrize(("signal", "look_alike"), COERCED_HARM)
def test_coercion_to_harm_is_a_crisis_everyday_coercion_passes(
    rules: Screener, signal: str, look_alike: str
) -> None:
    screening = rules.screen(signal)
    assert screening.flagged and screening.tier == "crisis", signal
    assert not rules.screen(look_alike).flagged, look_alike


@pytest.mark.parametrize("text", COERCED_VAGUE)
def test_vague_coercion_is_a_check(rules: Screener, text: str) -> None:
    screening = rules.screen(text)
    assert screening.flagged and screening.tier == "check", text


@pytest.mark.parametrize("text", BY_FORCE)
def test_by_force_stays_a_crisis(rules: Screener, text: str) -> None:
    screening = rules.screen(text)
    assert screening.flagged and screening.tier == "crisis", text


@pytest.mark.parametrize(("signal", "look_alike"), KILL_ME_THING + LETTERS)
def test_the_signal_flags_and_the_look_alike_passes(
    rules: Screener, signal: str, look_alike: str
) -> None:
    assert rules.screen(signal).flagged, signal
    assert not rules.screen(look_alike).flagged, look_alike


@pytest.mark.parametrize(
    "text",
    [
        "ocmw mektubu yazdım ve herkese veda mektubu bıraktım",
        "bu borçlar beni öldürecek, artık yaşamak istemiyorum",
        "ці борги мене вб'ють, я не хочу жити",
        "лист для ocmw готовий, і прощальний лист теж",
    ],
)
def test_an_idiom_never_hides_a_signal_beside_it(rules: Screener, text: str) -> None:
    assert rules.screen(text).flagged, text
