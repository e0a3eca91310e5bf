"""Tests for the crisis detector (flows.safety.detect) with the shipped lexicons."""

from __future__ import annotations

import sys
from dataclasses import FrozenInstanceError
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.safety.evaluate import DEFAULT_LABELLED, OVERALL, load_labelled, run, score
from bot.safety.lexicon import load_lexicons, load_screener
from flows.safety import (
    CATEGORIES,
    SEVERITY,
    Match,
    Screener,
    Screening,
    normalise,
    normalise_with_offsets,
)
from flows.safety.classifier import Classifier
from flows.safety.detect import IDIOM_FEATURE

EXAMPLES = load_labelled(DEFAULT_LABELLED)
POSITIVES = [e for e in EXAMPLES if e.label]
NEGATIVES = [e for e in EXAMPLES if not e.label]
LANGUAGES = ("nl", "en", "fr", "ar", "tr", "uk")


@pytest.fixture(scope="module")
def screener() -> Screener:
    return load_screener()


# --- the labelled set ----------------------------------------------------------------------


def test_labelled_set_is_big_enough() -> None:
    assert len(EXAMPLES) >= 300
    per_language = {lang: [e for e in EXAMPLES if e.language == lang] for lang in LANGUAGES}
    for lang, items in per_language.items():
        assert len(items) >= 30, lang
        assert any(e.label for e in items) and any(not e.label for e in items), lang
    assert max(per_language, key=lambda k: len(per_language[k])) == "nl"


# The rules were tuned on this corpus and gate on it; the classifier trained on most of it, so
# its figures here prove nothing (its floors: tests/safety/test_classifier.py).


def test_overall_recall_and_false_alarms(screener: Screener) -> None:
    overall = score(run(screener.with_model(None), EXAMPLES))[OVERALL]
    assert overall.recall >= 0.95, f"recall {overall.recall:.3f}"
    assert overall.false_alarms <= 0.05, f"false alarms {overall.false_alarms:.3f}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_recall_and_false_alarms_per_language(screener: Screener, language: str) -> None:
    rules = screener.with_model(None)
    scores = score(run(rules, [e for e in EXAMPLES if e.language == language]))[language]
    # Per-language gates only where the sample can carry them.
    assert scores.positives >= 20 and scores.negatives >= 10
    assert scores.recall >= 0.95, f"{language} recall {scores.recall:.3f}"
    assert scores.false_alarms <= 0.05, f"{language} false alarms {scores.false_alarms:.3f}"


def test_most_severe_category_matches_the_label(screener: Screener) -> None:
    overall = score(run(screener, EXAMPLES))[OVERALL]
    assert overall.category_accuracy >= 0.9


# --- required phrases from the brief (a readable safety net next to the TSV) ----------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("ik wil dood", "suicide"),
        ("ik zie het niet meer zitten", "suicide"),
        ("ik wil er niet meer zijn", "suicide"),
        ("iedereen is beter af zonder mij", "suicide"),
        ("ik snij mezelf", "self_harm"),
        ("pillen geslikt", "overdose"),
        ("ik ben niet veilig thuis", "acute_danger"),
        ("hij slaat me", "abuse_violence"),
        ("ik heb een mes", "acute_danger"),
        ("hij dreigt me", "abuse_violence"),
        ("ik word geslagen", "abuse_violence"),
        ("ik durf niet naar huis", "acute_danger"),
        ("hij heeft me aangerand", "abuse_violence"),
        ("mezelf iets aandoen", "suicide"),
        ("kms", "suicide"),
        ("unalive", "suicide"),
        ("je veux mourir", "suicide"),
        ("me suicider", "suicide"),
        ("ölmek istiyorum", "suicide"),
        ("intihar", "suicide"),
        ("кінчити з собою", "suicide"),
        ("хочу померти", "suicide"),
        ("أريد أن أموت", "suicide"),
        ("انتحار", "suicide"),
    ],
)
def test_required_phrases(screener: Screener, text: str, category: str) -> None:
    result = screener.screen(text)
    assert result.flagged
    assert result.category == category


