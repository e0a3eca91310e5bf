"""Topic nouns, false alarms by kind and laughter (seventh round, Dutch, English and French).

A bare topic word ("zelfmoord", "suicide", "overdose", "self harm") no longer decides alone: it
flags as the whole message, as an adjective about the speaker ("i feel suicidal"), or in a
concept rule that needs THIS person in it (self + a verb of having, doing, thinking, wanting,
planning, "again", "now" + the topic), unless someone else stands in the phrase or the
sentence is about a school task, prevention, a course, a film, a song, a game, the news or
coffee.  Each benign case stands beside the real signal it must never hide.

Screened by the rules alone (the shipped lexicons without the classifier): these are rule
changes, and the classifier decides separately.  The texts are written for these tests, not
copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener
from flows.safety.detect import normalise

# A mention of the topic that is not about the speaker, beside the speaker's own.
_TOPIC = [
    # Someone else's crisis (a relative, a friend, a character).
    ("my uncle had an overdose last winter", "i had an overdose an hour ago"),
    ("my friend had suicidal thoughts, he sees a psychologist", "i keep having suicidal thoughts"),
    ("mijn tante heeft een overdosis gehad", "ik heb net een overdosis genomen"),
    ("mon oncle a fait une overdose", "j'ai fait une overdose ce soir"),
    ("mon meilleur pote pensait au suicide", "je pense au suicide tous les jours"),
    # A school task, a course, prevention, a film, a song, the news.
    ("we watched a film about suicide in history class", "i want to commit suicide"),
    ("she wrote her thesis on self harm in teens", "i self harm again"),
    ("we zagen een docu over zelfmoord bij jongeren", "ik denk elke dag aan zelfmoord"),
    ("op stage leren we een overdosis herkennen", "mijn zelfmoordgedachten zijn terug"),
    ("on a vu un film sur le suicide en classe", "mes pensées suicidaires sont revenues"),
    ("le jeu suicide squad est trop nul", "je suis suicidaire"),
    # An "overdose" of coffee.
    ("i had an overdose of coffee this morning", "i took an overdose of my sleeping pills"),
    ("ik heb een overdosis koffie gehad vandaag", "ik heb een overdosis pillen genomen"),
    # The helpline's number for a school task; asked bare it still flags.
    (
        "for a school project: what's the number of the suicide hotline",
        "what's the number of the suicide hotline",
    ),
    (
        "voor mijn werkstuk: wat is het nummer van de zelfmoordlijn",
        "wat is het nummer van de zelfmoordlijn",
    ),
]


@pytest.mark.parametrize(("benign", "signal"), _TOPIC)
def test_a_topic_mention_passes_and_the_speakers_own_flags(
    rules: Screener, benign: str, signal: str
) -> None:
    assert not rules.screen(benign).flagged, benign
    assert rules.screen(signal).flagged, signal


@pytest.mark.parametrize(
    "text",
    [
        "suicide",
        "Suicide.",
        "zelfmoord",
        "zelfmoord???",
        "overdose",
        "overdosis",
        "self harm",
        "zelfverwonding",
        "automutilation",
        "i feel suicidal",
        "i'm so suicidal",
        "ik ben suïcidaal",
        "je suis suicidaire",
        "suicidal thoughts again",
    ],
)
def test_the_topic_alone_or_about_the_speaker_still_flags(rules: Screener, text: str) -> None:
    assert rules.screen(text).flagged, text


# The other kinds of rule false alarm (tuning batches 21, 22, 29, 30 and 33), each beside the
# real signal it must not hide.
_KINDS = [
    # Hyperbole with a trivial cause said beside it.
    (
        "my sister is going to kill me, i broke her straightener",
        "my sister is going to kill me, she has a knife",
    ),
    ("i'd rather die than go back to retail", "i'd rather die than go on like this"),
    (
        "si je rate encore mon examen ma mère va me tuer 😂",
        "ma mère va me tuer, elle a un couteau",
    ),
    ("je vais crever avant la session", "je vais crever ce soir"),
    (
        "weer verloren in dat level, ik ga me ophangen haha",
        "weer verloren in dat level, ik ga me ophangen",
    ),
    (
        "ik zou me liever ophangen dan nog een shift in die winkel te werken",
        "ik zou me liever ophangen dan nog een dag te leven",
    ),
    ("ce son me donne envie de mourir tellement il est beau", "j'ai envie de mourir"),
    # Someone else said it, or types it.
    (
        "a customer said he was gonna end it all, is there a training for that",
        "i'm gonna end it all tonight",
    ),
    ("my brother types kms every time he loses", "i really want to kms"),
    # Explicitly denied.
    ("niet zo van ik wil dood, gewoon moe van school", "ik wil dood, ik ben zo moe"),
    # A habit that therapy stopped.
    ("therapy helped me stop cutting myself", "i started cutting myself again"),
    # Work and sport, not violence.
    ("j'ai des horaires coupés cette semaine", "je me suis coupé les bras exprès"),
    ("je me suis fait frapper au foot", "je me suis fait frapper par mon père"),
    (
        "dernier jour au boulot, j'ai dit au revoir à tout le monde",
        "j'ai dit adieu à tout le monde",
    ),
    # Someone else jumped, read in the news.
    ("in het nieuws: een jongen die van een flat gesprongen is", "ik spring van een flat"),
]


@pytest.mark.parametrize(("benign", "signal"), _KINDS)
def test_a_benign_kind_passes_and_its_signal_flags(
    rules: Screener, benign: str, signal: str
) -> None:
    assert not rules.screen(benign).flagged, benign
    assert rules.screen(signal).flagged, signal


# A crisis told as over in words the earlier rounds did not list, and the same with a signal
# after the "now" (never dropped).
_OVER = [
    ("i overdosed when i was 17, clean 3 years now", " but tonight i want to die again"),
    (
        "my dad used to hit my mom but he left, it's just us now and we're fine",
        " but tonight i want to die",
    ),
    ("vroeger sneed ik mezelf, maar dat is nu drie jaar geleden", " maar vannacht wil ik dood"),
    ("twee jaar geleden een overdosis gehad, sindsdien clean", " maar vannacht wil ik dood"),
    ("toen ik 15 was sloeg hij mij, maar dat is voorbij", " maar vannacht wil ik dood"),
    (
        "avant je me scarifiais mais ça fait deux ans que j'ai arrêté",
        " mais ce soir je veux mourir",
    ),
    ("je me scarifiais en secondaire, c'est fini depuis longtemps", " mais ce soir je veux mourir"),
]


@pytest.mark.parametrize(("over", "again"), _OVER)
def test_a_crisis_told_as_over_passes_and_a_signal_after_it_flags(
    rules: Screener, over: str, again: str
) -> None:
    assert not rules.screen(over).flagged, over
    assert rules.screen(over + again).flagged, over + again


def test_laughing_emoji_become_a_word() -> None:
    assert normalise("ma mère va me tuer 😂😂") == "ma mere va me tuer haha haha"
    assert normalise("🤣😅😆😹") == "haha haha haha haha"


@pytest.mark.parametrize(
    "text",
    [
        "i want to die 😂",
        "i want to disappear 😂",  # a phrase ending in $: laughter after it still counts
        "kms 🤣",
        "ik wil dood 😂😂",
        "ik ga me ophangen 😂",
        "je veux mourir 😅",
        "je vais mourir 😂",
        "i cut myself again 😆",
        "suicide 😹",
    ],
)
def test_laughter_alone_never_hides_a_signal(rules: Screener, text: str) -> None:
    assert rules.screen(text).flagged, text


@pytest.mark.parametrize(
    "text",
    [
        "si ma mère voit mon bulletin elle va me tuer 😂",
        "kzit vast in dat level van zelda, kga me opknopen 😂",
    ],
)
def test_laughter_with_a_trivial_cause_passes(rules: Screener, text: str) -> None:
    assert not rules.screen(text).flagged, text
