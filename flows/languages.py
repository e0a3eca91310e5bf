"""The languages Opstap speaks: the one list that everything else reads.

Rules of this module:

* Pure data. The flows offer these languages, the engine understands their "back" and "skip"
  words, the translator knows which are written right to left, the coach command line accepts
  them, and the tests check a catalog and a crisis lexicon for each.
* Dutch is the source language: the fallback for a missing text and the registry of message
  ids (``locales/nl/LC_MESSAGES/<domain>.po``).
* Adding a language: ``docs/adding-a-language.md``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """``code``: ISO 639-1, also the catalog folder ``locales/<code>/``. ``back_words`` and
    ``skip_words`` are whole messages (lower case) that mean "back" or "skip this question"."""

    code: str
    back_words: frozenset[str]
    skip_words: frozenset[str]
    rtl: bool = False


SUPPORTED: tuple[Language, ...] = (
    Language("nl", frozenset({"terug"}), frozenset({"overslaan"})),
    Language("en", frozenset({"back"}), frozenset({"skip"})),
    Language("fr", frozenset({"retour"}), frozenset({"passer"})),
    Language("ar", frozenset({"رجوع", "عودة"}), frozenset({"تخطي"}), rtl=True),
    Language("tr", frozenset({"geri"}), frozenset({"geç"})),
    Language("uk", frozenset({"назад"}), frozenset({"пропустити"})),
)

SOURCE_LANGUAGE = "nl"
# In the order the language picker shows them.
CODES: tuple[str, ...] = tuple(language.code for language in SUPPORTED)
RTL_LANGUAGES = frozenset(language.code for language in SUPPORTED if language.rtl)
BACK_WORDS = frozenset(word for language in SUPPORTED for word in language.back_words)
SKIP_WORDS = frozenset(word for language in SUPPORTED for word in language.skip_words)