@pytest.mark.parametrize(
    "text",
    [
        "ik heb schulden",
        "ik zoek werk",
        "mijn kot is te duur",
        "ik ben moe",
        "mijn gsm is dood",
        "de batterij is dood",
        "deadline",
        "doodmoe",
        "ik verveel me dood",
        "ik lach me dood",
        "dood van de honger",
        "dying to see you",
        "killing it",
        "je meurs de faim",
        "mort de rire",
        "ölüyorum gülmekten",
        "",
        "   ",
    ],
)
def test_everyday_text_and_idioms_do_not_flag(screener: Screener, text: str) -> None:
    assert screener.screen(text) == Screening(False, None, ())


# --- idioms hide only their own span -------------------------------------------------------


def test_idiom_alone_does_not_flag(screener: Screener) -> None:
    assert not screener.screen("ik lach me dood").flagged


def test_real_phrase_next_to_idiom_still_flags(screener: Screener) -> None:
    result = screener.screen("ik lach me dood maar eigenlijk wil ik dood")
    assert result.flagged and result.category == "suicide"
    # The match is the real phrase, not the idiom at the start.
    assert all(m.start >= len("ik lach me dood") for m in result.matches)


@pytest.mark.parametrize(
    "text",
    [
        "ik verveel me dood. ik wil dood",
        "doodmoe en ik zie het niet meer zitten",
        "i'm dying to see you but i want to die",
        "je meurs de faim et je veux mourir",
        "gülmekten öldüm ama ölmek istiyorum",
        "помираю від сміху але хочу померти",
    ],
)
def test_idiom_never_hides_a_real_phrase_beside_it(screener: Screener, text: str) -> None:
    assert screener.screen(text).category == "suicide"


@pytest.mark.parametrize(
    ("benign", "real"),
    [
        ("mijn broer sloeg met de deur en ging weg", "mijn broer slaat mij als hij boos is"),
        ("mijn neef had ooit een overdosis, nu is hij clean", "ik heb net een overdosis genomen"),
        ("ik ben dood van de vermoeidheid na de training", "ik wil dood"),
        ("my sister hit me with a pillow last night", "my dad hits me every night"),
        ("my boss is gonna kill me, late again", "i am going to kill myself"),
        ("said goodbye to my colleagues at the shop today", "goodbye everyone, i want to die"),
        ("j'en peux plus de ce bus toujours en retard", "j'en peux plus, je veux mourir"),
        ("j'ai fait une overdose de chocolat ce weekend", "j'ai fait une overdose de cachets"),
        ("ma petite soeur m'a tapé avec sa peluche", "mon père me frappe tous les soirs"),
    ],
)
def test_fifth_round_idioms_hide_look_alikes_not_signals(benign: str, real: str) -> None:
    # Hidden from the rules and from the classifier alike (its words are blanked for both).
    rules = load_screener().with_model(None)
    assert not rules.screen(benign).flagged
    parts = rules.model_features(normalise(benign))
    assert not parts or IDIOM_FEATURE in parts[0]  # nothing left to score, or marked
    assert rules.screen(real).flagged
    assert rules.screen(f"{benign}. {real}").flagged


