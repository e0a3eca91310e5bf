"""Concept rules and tiers (flows.safety.concepts through the shipped lexicons)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.safety.lexicon import load_forms, load_screener
from flows.safety import Screener
from flows.safety.detect import normalise


@pytest.fixture(scope="module")
def screener() -> Screener:
    return load_screener()


# The issue's examples: inflections, plurals, chat spelling, self-harm verbs, everyday abuse.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("ik heb net 30 paracetamols genomen", "overdose"),
        ("ik ben het beu om te leven", "suicide"),
        ("ik kerf in mijn benen met een mesje", "self_harm"),
        ("ik heb afscheidsbrieven geschreven", "suicide"),
        ("mijn stiefvader zit aan mij", "abuse_violence"),
        ("ik wil nie meer leve", "suicide"),
        ("I took a whole bottle of pills", "overdose"),
        ("ikwildood", "suicide"),
        ("mijn ex bedreigt me met een mes", "acute_danger"),
        ("ik heb een fles bleekwater gedronken", "overdose"),
    ],
)
def test_clear_signals_are_crisis(screener: Screener, text: str, category: str) -> None:
    result = screener.screen(text)
    assert result.flagged and result.tier == "crisis", text
    assert result.category == category


@pytest.mark.parametrize(
    "text",
    [
        "morgen ben ik er niet meer",
        "ik weet hoe ik het ga doen",
        "als ik niet meer wakker word is het ook goed",
        "tomorrow i won't be here anymore",
        "demain je serai plus là",
    ],
)
def test_indirect_signals_are_check(screener: Screener, text: str) -> None:
    result = screener.screen(text)
    assert result.flagged and result.tier == "check", text
    assert result.category == "suicide"


def test_a_clear_signal_beside_an_indirect_one_is_crisis(screener: Screener) -> None:
    result = screener.screen("morgen ben ik er niet meer. ik wil dood")
    assert result.tier == "crisis"
    assert {m.tier for m in result.matches} == {"crisis", "check"}


@pytest.mark.parametrize(
    "text",
    [
        "ik ben doodmoe",
        "ik lach me dood",
        "ik snij de groenten",
        "ik heb mijn pillen genomen vanochtend",
        "morgen ben ik er niet, ik heb een examen",
        "ik heb een hele doos koekjes opgegeten",
        "ik wil niet dood",
        "mijn broer verslaat me met fifa",
        "ik heb 2 dafalgan genomen tegen de hoofdpijn",
    ],
)
def test_idioms_and_look_alikes_pass(screener: Screener, text: str) -> None:
    assert not screener.screen(text).flagged, text


def test_an_idiom_never_hides_a_concept_signal_beside_it(screener: Screener) -> None:
    assert screener.screen("ik lach me dood maar ik heb 30 pillen genomen").category == "overdose"
    assert screener.screen("ik snij de groenten en daarna kerf ik in mijn armen").flagged


def test_a_person_named_after_a_phrase_never_hides_it(screener: Screener) -> None:
    # The "other" veto once reached four words past the phrase, so a family member who
    # starts the next thought hid it.
    for text in (
        "ik wil nie meer leve mijn vader drinkt elke dag",
        "ik wil niet meer leven mijn moeder weet het niet",
    ):
        assert screener.screen(text).tier == "crisis", text
    # Inside the phrase a person still vetoes it: a wish about someone else.
    assert not screener.with_model(None).screen("ik wil dat hij dood gaat").flagged


def test_a_circumstance_after_a_phrase_still_explains_it() -> None:
    doc = _minimal(
        concepts={"me": ["mezelf"], "harm": ["gesneden"], "accident": ["blikje"], "other": ["pa"]},
        rules=[
            {
                "category": "self_harm",
                "tier": "crisis",
                "all": ["me", "harm"],
                "none": ["accident", "other"],
            }
        ],
    )
    screener = Screener.from_mappings(doc)
    assert screener.screen("ik heb mezelf gesneden aan een blikje").tier is None
    assert screener.screen("ik heb mezelf gesneden mijn pa weet het").tier == "crisis"
    assert screener.screen("ik heb mezelf pa gesneden").tier is None


def test_an_ordered_rule_needs_its_concepts_in_that_order() -> None:
    doc = _minimal(
        concepts={"i": ["ik"], "me": ["me"], "kill": ["vermoorden"]},
        rules=[{"category": "suicide", "all": ["i", "me", "kill"], "ordered": True}],
    )
    screener = Screener.from_mappings(doc)
    assert screener.screen("ik ga me vermoorden").category == "suicide"
    assert screener.screen("morgen ga ik me vermoorden").category == "suicide"
    # Someone else's threat: "me" comes before "ik" there.
    assert screener.screen("hij gaat me vermoorden als ik het vertel").tier is None


# Word order says who does what: a threat by someone else is not the young person's plan.
@pytest.mark.parametrize(
    "text",
    [
        "hij gaat me vermoorden als ik het vertel",
        "mijn vriend gaat me vermoorden als ik het uitmaak",
    ],
)
def test_a_threat_by_someone_else_is_no_suicide(screener: Screener, text: str) -> None:
    result = screener.with_model(None).screen(text)
    assert result.tier == "crisis", text
    assert result.category in ("acute_danger", "abuse_violence"), text


# Situations fresh batches 2 and 3 showed missing, one line per language each (newly worded).
@pytest.mark.parametrize(
    ("text", "tier", "category"),
    [
        ("is 40 ibuprofen dodelijk? vraag het voor een vriendin", "check", "overdose"),
        ("is 40 paracetamol lethal", "check", "overdose"),
        ("j'ai pris 2 plaquettes de tramadol", "crisis", "overdose"),
        ("iki şerit kodein aldım", "crisis", "overdose"),
        ("ik heb een touw gekocht, vannacht gebeurt het", "crisis", "suicide"),
        ("купила мотузку, вночі все", "crisis", "suicide"),
        ("posted my last message to the group chat. bye", "crisis", "suicide"),
        ("zorg goed voor mijn kat als ik er niet meer ben", "check", "suicide"),
        ("bana bir şey olursa kedime iyi bakın", "check", "suicide"),
        ("ça me démange de recommencer à me couper", "check", "self_harm"),
        ("ik heb het strijkijzer expres op mijn been gelegd", "crisis", "self_harm"),
        ("mon ex a défoncé la porte, il est dans le salon", "crisis", "acute_danger"),
        ("my stepbrother comes into my bed at night", "crisis", "abuse_violence"),
        ("hij dreigt mijn naaktfoto's te verspreiden", "crisis", "abuse_violence"),
        ("فتحت الغاز وسكرت الشبابيك", "crisis", "suicide"),
        ("сиджу в машині в гаражі, двигун працює", "crisis", "suicide"),
        ("ik sta op het dak en ik kom niet meer naar beneden", "crisis", "suicide"),
        ("رح انط من السطح الليلة", "crisis", "suicide"),
    ],
)
def test_situations_in_every_language(
    screener: Screener, text: str, tier: str, category: str
) -> None:
    result = screener.with_model(None).screen(text)
    assert result.tier == tier, text
    assert result.category == category, text


@pytest.mark.parametrize(
    "text",
    [
        "ik heb een docu gezien over zelfdoding bij jongeren",
        "my friend volunteers at a suicide helpline",
        "on doit faire un exposé sur les violences conjugales",
        "aile içi şiddet hakkında bir proje hazırlıyoruz",
        "дивилась документалку про домашнє насильство",
        "عنا مشروع عن الانتحار عند الشباب",
        "i used to self harm as a teen but that was years ago",
        "lisedeyken kendime zarar veriyordum",
        "this exam is going to kill me",
        "i'm going to die if i don't get those tickets",
        "ik heb een touw gekocht voor de tent",
        "wat zal ik vanavond eten",
        "i will go to the gym tonight",
    ],
)
def test_topics_past_and_hyperbole_pass(screener: Screener, text: str) -> None:
    assert not screener.screen(text).flagged, text


def test_a_negation_blocks_a_rule_only_in_its_own_language(screener: Screener) -> None:
    # Flemish "ne" is "een"; French "ne" is a negation and must not block a Dutch rule.
    assert screener.screen("ik heb ne volle doos slaappillen genomen").category == "overdose"


def test_word_forms_make_inflections_match() -> None:
    forms = load_forms()
    assert forms["nl"]["genomen"] == "nemen"
    assert forms["nl"]["benen"] == "been"
    assert forms["en"]["took"] == "take"


def _minimal(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "negations": ["niet"],
        "patterns": {"suicide": ["ik wil dood"]},
        "concepts": {"i": ["ik"], "wish": ["wil"], "death": ["sterven"]},
        "rules": [{"category": "suicide", "tier": "check", "all": ["i", "wish", "death"]}],
    }
    doc.update(extra)
    return {"nl": doc}


def test_rules_are_data() -> None:
    screener = Screener.from_mappings(_minimal(), {"nl": {"stierf": "sterven"}})
    assert screener.screen("ik wil echt sterven").tier == "check"
    assert screener.screen("ik wil niet sterven").tier is None
    assert screener.screen("ik stierf liever, wil ik").tier is None  # two clauses
    assert screener.screen("wil ik stierf").tier == "check"  # a form from the table


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"category": "suicide", "all": ["i", "nope"]}], "unknown concept"),
        ([{"category": "sad", "all": ["i", "wish"]}], "unknown category"),
        ([{"category": "suicide", "tier": "soon", "all": ["i", "wish"]}], "tier"),
        ([{"category": "suicide", "all": ["i"]}], "two or more"),
        ([{"category": "suicide", "all": ["i", "wish"], "within": 99}], "within"),
        ([{"category": "suicide", "all": ["i", "wish"], "ordered": "yes"}], "ordered"),
    ],
)
def test_bad_rules_raise_value_error(rules: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Screener.from_mappings(_minimal(rules=rules))


# -- language handling: negations, glued words and shared spellings apply per language --------


def test_a_phrase_gap_refuses_only_its_own_languages_negations(screener: Screener) -> None:
    rules = screener.with_model(None)
    # Turkish "ne" asks "what"; French "ne" is a negation and once closed every gap.
    assert rules.screen("uyku hapından kaç tane içsem ne olur").flagged
    assert rules.screen("kardeşim bıçaklandı ne yapacağım kan kaybediyor").tier == "crisis"
    # A language's own negation still closes its gaps.
    assert not rules.screen("ik wil niet dood").flagged


def test_a_gap_negation_is_data_of_its_language() -> None:
    lexicons: dict[str, Any] = {
        "fr": {"negations": ["ne"], "patterns": {"suicide": ["je veux ... mourir"]}},
        "tr": {"negations": ["yok"], "patterns": {"suicide": ["ölmek ... istiyorum"]}},
    }
    screener = Screener.from_mappings(lexicons)
    assert screener.screen("ölmek ne kadar istiyorum").flagged
    assert not screener.screen("ölmek yok istiyorum").flagged
    assert not screener.screen("je veux ne pas mourir").flagged
    assert screener.screen("je veux yok mourir").flagged


def test_glued_words_are_cut_with_one_languages_words() -> None:
    # English "i" glued to Dutch "wil" "dood" was cut (self words and pieces of all languages)
    # and the Dutch rule fired; "ik" + "wil dood" is Dutch all through.
    lexicons: dict[str, Any] = {
        "nl": {
            "patterns": {"suicide": ["ik wil dood"]},
            "concepts": {"i": ["ik"], "wish": ["wil"], "death": ["dood"]},
            "rules": [{"category": "suicide", "tier": "crisis", "all": ["wish", "death"]}],
        },
        "en": {
            "patterns": {"suicide": ["i want to die"]},
            "concepts": {"i": ["i"], "wish": ["want"], "death": ["die"]},
            "rules": [{"category": "suicide", "tier": "crisis", "all": ["i", "wish", "death"]}],
        },
    }
    screener = Screener.from_mappings(lexicons)
    assert screener.screen("ikwildood").tier == "crisis"
    assert screener.screen("iwantdie").tier == "crisis"
    assert screener.screen("iwildood").tier is None


def test_an_everyday_word_is_not_cut_into_self_words(screener: Screener) -> None:
    # "meisje" was cut into English "me", Dutch "is", "je": the classifier saw a self word.
    found = screener.model_features(normalise("het meisje is dood"))[0]
    assert "k me" not in found and "k i" not in found and "k myself" not in found
    assert screener.screen("ikwildood").tier == "crisis"


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("ik kan niet meer naar school", "k bleed"),  # Turkish "kan" is blood
        ("i am so happy today", "k meds"),  # Turkish "hap" is a pill
        ("what happened to my mum yesterday", "k hot_thing"),  # Turkish "mum" is a candle
        ("ik ben moe na school", "k self"),  # Turkish "ben" is "I"
    ],
)
def test_a_shared_spelling_counts_only_in_its_own_language(
    screener: Screener, text: str, concept: str
) -> None:
    assert concept not in screener.model_features(normalise(text))[0], text


def test_a_shared_spelling_still_counts_in_its_language(screener: Screener) -> None:
    assert "k bleed" in screener.model_features(normalise("her yer kan, durmuyor"))[0]
    rules = screener.with_model(None)
    assert rules.screen("kolumdan kan akıyor durmuyor").tier == "crisis"
    assert rules.screen("dün gece 20 tane hapı yuttum").category == "overdose"


def test_a_shared_spelling_is_data() -> None:
    lexicons: dict[str, Any] = {
        "nl": {"patterns": {"suicide": ["ik wil dood"]}, "concepts": {"i": ["ik", "niet"]}},
        "tr": {
            "patterns": {"suicide": ["ölmek istiyorum"]},
            "concepts": {"blood": ["~kan"], "cut": ["kestim"]},
            "rules": [{"category": "self_harm", "tier": "crisis", "all": ["cut", "blood"]}],
        },
    }
    screener = Screener.from_mappings(lexicons)
    assert screener.screen("kestim kan").tier == "crisis"
    assert screener.screen("kestim ik kan niet").tier is None
