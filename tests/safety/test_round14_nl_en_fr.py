"""The fourteenth round's kinds in Dutch, English and French: signals the rules missed (a drug
debt with a threat, a place of danger now, a train, a farewell letter already written, songs
for one's own funeral, a forced marriage), each beside its benign twin, and sport said as
hyperbole beside a real wish to die.

Screened by the rules alone (the shipped lexicons without the classifier): these are rule
changes.  The texts are written for these tests, not copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener

_DRUG_DEBT = [
    # A debt to a dealer with a threat, a weapon or a time; a small debt to a brother who comes
    # round is none.
    (
        "ik ben mijn broer nog tien euro schuldig, hij komt het vanavond halen",
        "ik ben nog geld schuldig aan die gasten en ze weten waar ik woon, ze komen morgen",
    ),
    (
        "i owe my mate a pizza, he's coming round tonight",
        "i owe my plug 300 and he says his boys are coming for me tonight",
    ),
    (
        "my sister lent me money for the bus, i owe her",
        "the dealer i owe money to says he'll break my legs if i dont pay by friday",
    ),
    (
        "je dois encore 5 euros à mon frère, il passe ce soir",
        "le dealer à qui je dois de l'argent sait où j'habite, il va venir avec ses potes",
    ),
]

_PLACE_OF_DANGER = [
    # At a bridge or the tracks now, looking at the water or waiting for the train; a bridge on
    # the way to work, a platform with a late train, is none.
    (
        "ik fiets elke dag over de brug naar mijn werk",
        "kzit aan het spoor en ik wacht op de volgende trein",
    ),
    (
        "i cross the bridge on my way to work every morning",
        "im on the bridge staring at the water, cant stop",
    ),
    (
        "my train is late again, been on the platform for ages",
        "i'm standing by the tracks waiting for the next train",
    ),
    (
        "je traverse le pont pour aller au boulot",
        "je suis sur le pont et je regarde l'eau depuis une heure",
    ),
    (
        "mon train est en retard, je suis sur le quai depuis 20 minutes",
        "chui au bord des voies j'attends que le train passe",
    ),
    # In front of or under a train, said of myself; a meal before the train leaves is none.
    ("ik moet nog eten voor de trein vertrekt", "ik ga vannacht voor de trein liggen"),
    ("the train was late so i walked in the rain", "gonna step in front of a train tonight"),
    ("je me suis endormi dans le train ce soir", "ce soir je me jette sous un train"),
]

_FAREWELL_LETTER = [
    # A letter already written for my family; a letter of application or for mother's day is
    # none.
    (
        "ik heb mijn sollicitatiebrief al geschreven, nu nog versturen",
        "ik heb de brief al geschreven voor mijn ouders, ze vinden hem morgen wel",
    ),
    (
        "ik heb een brief geschreven voor mijn mama voor moederdag",
        "de brieven voor mijn zus en mijn broer liggen klaar in mijn kast",
    ),
    (
        "i already wrote my cover letter for the job at the bakery",
        "i already wrote the letter for my mum, it's on my desk",
    ),
    (
        "j'ai déjà écrit ma lettre de motivation pour le stage",
        "j'ai déjà écrit ma lettre pour mes parents, elle est sous mon oreiller",
    ),
    # Or written with a "for later" beside it; written to invite or to explain is none.
    (
        "ik heb een brief geschreven voor mijn broers om ze uit te nodigen",
        "ik heb brieven geschreven voor mijn broers, voor als het zover is",
    ),
    (
        "i wrote a letter to my sister to say sorry about the party",
        "i wrote a letter to my sister, just in case",
    ),
    (
        "j'ai écrit une lettre à ma soeur pour son mariage",
        "j'ai écrit une lettre à ma soeur, on sait jamais",
    ),
]

_OWN_FUNERAL = [
    # Songs chosen for my own funeral; someone else's funeral is none.
    (
        "ik heb de liedjes gekozen voor de begrafenis van mijn opa",
        "ik heb al de liedjes gekozen voor mijn begrafenis",
    ),
    (
        "i picked the songs for my grandad's funeral",
        "i picked the songs for my funeral already",
    ),
    (
        "j'ai choisi les chansons pour l'enterrement de ma grand-mère",
        "j'ai choisi les chansons pour mon enterrement",
    ),
]

_FORCED_MARRIAGE = [
    # Being made to marry, taken abroad for it; a wedding one looks forward to is none.
    (
        "ik kijk zo uit naar de trouw van mijn zus in marokko deze zomer",
        "mijn ouders willen me deze zomer in marokko laten trouwen met iemand die ik niet ken",
    ),
    (
        "cant wait for my cousin's wedding this summer",
        "my parents are taking me to pakistan to marry a man i've never met, i don't want to",
    ),
    (
        "j'ai trop hâte au mariage de ma soeur cet été",
        "mes parents m'emmènent au maroc cet été pour me marier avec un homme que je connais pas",
    ),
]

_SPORT_HYPERBOLE = [
    # Dying on a climb or at training; the bare wish beside it stays a signal.
    (
        "je vais crever dans la montée du kemmelberg",
        "je vais crever ce soir, j'ai tout préparé",
    ),
    ("jvais mourir à l'entraînement ce soir", "je vais mourir ce soir, personne le saura"),
    ("im going to die at training tonight", "i'm going to die tonight, it's all planned"),
    ("i'm gonna die on that climb", "i want to die, nobody would notice"),
]


@pytest.mark.parametrize(
    ("benign", "signal"),
    [
        *_DRUG_DEBT,
        *_PLACE_OF_DANGER,
        *_FAREWELL_LETTER,
        *_OWN_FUNERAL,
        *_FORCED_MARRIAGE,
        *_SPORT_HYPERBOLE,
    ],
)
def test_a_round14_kind_flags_and_its_look_alike_passes(
    rules: Screener, benign: str, signal: str
) -> None:
    assert not rules.screen(benign).flagged, benign
    assert rules.screen(signal).flagged, signal
    assert rules.screen(f"{benign}. {signal}").flagged, signal


# The kinds above, as first written, also flagged everyday life of the people Opstap is for: a
# letter written for a parent, a debt with a bailiff at the door, a wedding one has to go to.
# A debt needs a threat of harm (a vaguer one only with a dealer), a letter must be written
# already and left ready, a marriage forced as such.
_EVERYDAY = [
    "kan je me helpen een brief te schrijven voor mijn mama? ze spreekt geen nederlands",
    "ik moet een brief schrijven voor mijn vader naar het ocmw",
    "ik heb een brief geschreven voor mijn ouders om te zeggen dat ik verhuis",
    "can you help me write a letter for my dad, he doesnt read english",
    "j'ai écrit une lettre pour ma mère",
    "j'ai des dettes, l'huissier va venir la semaine prochaine",
    "j'ai des dettes et ils vont venir saisir mes meubles",
    "ik heb schulden bij de bank en de deurwaarder komt me halen voor de rechtbank",
    "ik sta in de schuld bij de huisbaas, hij staat voor mijn deur",
    "i owe them money and they are coming round to talk about a payment plan",
    "je suis obligé d'aller au mariage de mon cousin samedi",
    "i'm forced to go to my aunt's wedding lol",
    "ik ben verplicht om naar de trouw van mijn nicht te gaan",
    "j'ai pas la force d'aller au mariage",
]


@pytest.mark.parametrize("text", _EVERYDAY)
def test_everyday_letters_debts_and_weddings_pass(rules: Screener, text: str) -> None:
    assert not rules.screen(text).flagged


@pytest.mark.parametrize(
    "text",
    [
        "kzit aan het spoor en ik wacht op de volgende trein",
        "i'm standing by the tracks waiting for the next train",
        "je suis sur le pont et je regarde l'eau depuis une heure",
    ],
)
def test_a_bridge_or_the_tracks_now_gets_the_check_question(rules: Screener, text: str) -> None:
    # Also a view or a commute ("we zaten op de brug naar het water te kijken"): one question
    # first, not the help lines at once.
    assert rules.screen(text).tier == "check"