# A threat by someone else with a trivial cause is an idiom ("ze gaat me vermoorden als ik te
# laat ben"); with a condition about telling someone, the police or leaving it is a threat.
_THREAT_LEXICON = {
    "nl": {
        "negations": ["niet"],
        "idioms": ["gaat me vermoorden (als|wanneer)"],
        "idioms_unless": ["aan iemand vertel", "naar de politie ga"],
        "patterns": {"acute_danger": ["gaat me vermoorden"]},
    }
}


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("mijn ma gaat me vermoorden als ik te laat ben", False),
        ("mijn vader gaat me vermoorden als ik het aan iemand vertel", True),
        ("hij gaat me vermoorden wanneer ik naar de politie ga", True),
        # Only in the idiom's own sentence, from where it starts on.
        ("mijn ma gaat me vermoorden als ik te laat ben. dat wil ik aan iemand vertel", False),
        ("ik heb het aan iemand vertel en mijn ma gaat me vermoorden als ik te laat ben", False),
        ("mijn ma gaat me vermoorden als ik te laat ben en mijn vader ook", False),
    ],
)
def test_an_idiom_stays_when_its_sentence_says_the_threat_is_real(text: str, flagged: bool) -> None:
    screener = Screener.from_mappings(_THREAT_LEXICON)
    assert screener.screen(text).flagged is flagged
    without = Screener.from_mappings({"nl": {**_THREAT_LEXICON["nl"], "idioms_unless": []}})
    assert not without.screen(text).flagged


@pytest.mark.parametrize(
    "text",
    [
        "mijn vader gaat me vermoorden als ik het aan iemand vertel",
        "mijn papa gaat me vermoorden als ik iets zeg tegen de juf",
        "mijn vader gaat me afmaken als ik naar de politie ga",
        "mijn ma gaat me doodmaken als ze weet dat ik met jullie praat",
        "بابا رح يقتلني إذا حكيت لحدا",
        "أبوي رح يقتلني اذا قلت لحدا",
        "ماما رح تقتلني اذا عرفت اني حكيت معكم",
        "جوزي رح يقتلني اذا رحت للشرطه",
    ],
)
def test_a_threat_about_telling_or_the_police_flags(rules: Screener, text: str) -> None:
    result = rules.screen(text)
    assert result.flagged and result.tier == "crisis"


@pytest.mark.parametrize(
    "text",
    [
        "mijn ma gaat me vermoorden als ze mijn rapport ziet",
        "mijn papa gaat me vermoorden als ik weer te laat thuis kom",
        "ماما رح تقتلني اذا شافت علاماتي",
        "بابا رح يقتلني اذا رسبت",
        "ماما رح تقتلني اذا قلت لها اني رسبت",
    ],
)
def test_a_threat_with_an_everyday_cause_stays_an_idiom(rules: Screener, text: str) -> None:
    assert not rules.screen(text).flagged


# --- the result types ----------------------------------------------------------------------


def test_screening_reports_offsets_in_normalised_text(screener: Screener) -> None:
    text = "Hallo!  Ik wil DOOOOD 😭"
    result = screener.screen(text)
    norm = normalise(text)
    assert result.flagged and result.tier == "crisis"
    match = next(m for m in result.matches if norm[m.start : m.end] == "ik wil dood")
    assert match.language == "nl" and match.category == "suicide"
    # The lexicon phrase or rule name as written in our data, never user text.
    assert all("😭" not in m.pattern and "DOOOOD" not in m.pattern for m in result.matches)


def test_category_is_the_most_severe_match(screener: Screener) -> None:
    result = screener.screen("hij slaat me en ik wil dood")
    assert {m.category for m in result.matches} >= {"abuse_violence", "suicide"}
    assert result.category == "suicide"
    assert [m.start for m in result.matches] == sorted(m.start for m in result.matches)


def test_severity_order() -> None:
    assert SEVERITY == ("overdose", "suicide", "acute_danger", "self_harm", "abuse_violence")
    assert set(SEVERITY) == set(CATEGORIES)


def test_results_are_frozen(screener: Screener) -> None:
    result = screener.screen("ik wil dood")
    with pytest.raises(FrozenInstanceError):
        result.flagged = False  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        result.matches[0].start = 3  # type: ignore[misc]
    assert isinstance(result.matches, tuple) and isinstance(result.matches[0], Match)


