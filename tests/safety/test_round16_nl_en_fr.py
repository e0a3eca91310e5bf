"""The sixteenth round's kinds in Dutch, English and French, by the rules alone.

* Someone who "will kill / murder / strangle me" (afmaken, vermoorden, tuer, buter,
  étrangler) over an everyday thing I did or will be caught at, named before or after the
  threat, is hyperbole; a bare threat, a weapon, a blow, fear, drink or "if I tell" keep it a
  signal.
* "Tired of living in" a named place, "end it with" an internship or a job, "I'm gonna die
  here" in a queue and wanting the building works to stop are everyday; the bare phrases stay
  signals.
* Things given away via the OCMW/CPAS or a second-hand shop are no farewell.

The texts are written for these tests, not copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener

_HYPERBOLE = [
    # (everyday: passes, real: crisis)
    (
        "my mum is gonna murder me, i dented her car at the gym",
        "my mum is gonna murder me",
    ),
    (
        "i forgot to pay the gas bill again, my flatmate will kill me lol",
        "my flatmate will kill me, he has a knife in his room",
    ),
    (
        "my tutor is going to strangle me i missed the appointment again",
        "he is going to strangle me, i'm so scared",
    ),
    (
        "failed my driving theory again, dad is gonna kill me for real",
        "my dad is gonna kill me i failed again, last time he beat me up",
    ),
    (
        "my brother will kill me i wore his hoodie to the party and ripped it",
        "my brother said he would kill me if i tell mum",
    ),
    (
        "mijn zus gaat me vermoorden, ik heb haar trui geleend en er een vlek op gemorst",
        "mijn zus gaat me vermoorden",
    ),
    (
        "de afspraak bij de tandarts vergeten, mijn ma gaat me afmaken haha",
        "mijn stiefvader gaat me afmaken, hij heeft een mes",
    ),
    (
        "mijn trainer gaat me wurgen, ik heb de training gebrost",
        "mijn vader gaat me vermoorden als ik het aan iemand vertel",
    ),
    (
        "als mijn baas ziet dat ik weer te laat ben gaat hij me afmaken",
        "ik ben bang, mijn vader gaat me afmaken, ik ben te laat thuis",
    ),
    (
        "mon père va me tuer j'ai rayé sa bagnole en sortant du parking",
        "mon père va me tuer",
    ),
    (
        "j'ai encore raté le rdv chez l'assistante sociale, ma mère va me buter mdr",
        "mon beau-père va me buter, il a un couteau",
    ),
    (
        "ma coloc va m'étrangler, la vaisselle traîne depuis une semaine",
        "il va me tuer si je le dis à quelqu'un",
    ),
    (
        "ma soeur va me tuer j'ai taché son pull préféré",
        "j'ai peur, mon père va me tuer, je suis rentrée en retard",
    ),
]


@pytest.mark.parametrize(("everyday", "real"), _HYPERBOLE)
def test_a_threat_over_an_everyday_thing_is_hyperbole(
    rules: Screener, everyday: str, real: str
) -> None:
    assert not rules.screen(everyday).flagged, everyday
    assert rules.screen(real).tier == "crisis", real


_PLACES_AND_THINGS = [
    # (everyday: passes, real: crisis)
    ("so tired of living in this damp basement flat", "so tired of living"),
    ("sick of living in the asylum centre, no privacy at all", "sick of living in this body"),
    ("i want to end it with my temp agency, they never pay on time", "i want to end it"),
    (
        "there are forty people in the waiting room ahead of me, i'm gonna die here",
        "nobody knows where i am, i'm gonna die here",
    ),
    ("ik ben het zo moe van het leven in dit kleine kot", "ik ben moe van het leven"),
    (
        "ik wil er een punt aan zetten met die interim job, ze betalen te laat",
        "ik wil er een einde aan maken",
    ),
    (
        "aan het loket van de gemeente staan nog twintig mensen voor mij, ik ga hier dood",
        "ik wil hier dood, ik kan niet meer",
    ),
    ("j'en ai marre de vivre dans ce foyer, je veux mon appart", "j'en ai marre de vivre"),
    ("je veux en finir avec ce contrat d'intérim, ils me paient mal", "je veux en finir"),
    (
        "à la commune y a une file de fou devant moi, je vais crever ici",
        "je vais crever ici, personne ne sait où je suis",
    ),
]


@pytest.mark.parametrize(("everyday", "real"), _PLACES_AND_THINGS)
def test_a_place_a_job_or_a_queue_is_no_wish_to_die(
    rules: Screener, everyday: str, real: str
) -> None:
    assert not rules.screen(everyday).flagged, everyday
    assert rules.screen(real).tier == "crisis", real


_STOP = [
    # (everyday: passes, real: the check question)
    (
        "the neighbours are drilling again, i just want it to stop",
        "i just want it to stop",
    ),
    (
        "ik wil gewoon dat het stopt, die boormachine van de buren is al bezig sinds 7u",
        "ik wil gewoon dat het stopt",
    ),
    (
        "le marteau-piqueur devant chez moi, je veux juste que ça s'arrête",
        "je veux juste que ça s'arrête",
    ),
]


@pytest.mark.parametrize(("everyday", "real"), _STOP)
def test_wanting_the_noise_to_stop_is_everyday(rules: Screener, everyday: str, real: str) -> None:
    assert not rules.screen(everyday).flagged, everyday
    assert rules.screen(real).flagged, real


_WHO_I_AM = [
    "my stepdad is gonna kill me when he finds out i'm pregnant, i failed maths too",
    "mijn vader gaat me vermoorden als hij hoort dat ik een vriendje heb, mijn rapport is slecht",
    "mon père va me tuer s'il apprend que j'ai un copain, j'ai raté mon contrôle",
]


@pytest.mark.parametrize("text", _WHO_I_AM)
def test_a_threat_over_who_i_am_or_love_is_no_hyperbole(rules: Screener, text: str) -> None:
    assert rules.screen(text).tier == "crisis", text


def test_noise_in_my_head_is_no_building_site(rules: Screener) -> None:
    assert rules.screen("ik wil dat het stopt, dat lawaai in mijn hoofd").flagged


_GIVEN_AWAY = [
    # (everyday: passes, real: flags)
    (
        "mag ik mijn oude spullen weggeven via de kringloopwinkel? ik verhuis",
        "ik heb al mijn spullen weggegeven",
    ),
    (
        "ik wil mijn kleren weggeven aan het ocmw voor mensen die niks hebben",
        "ik heb mijn kleren weggegeven, ik heb ze niet meer nodig",
    ),
    (
        "i'm giving away my stuff to a second hand shop before the move",
        "i gave away all my stuff",
    ),
    (
        "je vais donner mes affaires à la ressourcerie du quartier",
        "j'ai donné toutes mes affaires",
    ),
]


@pytest.mark.parametrize(("everyday", "real"), _GIVEN_AWAY)
def test_things_given_via_a_shop_or_the_ocmw_are_no_farewell(
    rules: Screener, everyday: str, real: str
) -> None:
    assert not rules.screen(everyday).flagged, everyday
    assert rules.screen(real).flagged, real


@pytest.mark.parametrize(
    "text",
    [
        # A partner, or a bare he or she, is never a trifle's "will kill me", and money or a
        # phone is control as often as a mishap.
        "my boyfriend is going to kill me, he checks my phone every night",
        "he's gonna kill me, he wants all my money",
        "mijn lief gaat me vermoorden, hij pakt altijd mijn geld af",
        "mon mec va me tuer, il regarde mon téléphone",
    ],
)
def test_a_partners_threat_over_money_or_a_phone_flags(rules: Screener, text: str) -> None:
    assert rules.screen(text).tier == "crisis", text
