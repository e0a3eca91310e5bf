"""The rules' false alarms by kind (eighth, tenth, eleventh, twelfth and thirteenth rounds,
Dutch, English and French), each beside the real signal it must never hide; from the thirteenth
round on also signals the rules missed (coercion, a means at hand), each beside its benign twin.

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


_THIRTEENTH_ROUND = [
    # Thirteenth round: a plot told (someone in a film or a book jumps off a building); the
    # wish of my own beside it stays a signal.
    (
        "the series ended with her jumping off the roof, i cried",
        "i'm going to jump off the roof tonight",
    ),
    (
        "that movie ends with the hero jumping from the bridge",
        "i want to throw myself in front of a train",
    ),
    # Food hyperbole: "so good I'm gonna die"; the bare "I'm gonna die" stays a signal.
    ("this lasagna is so good i'm gonna die", "i'm gonna die tonight, i have the pills"),
    ("je vais mourir tellement c'est bon ce tiramisu", "je vais mourir ce soir, j'ai tout prévu"),
    ("ces frites sont tellement bonnes que je vais crever", "je veux crever, j'en peux plus"),
    # A burn while cooking or at work; the same burn "on purpose" stays a signal.
    (
        "je me suis brûlée le poignet sur la plaque du four en cuisinant",
        "je me suis brûlée le poignet sur la plaque exprès",
    ),
    ("je me suis brûlé en sortant le gratin, ça pique", "je me brûle avec un briquet le soir"),
    ("i burned myself on the oven tray making dinner", "i burned myself on purpose again"),
    # A cook's cuts and burns on the job; "on purpose" or "to cope" beside it stays a signal.
    (
        "i'm a cook in a restaurant and i burn myself a lot",
        "i'm a cook in a restaurant and i burn myself a lot to cope",
    ),
    (
        "ik werk in een bakkerij en ik snij mezelf weleens in mijn duim",
        "ik werk in een bakkerij en ik snij mezelf weleens expres",
    ),
    (
        "je suis cuistot dans un resto, je me brûle tout le temps au grill",
        "je suis cuistot dans un resto, je me brûle souvent exprès",
    ),
    # Bored to death in French; a wish to die beside it stays a signal.
    ("je vais m'ennuyer à mourir ce soir", "je vais mourir ce soir"),
    # Coercion: sex demanded to pay the rent or a debt, or as the condition for a room.
    (
        "i sleep at my mate's place and can't pay the rent",
        "the man i live with says i must sleep with his friends to pay the rent",
    ),
    (
        "ik slaap bij mijn vrienden omdat ik de huur niet kan betalen",
        "de man bij wie ik woon wil dat ik met zijn vrienden slaap voor de huur",
    ),
    (
        "je dors chez des potes parce que je peux pas payer le loyer",
        "il dit que je dois coucher avec ses potes pour rembourser ma dette",
    ),
    (
        "my landlord says i can pay the rent by bank transfer",
        "my landlord says i can pay the rent in other ways, i don't know what he means",
    ),
    (
        "de huisbaas zegt dat ik de huur per overschrijving mag betalen",
        "de huisbaas zegt dat ik de huur in natura mag betalen",
    ),
    (
        "le proprio dit que je peux payer le loyer par virement",
        "le proprio dit que si je couche pas avec lui je dors dehors",
    ),
    # Papers held, wages kept, a debt worked off, a threat to report me to immigration.
    (
        "my boss needs my id card for the contract",
        "my boss has my papers and won't give them back",
    ),
    (
        "de school heeft mijn papieren nodig voor de inschrijving",
        "mijn baas heeft mijn papieren en geeft ze niet terug",
    ),
    (
        "ils ont encore perdu mes papiers à la commune",
        "mon patron a mes papiers et veut pas me les rendre",
    ),
    # "Nodig" and "besoin" alone said nothing about the papers: a plea for help beside them
    # hid the signal ("ik heb hulp nodig"); only "they need my papers" is administrative.
    (
        "le cpas a besoin de mes papiers pour le dossier",
        "mon patron garde mon passeport, j'ai besoin d'aide",
    ),
    (
        "het ocmw heeft mijn paspoort nodig voor het dossier",
        "mijn baas houdt mijn paspoort, ik heb hulp nodig",
    ),
    # "Passes" is a common word ("tu passes au cpas"); only "(faire) des passes" is sex for money.
    (
        "tu passes au cpas pour le loyer demain?",
        "il me fait faire des passes pour payer le loyer",
    ),
    (
        "the government takes half my salary in tax",
        "my boyfriend takes all my wages and gives me pocket money",
    ),
    (
        "mijn werkgever heeft mijn loon nog niet betaald",
        "mijn vriend neemt heel mijn loon en ik krijg zakgeld",
    ),
    ("le chef me paie mon salaire le 5", "mon mari prend tout mon salaire"),
    (
        "i work for free at my internship and pay off my student loan",
        "he says i owe him for the journey and must work for free till it's paid",
    ),
    (
        "ik werk gratis op mijn stage en betaal mijn studielening af",
        "ik moet mijn schuld bij hem afwerken, hij betaalt me niet",
    ),
    (
        "je bosse pour rembourser mon prêt étudiant",
        "je dois rembourser ma dette en travaillant pour lui gratuitement",
    ),
    (
        "my manager says he'll report the broken till to head office",
        "my boss says he'll report me to immigration if i quit",
    ),
    (
        "ik moet mijn adres aangeven bij de gemeente",
        "hij gaat me aangeven bij de vreemdelingendienst als ik stop",
    ),
    (
        "je dois envoyer mes documents à l'office des étrangers",
        "il va me dénoncer à l'office des étrangers si je parle",
    ),
    # A threat with my photos on a condition.
    (
        "he wants to send the holiday photos to my family",
        "he keeps threatening to send photos of me to my dad",
    ),
    (
        "hij wil de foto's van de reis naar mijn familie sturen",
        "hij dreigt mijn foto's naar mijn familie te sturen",
    ),
    (
        "il veut envoyer les photos des vacances à ma famille",
        "il va montrer mes photos à tout le monde si je fais pas ce qu'il dit",
    ),
    # A means at hand looked at for long, or laid out; buying one or a pill box is no part of it.
    (
        "been looking at razor blades online for my beard",
        "the razor blade is next to my bed and i've been staring at it all evening",
    ),
    (
        "my pills are laid out in a weekly organiser",
        "the pills are lined up on the table in front of me",
    ),
    (
        "ik kijk naar scheermesjes online voor mijn baard",
        "het scheermesje ligt naast mijn kussen, ik staar er al uren naar",
    ),
    ("het mes ligt klaar voor de taart", "de pillen van mijn oma liggen hier voor mij"),
    (
        "je regarde des lames de rasoir en ligne pour ma barbe",
        "la lame est posée sur ma table de nuit, je la fixe depuis ce matin",
    ),
    (
        "j'ai mes médocs devant moi, je les prends avant ou après manger?",
        "les cachets sont alignés sur mon lit",
    ),
]


@pytest.mark.parametrize(
    ("benign", "signal"),
    [*_EIGHTH_ROUND, *_TENTH_ROUND, *_ELEVENTH_ROUND, *_TWELFTH_ROUND, *_THIRTEENTH_ROUND],
)
def test_a_benign_kind_passes_and_its_signal_flags(
    rules: Screener, benign: str, signal: str
) -> None:
    assert not rules.screen(benign).flagged, benign
    assert rules.screen(signal).flagged, signal
    assert rules.screen(f"{benign}. {signal}").flagged, signal
