"""Natural replies: what a typed message means when it is not the answer a parser expects.

Rules of this module:

* Pure data and functions, like all of :mod:`flows`. The engine asks :func:`intent` for the
  whole message ("ja", "ik wil stoppen", "weet ik niet"); the intake asks
  :func:`number_in_words` ("twintig") and :func:`rating_in_words` ("gaat wel").
* A message means something only as a whole: "stop" is a stop, "stop met drinken" is an answer.
  Text and word lists go through the same :func:`normalise` (case, accents, apostrophes and
  punctuation do not matter), so "Ik wil stoppen!" and "ik wil stoppen" are the same.
* Every language's words are tried, the person's own first: people mix languages ("ok",
  "stop"), and a word that means one thing in one language never means another thing here
  (the lists are checked for that in the tests).
* Crisis words are not here: the safety screening reads every message before the engine.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Literal

Intent = Literal["yes", "no", "stop", "skip", "back", "dont_know", "rather_not"]

_APOSTROPHES = str.maketrans({"'": "", "’": "", "ʼ": "", "`": "", "´": ""})
_FOLD = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "ـ": ""})
_NOT_WORD = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    """Lower case, no accents or apostrophes, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_APOSTROPHES))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", stripped.translate(_FOLD)).replace("_", " ").split())


# --- intents --------------------------------------------------------------------------------

_INTENTS: Mapping[Intent, Mapping[str, tuple[str, ...]]] = {
    "yes": {
        "nl": (
            "ja",
            "jaa",
            "jep",
            "jup",
            "ja hoor",
            "ja klopt",
            "ja graag",
            "ja dat klopt",
            "klopt",
            "dat klopt",
            "zeker",
            "oke",
            "ok",
            "okay",
            "is goed",
            "prima",
        ),
        "en": (
            "yes",
            "yeah",
            "yep",
            "yup",
            "y",
            "sure",
            "of course",
            "correct",
            "right",
            "yes please",
            "thats right",
        ),
        "fr": (
            "oui",
            "ouais",
            "ouai",
            "d accord",
            "daccord",
            "bien sur",
            "exact",
            "oui merci",
            "cest ca",
            "oui cest ca",
        ),
        "ar": ("نعم", "ايوه", "ايوا", "اي", "اجل", "تمام", "موافق", "اه", "صح"),
        "tr": ("evet", "tamam", "olur", "aynen", "evet tamam", "tabii", "tabi"),
        "uk": ("так", "ага", "звісно", "так звісно", "згоден", "згодна", "так дякую"),
    },
    "no": {
        "nl": (
            "nee",
            "neen",
            "nope",
            "nah",
            "nee hoor",
            "nee dank je",
            "nee bedankt",
            "nee dankje",
            "klopt niet",
            "dat klopt niet",
        ),
        "en": ("no", "nope", "nah", "n", "no thanks", "no thank you", "not right"),
        "fr": ("non", "nan", "non merci", "pas du tout"),
        "ar": ("لا", "كلا", "لا شكرا", "لا شكراً"),
        "tr": ("hayir", "yok", "istemiyorum", "hayir tesekkurler"),
        "uk": ("ні", "нє", "ні дякую", "не треба"),
    },
    "stop": {
        "nl": (
            "stop",
            "stoppen",
            "ik wil stoppen",
            "ik stop",
            "stop maar",
            "stop ermee",
            "ik wil stoppen met deze vragen",
            "pauze",
            "ik wil pauzeren",
            "later",
        ),
        "en": (
            "stop",
            "i want to stop",
            "quit",
            "i quit",
            "pause",
            "stop please",
            "please stop",
            "later",
        ),
        "fr": ("arrete", "arreter", "je veux arreter", "jarrete", "pause", "plus tard"),
        "ar": ("توقف", "قف", "اريد التوقف", "ستوب", "بدي اوقف", "لاحقا"),
        "tr": ("dur", "durdur", "durmak istiyorum", "birakmak istiyorum", "sonra"),
        "uk": ("стоп", "зупинись", "хочу зупинитися", "я хочу зупинитися", "пауза", "пізніше"),
    },
    "skip": {
        "nl": (
            "overslaan",
            "sla over",
            "sla deze over",
            "skip",
            "volgende",
            "volgende vraag",
            "door",
            "verder",
        ),
        "en": ("skip", "next", "pass", "next question", "skip this"),
        "fr": ("passer", "suivant", "question suivante", "je passe", "sauter"),
        "ar": ("تخطي", "التالي", "تجاوز", "السؤال التالي"),
        "tr": ("gec", "atla", "sonraki", "pas", "sonraki soru"),
        "uk": ("пропустити", "пропусти", "далі", "наступне", "наступне питання"),
    },
    "back": {
        "nl": ("terug", "vorige", "ga terug", "vorige vraag"),
        "en": ("back", "go back", "previous", "previous question"),
        "fr": ("retour", "precedent", "revenir"),
        "ar": ("رجوع", "عودة", "ارجع", "السابق"),
        "tr": ("geri", "geri don", "onceki"),
        "uk": ("назад", "повернутися", "попереднє"),
    },
    "dont_know": {
        "nl": (
            "weet ik niet",
            "ik weet het niet",
            "ik weet niet",
            "weet niet",
            "weet het niet",
            "geen idee",
            "geen flauw idee",
            "ik weet het nog niet",
            "idk",
            "geen idee eigenlijk",
        ),
        "en": (
            "i dont know",
            "dont know",
            "i do not know",
            "no idea",
            "idk",
            "not sure",
            "dunno",
            "im not sure",
        ),
        "fr": (
            "je ne sais pas",
            "je sais pas",
            "sais pas",
            "aucune idee",
            "jsp",
            "chais pas",
            "pas sur",
            "je ne sais pas encore",
        ),
        "ar": ("لا اعرف", "ما بعرف", "مش عارف", "لا ادري", "ما اعرف", "مو عارف", "ما بعرف والله"),
        "tr": ("bilmiyorum", "fikrim yok", "bilmem", "emin degilim", "hic bilmiyorum"),
        "uk": ("не знаю", "без поняття", "не впевнений", "не впевнена", "я не знаю"),
    },
    "rather_not": {
        "nl": (
            "zeg ik liever niet",
            "liever niet",
            "dat zeg ik liever niet",
            "ik zeg het liever niet",
            "wil ik niet zeggen",
            "ik wil het niet zeggen",
            "zeg ik niet",
        ),
        "en": (
            "rather not say",
            "id rather not say",
            "rather not",
            "prefer not to say",
            "i prefer not to say",
            "id rather not",
            "i dont want to say",
        ),
        "fr": (
            "je prefere ne pas dire",
            "prefere ne pas dire",
            "je prefere pas",
            "je prefere ne pas le dire",
            "je ne veux pas dire",
            "je veux pas dire",
        ),
        "ar": (
            "افضل عدم القول",
            "لا اريد ان اقول",
            "ما بدي احكي",
            "افضل الا اقول",
            "لا اريد القول",
        ),
        "tr": ("soylemek istemiyorum", "soylemesem", "soylemeyeyim", "soylemek istemem"),
        "uk": ("краще не казати", "не хочу казати", "волію не казати", "не скажу"),
    },
}


