"""The rules' false alarms by kind (eighth, tenth, eleventh and twelfth rounds, Dutch, English
and French), each beside the real signal it must never hide.

Screened by the rules alone (the shipped lexicons without the classifier): these are rule
changes.  The texts are written for these tests, not copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener

_EIGHTH_ROUND = [
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
]

_TENTH_ROUND = [
    # Tenth round (tune10a), by kind.  A crisis told as over, with "now" and the recovery
    # (or helping others) after it; a hit told after the "now" still flags.
    (
        "vroeger kraste ik mezelf, nu al 2 jaar niet meer, mag ik bloed geven?",
        "vroeger kraste ik mezelf en gisteren heb ik mezelf weer gesneden",
    ),
    (
        "mijn stiefvader sloeg mij vroeger, dat is lang gedaan, ik woon nu bij mijn tante",
        "mijn stiefvader sloeg mij gisteren nog",
    ),
    (
        "two years ago i was cutting myself but i've been clean for 14 months",
        "two years ago i was cutting myself and last night i was cutting myself again",
    ),
    (
        "last winter i swallowed all my pills but i've had therapy since and i'm stable",
        "i swallowed all my pills an hour ago",
    ),
    (
        "au collège mon beau-père me frappait, maintenant je suis en coloc et ça va",
        "mon beau-père me frappait hier soir encore",
    ),
    (
        "j'ai subi des violences il y a longtemps et aujourd'hui je veux aider d'autres jeunes",
        "je subis des violences tous les soirs",
    ),
    # A trivial mishap named right before a dark hyperbole (a haircut, a laptop, a hard
    # drive), taken back at once where the words are a threat to oneself.
    (
        "mijn pony is echt verknipt, ik wil door de grond zakken haha",
        "iedereen lacht met mij, ik wil door de grond zakken, ik wil dood",
    ),
    (
        "mijn laptop is kapot, ik ga mezelf iets aandoen nee grapje",
        "ik ga mezelf iets aandoen vannacht",
    ),
    (
        "dyed my fringe myself and it turned out green, i want to die haha",
        "nobody would notice, i want to die",
    ),
    (
        "mon ordi a planté avec tout mon tfe dessus jveux mourir mdr nan sérieux",
        "mon ordi a planté et jveux mourir, j'en peux plus de vivre",
    ),
    # Slang hyperbole with its benign cause: exhaustion, a hangover, happiness, laughter,
    # an earworm, a fright on a ride.
    (
        "ik ben zo uitgeput dat ik zou kunnen omvallen na die nachtshift",
        "ik ben zo uitgeput dat ik dood wil",
    ),
    ("one more bite of this cake and i'll die of joy", "i'll take all my pills and die"),
    ("we nearly killed ourselves laughing, i killed myself laughing", "i tried to kill myself"),
    (
        "that chorus is still stuck in my head, the fire alarm test was loud",
        "there is a fire and i'm stuck in my room",
    ),
    (
        "thought i was going to die on that rollercoaster lol",
        "i thought about how i'm going to die tonight",
    ),
    (
        "lendemain de soirée horrible, je vais mourir, de l'eau svp",
        "je vais mourir ce soir, j'ai tout prévu",
    ),
    (
        "kms lol i just missed the bus again",
        "kms tonight, i have the rope",
    ),
    (
        "my flatmate tried to cook and i'm dead",
        "i'm going to end my life",
    ),
    # A family member who threatens for a trivial thing of THEIRS, with laughter; a threat
    # over what I wear or whom I tell stays a signal.
    (
        "my brother swore to kill me if i borrow his hoodie again lol",
        "my brother swore to kill me if i wear a skirt again",
    ),
    (
        "si je loupe encore mon examen mon père va m'étrangler",
        "mon père va m'étrangler, il l'a déjà fait",
    ),
    # Someone else's crisis, or a course or a job that teaches it.
    (
        "at the first aid training we learnt what to do when someone swallowed too many pills",
        "i swallowed too many pills",
    ),
    (
        "at my old job at the pharmacy i did overdose checks on prescriptions",
        "i did overdose on my prescriptions last night",
    ),
    # A cut thumb on a cracked screen: an accident.
    ("mon écran est cassé, je me coupe le pouce dessus", "je me coupe les poignets"),
]

_ELEVENTH_ROUND = [
    # Eleventh round (tune11a), by kind.  Someone "of mine" ("een vriendin van mij", "van me")
    # whose suicide or attempt is told: the person's, not mine; my own stays a signal.
    (
        "een vriendin van mij pleegde vorig jaar zelfmoord, hoe troost ik haar broer",
        "een vriendin van mij weet dat ik zelfmoord wil plegen",
    ),
    (
        "ne kameraad van me deed vorige week een zelfmoordpoging, wat zeg ik tegen hem",
        "ne kameraad van me weet niet dat ik een zelfmoordpoging deed",
    ),
    # A number with a unit (kilos gained on a treatment, months of a treatment) counts no pills.
    (
        "ik heb al 6 maanden mijn sertraline genomen, mag ik stoppen?",
        "ik heb 30 sertraline genomen",
    ),
    (
        "avec mon traitement pour la thyroïde j'ai pris 9 kilos, c'est normal ?",
        "j'ai pris 30 cachets de mon traitement",
    ),
    (
        "since starting my prescription i've had 7 kilos extra on the scale",
        "i've had 30 of my prescription tonight",
    ),
    # A weight beside a real overdose hides nothing (the dose per kilo is what matters).
    (
        "since starting my prescription i've had 7 kilos extra on the scale",
        "i took 30 paracetamol and i only weigh 50 kg",
    ),
    (
        "ik heb al 6 maanden mijn sertraline genomen, mag ik stoppen?",
        "ik heb 20 paracetamols genomen en ik weeg maar 50 kilo",
    ),
    # A device (or its battery) that is dead, then what I need to do.
    (
        "the battery of my scooter is dead and i need to get to class, help",
        "the battery of my scooter is dead and i want to die",
    ),
    # A grandparent's death, asked about or to come: theirs, not mine.
    (
        "my gran has alzheimer's and keeps asking me when she's going to die",
        "my gran has alzheimer's and i'm going to kill myself",
    ),
    (
        "i think my nana is going to die soon, how do i say goodbye",
        "i think i'm going to die soon, i have the rope",
    ),
]


_TWELFTH_ROUND = [
    # Twelfth round: debts and rent.  A landlord, a bank, a bailiff or a company that threatens
    # with court, eviction, a bailiff, a fine, a lawyer or cutting off the power; the same shape
    # with a blow, a weapon, a threat to kill, nudes or sex as the condition stays a signal (and a
    # partner who throws me out is no part of this kind).
    ("de huisbaas dreigt me eruit te zetten", "mijn vriend dreigt me buiten te zetten en slaat me"),
    (
        "de huisbaas dreigt me eruit te zetten als ik de huur niet betaal",
        "de huisbaas dreigt me eruit te zetten als ik geen seks met hem heb",
    ),
    (
        "ze dreigen me met de rechtbank voor die rekening",
        "hij dreigt me met de rechtbank en met een mes",
    ),
    ("de bank dreigt me voor de rechter te slepen", "hij dreigt me te vermoorden"),
    ("ik word bedreigd met een uithuiszetting", "ik word bedreigd door mijn ex"),
    ("het incassobureau bedreigt me met beslag op mijn loon", "mijn vader dreigt me te slaan"),
    (
        "ze dreigen me de elektriciteit af te sluiten",
        "hij dreigt mijn naaktfoto's te verspreiden",
    ),
    ("they threaten to take me to court over the debt", "my ex threatens to kill me"),
    (
        "they threatened me with bailiffs for the phone bill",
        "he threatens me with court and hits me",
    ),
    ("they threatened to sue me", "my boyfriend threatens to kick me out and hits me"),
    ("they threatened me with a lawyer", "he threatened me with a lawyer and a knife"),
    ("they're threatening me with a fine", "he threatens to share my nudes"),
    (
        "she threatened to evict me",
        "my landlord wants sex instead of rent and threatens to evict me",
    ),
    ("ils me menacent d'huissier pour les factures", "il me menace avec un couteau"),
    ("ils me menacent du tribunal", "il me menace du tribunal et me frappe"),
    ("on me menace d'expulsion", "mon copain menace de me mettre dehors et il me frappe"),
    ("je suis menacée d'expulsion", "il me menace d'un avocat et d'un couteau"),
    ("ils menacent de me couper le courant", "il me menace de me tuer"),
    (
        "ils menacent de m'expulser si je paie pas le loyer",
        "le proprio veut du sexe à la place du loyer et menace de m'expulser",
    ),
]


@pytest.mark.parametrize(
    ("benign", "signal"), [*_EIGHTH_ROUND, *_TENTH_ROUND, *_ELEVENTH_ROUND, *_TWELFTH_ROUND]
)
def test_a_benign_kind_passes_and_its_signal_flags(
    rules: Screener, benign: str, signal: str
) -> None:
    assert not rules.screen(benign).flagged, benign
    assert rules.screen(signal).flagged, signal
    assert rules.screen(f"{benign}. {signal}").flagged, signal
