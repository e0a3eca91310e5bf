"""Mapping a young person's own words to life domains.

Rules of this module:

* Pure: the YAML is opened by :mod:`bot.intake_data` and handed in as a mapping.
* Text and terms are compared after the same normalisation: case folded, diacritics and Arabic
  vowel marks removed, Turkish dotless i folded, punctuation turned into spaces. So "Schulden",
  "schúlden" and "SCHULDEN!" are the same word, and so are "borç" and "borc".
* Matching is on whole words. A ``*`` inside a term stands for any letters within one word:
  ``verslaaf*`` matches "verslaafd", ``*ديون`` matches "بالديون" (Arabic writes "with the" in
  front of the word). Without a ``*``, "geld" does not match "geldig".
* The result lists domains in the order of :data:`flows.intake.domains.DOMAINS`, each once. A
  match is a suggestion the young person confirms, never a conclusion.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from flows.intake.domains import DOMAIN_IDS, DomainId
from flows.languages import CODES

LANGUAGES = frozenset(CODES)  # one list for all: flows/languages.py
_NOT_WORD = re.compile(r"[^\w*]+")
# Letters that NFKD does not decompose but people type interchangeably.
_FOLD = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "ـ": ""})


def normalise(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = stripped.translate(_FOLD)
    # ``\w`` keeps letters and digits of every script; ``*`` survives for terms.
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def _pattern(term: str) -> re.Pattern[str]:
    words = normalise(term).split(" ")
    parts = [r"\w*".join(re.escape(piece) for piece in word.split("*")) for word in words]
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)")


@dataclass(frozen=True)
class DomainLexicon:
    """Terms per domain, compiled once. Build it with :meth:`from_mapping`."""

    terms: tuple[tuple[DomainId, str, re.Pattern[str]], ...]
    languages: tuple[str, ...] = ()
    """The language of each term (same order as ``terms``)."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> DomainLexicon:
        """``{"domains": {"money": {"nl": ["schulden", ...], ...}, ...}}`` as read from YAML.

        Unknown domains or languages and empty terms raise ``ValueError``: a typo in the data
        must fail at start-up, not silently stop matching.
        """
        domains = data.get("domains")
        if not isinstance(domains, Mapping):
            raise ValueError("lexicon: 'domains' must be a mapping")
        compiled: list[tuple[DomainId, str, re.Pattern[str]]] = []
        term_languages: list[str] = []
        for key, per_language in domains.items():
            if key not in DOMAIN_IDS:
                raise ValueError(f"lexicon: unknown domain {key!r}")
            if not isinstance(per_language, Mapping):
                raise ValueError(f"lexicon: {key}: expected languages")
            for language, terms in per_language.items():
                if language not in LANGUAGES:
                    raise ValueError(f"lexicon: {key}: unknown language {language!r}")
                if not isinstance(terms, list):
                    raise ValueError(f"lexicon: {key}.{language}: expected a list")
                for term in terms:
                    if not isinstance(term, str) or not normalise(term).replace("*", ""):
                        raise ValueError(f"lexicon: {key}.{language}: empty or odd term")
                    compiled.append((DomainId(key), term, _pattern(term)))
                    term_languages.append(str(language))
        return cls(tuple(compiled), tuple(term_languages))

    def match(self, text: str, languages: Collection[str] | None = None) -> tuple[DomainId, ...]:
        """The domains whose terms occur in ``text``, in the canonical domain order.

        ``languages``: only the terms of these languages (the person's own and Dutch): a
        Turkish word must not be found inside a Dutch one ("paracetamols" is not "para*").
        ``None``: every language."""
        clean = normalise(text).replace("*", " ")
        wanted = None if languages is None else frozenset(languages)
        found = {
            domain_id
            for (domain_id, _, pattern), language in zip(
                self.terms, self.languages or ("",) * len(self.terms), strict=True
            )
            if (wanted is None or language in wanted) and pattern.search(clean)
        }
        return tuple(d for d in DOMAIN_IDS if d in found)