def _index() -> Mapping[str, Mapping[str, Intent]]:
    by_language: dict[str, dict[str, Intent]] = {}
    for name, languages in _INTENTS.items():
        for language, phrases in languages.items():
            for phrase in phrases:
                by_language.setdefault(language, {})[normalise(phrase)] = name
    return by_language


_BY_LANGUAGE = _index()
LANGUAGES: tuple[str, ...] = tuple(_BY_LANGUAGE)


def _languages(language: str) -> Iterable[str]:
    yield language
    yield from (code for code in LANGUAGES if code != language)


def intent(text: str, language: str) -> Intent | None:
    """What the whole message means, or ``None`` when it is not one of the natural replies."""
    clean = normalise(text)
    if not clean:
        return None
    for code in _languages(language):
        found = _BY_LANGUAGE.get(code, {}).get(clean)
        if found is not None:
            return found
    return None


def phrases(name: Intent) -> Mapping[str, tuple[str, ...]]:
    """The phrases of one intent per language (for tests and documentation)."""
    return _INTENTS[name]


# --- ratings in words -----------------------------------------------------------------------

_RATINGS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "1": {
        "nl": (
            "heel slecht",
            "zeer slecht",
            "super slecht",
            "echt slecht",
            "verschrikkelijk",
            "rampzalig",
            "heel erg slecht",
            "vreselijk",
        ),
        "en": ("very bad", "really bad", "terrible", "awful", "horrible"),
        "fr": ("tres mal", "tres mauvais", "horrible", "terrible", "nul"),
        "ar": ("سيء جدا", "سيئ جدا", "سيء كثير", "كارثي", "سيئة جدا"),
        "tr": ("cok kotu", "berbat", "rezalet"),
        "uk": ("дуже погано", "жахливо", "жах"),
    },
    "2": {
        "nl": (
            "slecht",
            "niet goed",
            "niet zo goed",
            "minder goed",
            "moeilijk",
            "lastig",
            "niet zo best",
            "slecht eigenlijk",
        ),
        "en": ("bad", "not good", "not great", "not so good", "poor", "hard", "difficult"),
        "fr": ("mal", "mauvais", "pas bien", "pas terrible", "difficile", "pas top"),
        "ar": ("سيء", "سيئ", "مش كويس", "ليس جيدا", "صعب", "مو منيح", "سيئة"),
        "tr": ("kotu", "iyi degil", "zor", "pek iyi degil"),
        "uk": ("погано", "не дуже", "не добре", "важко", "недобре"),
    },
    "3": {
        "nl": (
            "gaat wel",
            "het gaat",
            "matig",
            "soso",
            "so so",
            "zo zo",
            "redelijk",
            "middelmatig",
            "kan beter",
            "oke",
            "ok",
        ),
        "en": ("so so", "ok", "okay", "alright", "its ok", "fine", "could be better", "average"),
        "fr": ("ca va", "moyen", "bof", "comme ci comme ca", "ca peut aller", "correct"),
        "ar": ("ماشي", "مقبول", "نص نص", "عادي", "ماشي الحال", "متوسط"),
        "tr": ("idare eder", "orta", "fena degil", "eh iste", "sayilir", "normal"),
        "uk": ("нормально", "так собі", "середньо", "більш менш", "непогано"),
    },
    "4": {
        "nl": ("goed", "prima", "best goed", "vrij goed", "gaat goed", "het gaat goed"),
        "en": ("good", "pretty good", "quite good", "going well", "well"),
        "fr": ("bien", "bon", "ca va bien", "plutot bien", "assez bien"),
        "ar": ("جيد", "كويس", "منيح", "مليح", "بخير", "جيدة"),
        "tr": ("iyi", "gayet iyi", "iyi gidiyor"),
        "uk": ("добре", "гарно", "все добре", "досить добре"),
    },
    "5": {
        "nl": (
            "heel goed",
            "zeer goed",
            "super goed",
            "super",
            "top",
            "uitstekend",
            "perfect",
            "heel erg goed",
            "echt goed",
            "geweldig",
        ),
        "en": ("very good", "great", "excellent", "perfect", "really good", "awesome"),
        "fr": ("tres bien", "super", "genial", "parfait", "excellent", "tres bon"),
        "ar": ("جيد جدا", "ممتاز", "رائع", "كويس كثير", "منيح كتير"),
        "tr": ("cok iyi", "harika", "super", "mukemmel", "cok guzel"),
        "uk": ("дуже добре", "чудово", "відмінно", "супер", "прекрасно"),
    },
}


