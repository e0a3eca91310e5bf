"""The rules' false alarms by kind (eighth round, Dutch, English and French), each beside the
real signal it must never hide.

Screened by the rules alone (the shipped lexicons without the classifier): these are rule
changes.  The texts are written for these tests, not copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener


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
