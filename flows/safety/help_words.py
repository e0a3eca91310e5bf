"""Typed help words: "help", "hulp", "sos" and their equivalents open help in every state (pure).

Rules of this module:

* A message asks for help when, after the screen's normalisation, it is one of the help words
  of any of the six languages, alone or with "me"/"please"-like words and punctuation around
  it ("HELP!!", "hulp aub", "au secours", "yardım edin", "допоможіть"). A help word inside a
  longer sentence ("ik zoek hulp bij mijn cv") is not a request for the crisis help: that is
  what the intake's questions are for.
* The words are data here, reviewable in one place; every language is checked for every
  person, because young people mix languages.
"""

from __future__ import annotations

import re
from typing import Final

from flows.safety.detect import normalise

# Per language, the whole-message help words (written naturally; normalised when compared).
HELP_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "nl": (
        "hulp",
        "help",
        "sos",
        "help mij",
        "help me",
        "hulp nodig",
        "ik heb hulp nodig",
        "noodgeval",
        "hellup",
    ),
    "en": (
        "help",
        "help me",
        "sos",
        "i need help",
        "need help",
        "someone help",
        "emergency",
        "mayday",
    ),
    "fr": (
        "aide",
        "à l'aide",
        "au secours",
        "aidez moi",
        "aide moi",
        "secours",
        "j'ai besoin d'aide",
        "sos",
    ),
    "ar": (
        "مساعدة",
        "مساعده",
        "ساعدني",
        "ساعدوني",
        "النجدة",
        "النجده",
        "الحقوني",
        "عاونوني",
        "نجدة",
        "sos",
    ),
    "tr": ("yardım", "yardım edin", "yardım et", "imdat", "yardıma ihtiyacım var", "sos"),
    "uk": (
        "допомога",
        "допоможіть",
        "допоможи",
        "рятуйте",
        "помогите",
        "помощь",
        "мені потрібна допомога",
        "sos",
    ),
}
# Words that may stand around a help word without changing what it asks.
_POLITE_WORDS: Final = (
    "aub", "alsjeblieft", "alstublieft", "asjeblieft", "pls", "plz", "please", "svp", "stp",
    "lütfen", "пожалуйста", "رجاء", "nu", "now", "maintenant", "şimdi", "зараз", "ajb",
)  # fmt: skip
_POLITE: Final = frozenset(normalise(w) for w in _POLITE_WORDS)
_PUNCT: Final = re.compile(r"[^\w\s]+")


def _key(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", normalise(text)).split())


_WORDS: Final = frozenset(_key(w) for words in HELP_WORDS.values() for w in words)


def asks_for_help(text: str) -> bool:
    """Whether ``text`` as a whole is a typed request for help (see the module rules)."""
    if len(text) > 60:
        return False
    words = _key(text).split()
    # Politeness words around the request do not change it ("hulp aub", "please help").
    while words and words[-1] in _POLITE:
        words.pop()
    while words and words[0] in _POLITE:
        words.pop(0)
    return bool(words) and " ".join(words) in _WORDS