def _rating_index() -> Mapping[str, Mapping[str, str]]:
    by_language: dict[str, dict[str, str]] = {}
    for value, languages in _RATINGS.items():
        for language, words in languages.items():
            for word in words:
                by_language.setdefault(language, {})[normalise(word)] = value
    return by_language


_RATING_INDEX = _rating_index()


def rating_in_words(text: str, language: str) -> str | None:
    """ "1".."5" for a rating said in words ("gaat wel" -> "3"), else ``None``."""
    clean = normalise(text)
    for code in _languages(language):
        found = _RATING_INDEX.get(code, {}).get(clean)
        if found is not None:
            return found
    return None


# --- numbers in words (1..99: enough for an age) --------------------------------------------

_NL_UNITS = {
    "een": 1,
    "twee": 2,
    "drie": 3,
    "vier": 4,
    "vijf": 5,
    "zes": 6,
    "zeven": 7,
    "acht": 8,
    "negen": 9,
}
_NL_TEENS = {
    "tien": 10,
    "elf": 11,
    "twaalf": 12,
    "dertien": 13,
    "veertien": 14,
    "vijftien": 15,
    "zestien": 16,
    "zeventien": 17,
    "achttien": 18,
    "negentien": 19,
}
_NL_TENS = {
    "twintig": 20,
    "dertig": 30,
    "veertig": 40,
    "vijftig": 50,
    "zestig": 60,
    "zeventig": 70,
    "tachtig": 80,
    "negentig": 90,
}

_EN_UNITS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_EN_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_EN_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}