def test_screening_work_grows_linearly_with_the_message(screener: Screener) -> None:
    """A full-length Telegram message (4 kB) costs about four times a 1 kB one, counted in
    function calls rather than timed (so a busy machine cannot fail it): work that grows
    with the square of the length (screening every prefix, rebuilding the offset map per
    replacement) is found here. How fast screening is, as a figure, is ``make bench``'s
    (bench/micro.py)."""
    unit = "ik zoek werk in leuven en heb vragen over mijn leefloon, "

    def calls(length: int) -> int:
        message = (unit * (length // len(unit) + 1))[:length]
        screener.screen(message)  # caches warm
        count = 0

        def profile(frame: object, event: str, arg: object) -> None:
            nonlocal count
            if event in ("call", "c_call"):
                count += 1

        sys.setprofile(profile)
        try:
            screener.screen(message)
        finally:
            sys.setprofile(None)
        return count

    short, full = calls(1024), calls(4096)
    assert short > 0
    assert full <= 4.5 * short, f"1 kB: {short} calls, 4 kB: {full} calls"


# --- normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ik Wil DOOD", "ik wil dood"),
        ("dooooood", "dood"),
        ("slaat", "slaat"),
        ("zien", "zien"),
        ("slaaaaat", "slaat"),
        ("zieeeen", "zieen"),
        ("'k zie 't ni meer zitten", "ik zie het niet meer zitten"),
        ("kzie het nie meer zitten", "ik zie het niet meer zitten"),
        ("k wil gwn dood", "ik wil gewoon dood"),
        ("kwil dood", "ik wil dood"),
        ("d00d", "dood"),
        ("1k w1l d00d", "ik wil dood"),
        ("bel 1813 of 112", "bel 1813 of 112"),
        ("3de", "ede"),
        ("café naïef", "cafe naief"),
        ("ÖLMEK İSTİYORUM", "olmek istiyorum"),
        ("jveux mourir", "je veux mourir"),
        ("j'veux mourir", "je veux mourir"),
        ("j'ai avalé", "je ai avale"),
        ("I'm gonna", "i am going to"),
        ("i don't wanna", "i do not want to"),
        ("أُرِيدُ أَنْ أَمُوتَ", "اريد ان اموت"),
        ("مـــوت", "موت"),
        ("Хочу Померти", "хочу померти"),
        ("хочу пoмерти", "хочу померти"),  # Latin o inside a Cyrillic word
        ("він мене б’є", "він мене бє"),
        ("йти", "йти"),  # й survives (Cyrillic letter, not a Latin diacritic)
        ("𝐢𝐤 𝐰𝐢𝐥 𝐝𝐨𝐨𝐝", "ik wil dood"),
        ("zelf\u200bmoord", "zelfmoord"),
        ("  veel   ruimte \n\n hier ", "veel ruimte hier"),
        ("💊💊💊", "pills pills pills"),
        ("💊 geslikt", "pills geslikt"),
        ("🔪", "knife"),
        ("⚰️", "coffin"),
        ("🪢", "rope"),
        ("🩸", "blood"),
        ("💀💀", ""),
        ("wacht!!!!!", "wacht!"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_keeps_an_offset_map_to_the_original() -> None:
    text = "Ik heb 💊💊 GESLIKT!!!"
    norm = normalise_with_offsets(text)
    assert norm.text == "ik heb pills pills geslikt!"
    start = norm.text.index("pills")
    assert norm.original_span(start, start + len("pills")) == (7, 8)
    start = norm.text.index("geslikt")
    assert text[slice(*norm.original_span(start, start + 7))] == "GESLIKT"
    with pytest.raises(ValueError):
        norm.original_span(0, len(norm.text) + 1)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("🔪", False),  # one emoji alone never flags
        ("💊", False),
        ("⚰️⚰️", False),  # "I'm dead (laughing)"
        ("💊💊💊", True),
        ("💊💊 geslikt", True),
        ("🔪🩸", True),
        ("ik wil ⚰️", True),
    ],
)
def test_emoji_decisions(screener: Screener, text: str, flagged: bool) -> None:
    assert screener.screen(text).flagged is flagged


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Sam.Peeters@Voorbeeld.be", ""),
        ("mail: sam_p+jobs@mail.voorbeeld.be graag", "mail: graag"),
        ("kijk op https://www.voorbeeld.be/hulp?x=1 aub", "kijk op aub"),
        ("www.voorbeeld.be", ""),
    ],
)
def test_an_address_is_no_words(text: str, normalised: str) -> None:
    # The intake asks for an e-mail address: its pieces ("sam peeters voorbeeld be") are no
    # sentence, and the classifier once asked the check question after one.
    assert normalise(text) == normalised


