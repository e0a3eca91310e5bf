"""The rules' false alarms by kind (eighth round, Dutch, English and French), each beside the
real signal it must never hide.

Screened by the rules alone (the shipped lexicons without the classifier): these are rule
changes.  The texts are written for these tests, not copied from a batch.
"""

from __future__ import annotations

import pytest

from bot.safety.lexicon import load_screener
from flows.safety import Screener


@pytest.fixture(scope="module")
def rules() -> Screener:
    return load_screener().with_model(None)


# A crisis told as over, in forms the earlier lists lacked: "maar al twee jaar niet meer",
# "ma da is lang geleden", a relative to whom it happened long ago and who is safe now,
# "à 14 ans", "c'était en 2019 ... tout est réglé", "je suis en paix avec ça", "at 15 ...
# and now i'm fine".
_TOLD_AS_OVER = [
    ("nl", "vroeger sneed ik in mijn armen, maar al twee jaar niet meer"),
    ("nl", "vroeger sneed ik mezelf, da's al drie jaar gedaan"),
    ("nl", "toen ik 15 was sloeg mijn stiefvader mij, ma da is lang geleden"),
    ("nl", "vorige keer zei ik hier dat ik niet meer wou leven, nu gaat het veel beter"),
    ("nl", "mijn tante werd vroeger mishandeld door haar man, nu woont ze veilig in gent"),
    ("fr", "à 14 ans je me faisais du mal, aujourd'hui ça va"),
    ("fr", "mon beau-père me frappait avant, c'était en 2019, tout est réglé"),
    ("fr", "j'ai eu une phase où je me scarifiais, je suis en paix avec ça"),
    ("fr", "l'an dernier j'ai pensé à en finir, avec la psy ça va tellement mieux"),
    ("fr", "à 16 ans j'ai fait une overdose, c'est loin derrière moi"),
    ("en", "i felt suicidal at 15, and now at 22 i'm really fine"),
]
# The same signal said again after the "now": it is never dropped.
_AGAIN = {
    "nl": " maar vannacht wil ik weer dood",
    "en": " but tonight i want to die again",
    "fr": " mais ce soir je veux encore mourir",
}


@pytest.mark.parametrize(("language", "text"), _TOLD_AS_OVER)
def test_a_crisis_told_as_over_passes(rules: Screener, language: str, text: str) -> None:
    assert not rules.screen(text).flagged, text


@pytest.mark.parametrize(("language", "text"), _TOLD_AS_OVER)
def test_a_signal_after_the_now_still_flags(rules: Screener, language: str, text: str) -> None:
    assert rules.screen(text + _AGAIN[language]).flagged, text


@pytest.mark.parametrize(
    ("benign", "signal"),
    [
        # Hyperbole about someone from everyday life: "will murder me" for a trivial thing
        # that comes back, or with laughter right after.  The bare threat, or one with fear,
        # stays a signal.
        (
            "my coach is gonna murder me if i forget my boots again",
            "my stepdad is gonna murder me, i'm hiding in my room",
        ),
        ("my mum is gonna kill me lol", "my mum is gonna kill me, she has a knife"),
        ("mijn ma gaat me afmaken haha", "mijn stiefvader gaat me afmaken, ik ben bang"),
        (
            "mijn broer gaat me wurgen als ik zijn oplader weer kwijt ben",
            "mijn broer gaat me wurgen, hij heeft het al eens gedaan",
        ),
        ("mon frère va me buter mdr", "mon frère va me buter, il a un couteau"),
        (
            "ma soeur va me tuer si je perds encore son chargeur",
            "ma soeur va me tuer, elle a un couteau",
        ),
        # Self-reproach said as an idiom: "myself" and "hit" about something silly I did.
        (
            "ik kan mezelf wel voor m'n kop slaan, mijn sleutels vergeten",
            "ik sla mezelf tot ik blauwe plekken heb",
        ),
        # Annoyance at a chore that comes back, not a wish to die.
        (
            "je vais mourir si je dois encore attendre ce bus",
            "je vais mourir ce soir, j'ai tout préparé",
        ),
        # What a character in a game does.
        (
            "dans ce niveau mon perso doit sauter du toit pour passer",
            "je vais sauter du toit ce soir",
        ),
        (
            "in minecraft heb ik mij van het dak laten vallen om sneller te gaan",
            "ik wil mij van het dak laten vallen",
        ),
        # The kitchen: its tools and the food cut, and a recipe's knife.
        (
            "cut myself on the grater making dinner, bit of blood",
            "i cut myself on purpose with a razor",
        ),
        (
            "je me suis coupée en faisant les carottes, ça saigne un peu",
            "je me coupe les bras le soir",
        ),
        (
            "la recette dit d'écraser l'ail avec un couteau",
            "il est devant chez moi avec un couteau",
        ),
        # A topic noun as the subject of a book, a film or a campaign, not of my life.
        (
            "we watched a documentary about girls escaping forced marriage",
            "my family is forcing me into a marriage next month",
        ),
        # Scars or a helpline number from the past ("old scars", "back when").
        (
            "i have old self harm scars, can i wear short sleeves at the interview",
            "i cut myself every night",
        ),
        (
            "a teacher gave me the crisis line number back when i was in school, still have it",
            "i need the number of the crisis line right now",
        ),
    ],
)
def test_a_benign_kind_passes_and_its_signal_flags(
    rules: Screener, benign: str, signal: str
) -> None:
    assert not rules.screen(benign).flagged, benign
    assert rules.screen(signal).flagged, signal
    assert rules.screen(f"{benign}. {signal}").flagged, signal
