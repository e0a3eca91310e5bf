"""The fifteenth round's kinds in Dutch, English and French: coercion, a thing that "will kill
me", and letters to offices.

* Being forced or pressured flags by what is forced (sex, nudes, marriage, drugs, dealing,
  money or papers handed over) or by a threat with it; a vague forced thing gets the check
  question; coercion towards everyday things (study, work, overtime, sport, a wedding to
  attend, the mosque, a job search, food, a course) is no signal.
* A thing (debts, exams) that "is gonna kill me" is an idiom; a person saying it stays a threat.
* A letter to an office, a landlord or a job is a benign idiom (blanked for the rules and the
  classifier alike); a farewell letter or a letter for the family is not.

Screened by the rules alone where the rules decide; the letters are checked on the blanking
the classifier sees.  The texts are written for these tests, not copied from a batch.
"""

from __future__ import annotations

import pytest

from bot.safety.lexicon import load_screener
from flows.safety import Screener
from flows.safety.detect import IDIOM_FEATURE, normalise

_COERCION = [
    # (everyday coercion, coercion towards harm or with a threat: crisis)
    ("mijn baas verplicht me om overuren te doen", "mijn vriend dwingt me tot seks"),
    (
        "mijn ouders verplichten me om te studeren",
        "mijn lief dwingt mij om met andere mannen te slapen",
    ),
    (
        "mijn moeder zet me onder druk om werk te zoeken",
        "mijn broer dwingt me om drugs te verkopen",
    ),
    (
        "mijn ouders dwingen me om naar de trouw van mijn neef te gaan",
        "mijn ouders dwingen me te trouwen met mijn neef",
    ),
    (
        "mijn vader dwingt me om mee te gaan naar de moskee",
        "mijn vader dwingt me om te studeren, anders slaat hij me",
    ),
    ("my parents force me to study law", "my boyfriend forces me to have sex"),
    ("my boss forces me to work weekends", "my cousin forces me to sell drugs for him"),
    (
        "my mom forced me to go to my aunt's wedding",
        "my parents are forcing me to marry a man i have never met",
    ),
    ("my dad made me go to the mosque", "he forced me last night after the party"),
    ("mon père me force à faire du sport", "mon copain me force à coucher avec ses potes"),
    (
        "ma mère me force à aller au mariage de ma tante",
        "mon grand frère me force à dealer pour lui",
    ),
    (
        "ma mère m'oblige à aller au mariage de mon cousin",
        "il m'oblige à étudier sinon il me frappe",
    ),
    ("le cpas m'oblige à suivre une formation", "un mec m'a forcée dans sa voiture hier soir"),
]

_VAGUE = [
    "hij dwingt me tot dingen die ik niet wil",
    "hij dwingt me",
    "he forces me",
    "my uncle forces me to do stuff",
    "il me force",
    "il me force à faire des trucs",
]

_KILL_ME = [
    # (a thing that will "kill me", a person who will)
    ("these debts are gonna kill me, i owe them so much", "the guys i owe are gonna kill me"),
    ("die examens gaan me nog doodmaken", "mijn vader gaat me doodmaken"),
    ("die schulden gaan me nog doodmaken", "hij gaat me vermoorden"),
    ("ces dettes vont me tuer", "mon père va me tuer"),
]

_LETTERS = [
    "de brief voor de vdab ligt klaar",
    "mijn brief voor de huisbaas is klaar",
    "ik schrijf een sollicitatiebrief",
    "i already wrote the letter to my landlord",
    "my cover letter for the internship is done",
    "j'ai déjà écrit la lettre pour le cpas",
    "ma lettre de motivation est prête",
]

_FAREWELL_LETTERS = [
    "ik heb de brief voor mijn ouders al geschreven voor als ik er niet meer ben",
    "mijn afscheidsbrief ligt klaar",
    "i already wrote the letter for my mum for after i'm gone",
    "j'ai écrit ma lettre d'adieu, elle est sur mon lit",
]


@pytest.mark.parametrize(("everyday", "signal"), _COERCION)
def test_coercion_flags_by_what_is_forced(rules: Screener, everyday: str, signal: str) -> None:
    assert not rules.screen(everyday).flagged, everyday
    assert rules.screen(signal).tier == "crisis", signal


@pytest.mark.parametrize("text", _VAGUE)
def test_a_vague_forced_thing_gets_the_check_question(rules: Screener, text: str) -> None:
    assert rules.screen(text).tier == "check", text


@pytest.mark.parametrize(("thing", "person"), _KILL_ME)
def test_a_thing_that_will_kill_me_is_an_idiom(rules: Screener, thing: str, person: str) -> None:
    assert not rules.screen(thing).flagged, thing
    assert rules.screen(person).tier == "crisis", person


@pytest.fixture(scope="module")
def screener() -> Screener:
    return load_screener()


@pytest.mark.parametrize("text", _LETTERS)
def test_a_letter_to_an_office_is_blanked_as_an_idiom(screener: Screener, text: str) -> None:
    # Blanked whole, a message is too short to score at all.
    parts = screener.model_features(normalise(text))
    assert not parts or IDIOM_FEATURE in parts[0], text
    assert not screener.with_model(None).screen(text).flagged, text


@pytest.mark.parametrize("text", _FAREWELL_LETTERS)
def test_a_farewell_letter_is_no_idiom(screener: Screener, text: str) -> None:
    parts = screener.model_features(normalise(text))
    assert parts and IDIOM_FEATURE not in parts[0], text
    assert screener.with_model(None).screen(text).tier == "crisis", text


_GOODBYES = [
    # (a goodbye to colleagues, a class or a school, or a character's: no signal; one for the
    # family: crisis)  The lead's additions from the round's tuning batch 78.
    (
        "ik heb mijn afscheidsbrief voor de collega's geschreven, vrijdag is mijn laatste dag",
        "ik heb een afscheidsbrief geschreven voor mijn familie",
    ),
    (
        "need a goodbye letter to my old school for the yearbook, any ideas?",
        "i wrote a goodbye letter for my family",
    ),
    (
        "on doit écrire la lettre d'adieu d'un personnage du roman pour le cours",
        "j'ai écrit une lettre d'adieu pour ma famille",
    ),
    (
        "j'ai fait une carte d'adieu pour mes collègues, je change de boulot",
        "j'ai laissé une lettre d'adieu à ma mère sur la table",
    ),
]


@pytest.mark.parametrize(("goodbye", "farewell"), _GOODBYES)
def test_a_goodbye_at_work_or_school_is_no_farewell_letter(
    rules: Screener, goodbye: str, farewell: str
) -> None:
    assert not rules.screen(goodbye).flagged, goodbye
    assert rules.screen(farewell).tier == "crisis", farewell