def test_an_address_never_hides_a_signal_beside_it(screener: Screener) -> None:
    assert not screener.screen("Sam.Peeters@Voorbeeld.be").flagged
    assert screener.screen("sam.peeters@voorbeeld.be ik wil dood").flagged
    assert screener.screen("ik snij mezelf www.voorbeeld.be").flagged


def test_negation_in_gap_blocks_a_match(screener: Screener) -> None:
    assert not screener.screen("ik wil niet dood").flagged
    assert screener.screen("ik wil echt gewoon dood").flagged


# --- property: benign text around a flagged text does not hide it --------------------------

_BENIGN_RANDOM = st.text(
    alphabet=st.characters(categories=("L", "Zs", "P")), min_size=0, max_size=60
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(
    flagged=st.sampled_from(POSITIVES),
    benign=st.one_of(st.sampled_from([e.text for e in NEGATIVES]), _BENIGN_RANDOM),
    before=st.booleans(),
    joiner=st.sampled_from([" ", "\n", ". "]),
)
def test_benign_text_around_a_flagged_text_keeps_it_flagged(
    flagged: Any, benign: str, before: bool, joiner: str
) -> None:
    screener = load_screener()
    if screener.screen(benign).flagged:
        return  # random text that happens to flag is not benign
    alone = screener.screen(flagged.text)
    assert alone.flagged
    if all(m.pattern.startswith("^") or m.pattern.endswith("$") for m in alone.matches):
        # Only a whole-message phrase ("i have a plan" and nothing else): vague on purpose,
        # it means something only alone.
        return
    if joiner == " " and alone.tier == "check":
        # An indirect signal is judged within its sentence: a reason in the same run-on
        # sentence ("over een week ben ik er niet meer ik heb werk") may explain it.
        joiner = ". "
    combined = benign + joiner + flagged.text if before else flagged.text + joiner + benign
    result = screener.screen(combined)
    assert result.flagged
    # Text around a signal never hides it nor makes it milder (it may add a worse one).
    assert not (alone.tier == "crisis" and result.tier == "check")
    if result.tier == alone.tier:
        assert SEVERITY.index(result.category) <= SEVERITY.index(alone.category)


# --- lexicon data --------------------------------------------------------------------------


def test_shipped_lexicons_cover_every_language_and_category() -> None:
    lexicons = load_lexicons()
    assert set(lexicons) == {*LANGUAGES, "common"}
    for language in LANGUAGES:
        doc = lexicons[language]
        assert doc["language"] == language
        assert set(doc["patterns"]) == set(CATEGORIES), language
        assert doc.get("idioms"), language


def test_load_screener_is_cached() -> None:
    assert load_screener() is load_screener()
    assert set(load_screener().languages) == {*LANGUAGES, "common"}


def _lexicon(**patterns: Any) -> dict[str, Any]:
    return {"nl": {"language": "nl", "patterns": patterns or {"suicide": ["ik wil dood"]}}}


def test_minimal_lexicon_works() -> None:
    screener = Screener.from_mappings(_lexicon())
    assert screener.screen("Ik wil DOOD").category == "suicide"
    assert not screener.screen("ik wil brood").flagged


@pytest.mark.parametrize(
    ("lexicons", "message"),
    [
        ({}, "no lexicons"),
        ({"nl": ["ik wil dood"]}, "mapping"),
        ({"NL!": {"patterns": {"suicide": ["x"]}}}, "language code"),
        ({"nl": {"language": "en", "patterns": {"suicide": ["x"]}}}, "language 'en'"),
        ({"nl": {"paterns": {"suicide": ["x"]}}}, "unknown key"),
        ({"nl": {"patterns": {}}}, "no crisis phrases"),
        ({"nl": {"patterns": {"suicde": ["ik wil dood"]}}}, "unknown category 'suicde'"),
        ({"nl": {"patterns": {"suicide": "ik wil dood"}}}, "list of strings"),
        ({"nl": {"patterns": {"suicide": [False]}}}, "quote it"),
        ({"nl": {"patterns": {"suicide": [""]}}}, "non-empty string"),
        ({"nl": {"patterns": {"suicide": ["ik wil dood", "ik wil dood"]}}}, "duplicate"),
        ({"nl": {"patterns": {"suicide": ["(ik wil dood"]}}}, "missing ')'"),
        ({"nl": {"patterns": {"suicide": ["ik wil dood)"]}}}, "unbalanced"),
        ({"nl": {"patterns": {"suicide": ["ik wil (dood|)"]}}}, "empty alternative"),
        ({"nl": {"patterns": {"suicide": ["[dood]"]}}}, "match nothing"),
        ({"nl": {"patterns": {"suicide": ["... dood"]}}}, "between two words"),
        ({"nl": {"patterns": {"suicide": ["ik ... ... dood"]}}}, "two gaps"),
        ({"nl": {"patterns": {"suicide": ["zelf*moord"]}}}, "'*'"),
        ({"nl": {"patterns": {"suicide": ["ik wil *(dood|sterven)"]}}}, "'*'"),
        ({"nl": {"patterns": {"suicide": ["!!!"]}}}, "no letters"),
        ({"nl": {"patterns": {"suicide": ["{nope} dood"]}}}, "unknown macro {nope}"),
        ({"nl": {"macros": {"a": "{b}"}, "patterns": {"suicide": ["x"]}}}, "do not nest"),
        ({"nl": {"macros": ["x"], "patterns": {"suicide": ["x"]}}}, "macros must be"),
        ({"nl": {"idioms": ["(lach me dood"], "patterns": {"suicide": ["x"]}}}, "idioms"),
    ],
)
def test_bad_lexicon_data_raises_value_error(lexicons: Any, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        Screener.from_mappings(lexicons)
    assert message in str(excinfo.value)


def test_bad_phrase_error_names_language_category_and_phrase() -> None:
    with pytest.raises(ValueError) as excinfo:
        Screener.from_mappings({"fr": {"patterns": {"self_harm": ["je me (coupe"]}}})
    text = str(excinfo.value)
    assert "'fr'" in text and "self_harm" in text and "je me (coupe" in text


@pytest.mark.parametrize(
    "source",
    [
        "patterns:\n  suicide:\n    - [echt|gewoon]\n",  # parses as a list, not a phrase
        "patterns:\n  suicide:\n    - [echt|gewoon] dood\n",  # YAML syntax error
        "patterns:\n  suicide:\n    - *dood\n",  # YAML alias
    ],
)
def test_unquoted_yaml_syntax_characters_are_caught(source: str) -> None:
    # A reviewer forgets the double quotes around a phrase.
    with pytest.raises((ValueError, yaml.YAMLError)):
        Screener.from_mappings({"nl": yaml.safe_load(source)})


def test_unquoted_yaml_no_is_caught_with_a_hint() -> None:
    doc = yaml.safe_load('negations: [no, not]\npatterns:\n  suicide: ["i want to die"]\n')
    with pytest.raises(ValueError, match="quote it"):
        Screener.from_mappings({"en": doc})


# --- a crisis told as over (the lexicons' ``resolved``) ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "vorig jaar wou ik dood, nu gaat het echt beter",
        "two years ago i tried to kill myself, now i'm doing really well",
        "il y a deux ans je me scarifiais, maintenant ça va bien",
    ],
)
def test_a_crisis_told_as_over_does_not_flag_by_rule(text: str) -> None:
    assert not load_screener().with_model(None).screen(text).flagged