_FR_UNITS = {
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
}
_FR_TEENS = {
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "dix sept": 17,
    "dix huit": 18,
    "dix neuf": 19,
}
_FR_TENS = {"vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60}

_TR_UNITS = {
    "bir": 1,
    "iki": 2,
    "uc": 3,
    "dort": 4,
    "bes": 5,
    "alti": 6,
    "yedi": 7,
    "sekiz": 8,
    "dokuz": 9,
}
_TR_TENS = {
    "on": 10,
    "yirmi": 20,
    "otuz": 30,
    "kirk": 40,
    "elli": 50,
    "altmis": 60,
    "yetmis": 70,
    "seksen": 80,
    "doksan": 90,
}

_UK_UNITS = {
    "один": 1,
    "одна": 1,
    "два": 2,
    "дві": 2,
    "три": 3,
    "чотири": 4,
    "пять": 5,
    "шість": 6,
    "сім": 7,
    "вісім": 8,
    "девять": 9,
}
_UK_TEENS = {
    "десять": 10,
    "одинадцять": 11,
    "дванадцять": 12,
    "тринадцять": 13,
    "чотирнадцять": 14,
    "пятнадцять": 15,
    "шістнадцять": 16,
    "сімнадцять": 17,
    "вісімнадцять": 18,
    "девятнадцять": 19,
}
_UK_TENS = {
    "двадцять": 20,
    "тридцять": 30,
    "сорок": 40,
    "пятдесят": 50,
    "шістдесят": 60,
    "сімдесят": 70,
    "вісімдесят": 80,
    "девяносто": 90,
}

_AR_UNITS = {
    "واحد": 1,
    "واحدة": 1,
    "اثنان": 2,
    "اثنين": 2,
    "اتنين": 2,
    "ثلاثة": 3,
    "ثلاث": 3,
    "تلاتة": 3,
    "اربعة": 4,
    "اربع": 4,
    "خمسة": 5,
    "خمس": 5,
    "ستة": 6,
    "ست": 6,
    "سبعة": 7,
    "سبع": 7,
    "ثمانية": 8,
    "ثمان": 8,
    "تمانية": 8,
    "تسعة": 9,
    "تسع": 9,
}
_AR_TENS = {
    "عشرون": 20,
    "عشرين": 20,
    "ثلاثون": 30,
    "ثلاثين": 30,
    "اربعون": 40,
    "اربعين": 40,
    "خمسون": 50,
    "خمسين": 50,
    "ستون": 60,
    "ستين": 60,
    "سبعون": 70,
    "سبعين": 70,
    "ثمانون": 80,
    "ثمانين": 80,
    "تسعون": 90,
    "تسعين": 90,
}
_AR_TEN = {"عشرة": 10, "عشر": 10}


def _n(table: Mapping[str, int]) -> dict[str, int]:
    return {normalise(k).replace(" ", "_"): v for k, v in table.items()}


def _dutch(clean: str) -> int | None:
    word = clean.replace(" ", "")
    table = {**_n(_NL_UNITS), **_n(_NL_TEENS), **_n(_NL_TENS)}
    if word in table:
        return table[word]
    for unit, u in _n(_NL_UNITS).items():
        for tens, t in _n(_NL_TENS).items():
            if word == f"{unit}en{tens}":
                return t + u
    return None


def _tens_units(
    words: list[str],
    units: Mapping[str, int],
    teens: Mapping[str, int],
    tens: Mapping[str, int],
    joiners: frozenset[str] = frozenset(),
) -> int | None:
    words = [w for w in words if w not in joiners]
    if len(words) == 1:
        w = words[0]
        return units.get(w) or teens.get(w) or tens.get(w)
    if len(words) == 2 and words[0] in tens and words[1] in units:
        return tens[words[0]] + units[words[1]]
    return None


def _french(clean: str) -> int | None:
    teens = _n(_FR_TEENS)
    joined = clean.replace(" ", "_")
    if joined in teens:
        return teens[joined]
    return _tens_units(clean.split(), _n(_FR_UNITS), teens, _n(_FR_TENS), frozenset({"et"}))


def _turkish(clean: str) -> int | None:
    units, tens = _n(_TR_UNITS), _n(_TR_TENS)
    words = clean.split()
    if len(words) == 1:
        for t_word, t in tens.items():
            for u_word, u in units.items():
                if words[0] == t_word + u_word:
                    return t + u
    return _tens_units(words, units, {}, tens)


def _arabic(clean: str) -> int | None:
    units, tens, ten = _n(_AR_UNITS), _n(_AR_TENS), _n(_AR_TEN)
    words = []
    for word in clean.split():
        # "و" (and) is written against the next word: "واحد وعشرون".
        if word.startswith("و") and word[1:] in tens:
            word = word[1:]
        if word != "و":
            words.append(word)
    if len(words) == 2 and words[0] in units and words[1] in ten:
        return 10 + units[words[0]]
    if len(words) == 2 and words[0] in units and words[1] in tens:
        return units[words[0]] + tens[words[1]]
    if len(words) == 1:
        w = words[0]
        return units.get(w) or ten.get(w) or tens.get(w)
    return None


def number_in_words(text: str, language: str) -> int | None:
    """A whole number from 1 to 99 written in words in one of the six languages."""
    clean = normalise(text)
    if not clean:
        return None
    readers = {
        "nl": _dutch,
        "en": lambda c: _tens_units(c.split(), _n(_EN_UNITS), _n(_EN_TEENS), _n(_EN_TENS)),
        "fr": _french,
        "tr": _turkish,
        "uk": lambda c: _tens_units(c.split(), _n(_UK_UNITS), _n(_UK_TEENS), _n(_UK_TENS)),
        "ar": _arabic,
    }
    for code in _languages(language):
        reader = readers.get(code)
        value = reader(clean) if reader is not None else None
        if value is not None:
            return value
    return None