@pytest.mark.parametrize(
    "text",
    [
        "vorig jaar wou ik dood, nu gaat het beter, maar vandaag wil ik weer dood",
        "last year he hit me, now i'm ok but yesterday he hit me again",
        "vorig jaar wou ik dood",
        "nu gaat het beter, maar ik wil dood",
        # The same concept rule before and after the "now": the second hit is a new crisis.
        "vorig jaar sloeg mijn vriend me, nu gaat het beter, maar gisteren sloeg mijn vriend me",
    ],
)
def test_what_comes_after_the_now_still_flags(text: str) -> None:
    assert load_screener().with_model(None).screen(text).flagged


def test_after_a_crisis_told_as_over_the_model_reads_only_what_follows() -> None:
    from tests.safety.test_classifier import _model

    flags_death = _model({"w dood": {"suicide": 40.0}}, check=0.5, crisis=0.9)
    screener = load_screener().with_model(Classifier.from_mapping(flags_death))
    assert not screener.screen("vorig jaar wou ik dood, nu gaat het echt beter met mij").flagged
    result = screener.screen("vorig jaar was zwaar, nu gaat het beter maar ik denk aan de dood")
    assert result.flagged


def test_a_tablet_strength_is_no_amount(screener: Screener) -> None:
    assert not screener.with_model(None).screen("ik nam 1 dafalgan 500 tegen de hoofdpijn").flagged
    assert screener.with_model(None).screen("ik heb 20 dafalgan 500 genomen").flagged


def test_a_circumstance_explains_a_phrase_only_until_i_starts_a_new_thought() -> None:
    rules = load_screener().with_model(None)
    assert not rules.screen("ik heb mezelf gesneden aan een blikje").flagged
    assert rules.screen("ik snij in mijn polsen ik zoek werk").flagged
    assert rules.screen("ik zoek werk ik snij in mijn polsen").flagged


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("my stepdad is beating my mum right now", "acute_danger"),
        ("mijn vader slaat mijn moeder nu, ik zit boven", "acute_danger"),
        ("mon beau-père frappe ma mère en ce moment", "acute_danger"),
        ("mon voisin m'a agressée sexuellement hier", "abuse_violence"),
        ("my mate snorted something and now he's fitting on the floor", "overdose"),
        ("er is brand in de gang en we zitten vast in de badkamer", "acute_danger"),
    ],
)
def test_acute_situations_of_the_fourth_round(text: str, category: str) -> None:
    result = load_screener().with_model(None).screen(text)
    assert result.tier == "crisis" and result.category == category


# --- the same words read as self-harm and as someone else's violence ----------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # Someone named first: their act, and the help is for violence.
        ("mon ex me frappe encore", "abuse_violence"),
        ("ma belle-mère m'a brûlé le bras avec le fer à repasser", "abuse_violence"),
        # The people of chat French (meuf, keum, reuf) are someone else too, and a past or
        # present form of the verb is the act ("frappe" alone is also a noun to simplemma).
        ("ma meuf me frappe et m'insulte, jsais pas a qui le dire", "abuse_violence"),
        ("mon reuf m a frappé hier", "abuse_violence"),
        ("mon keum m a tapé quand j ai dit non", "abuse_violence"),
        # My own act, before or after someone else's: self-harm stays.
        ("je me frappe encore la tête contre le mur", "self_harm"),
        ("ik snij mezelf omdat hij me slaat", "self_harm"),
    ],
)
def test_someone_elses_act_is_not_read_as_self_harm(text: str, category: str) -> None:
    result = load_screener().with_model(None).screen(text)
    assert result.tier == "crisis" and result.category == category, text
