"""Build the word-form tables of the concept rules from simplemma's dictionaries.

Run: ``python -m bot.safety.forms`` (``make safety-forms``) after changing a concept term.

Rules of this module:

* simplemma ships its dictionaries inside the package: this works offline.  Loading all of
  them takes seconds and hundreds of MB, which the bot must not pay at start-up, so the forms
  the concept terms need are extracted once into ``flows/safety/lexicon/forms/<lang>.json``
  (normalised form -> normalised lemma, sorted: reviewable data) and committed.
* For every single word of every concept term (not the ``*`` prefix words) the lemma is looked
  up; every form whose lemma is one of those lemmas goes into the table, and so does the term
  word itself.  ``tests/safety/test_forms.py`` rebuilds a table and compares it with the file.
* Beside the tables, ``forms/words.sha256`` records a digest of each language's concept words
  as they were when its table was built (one ``<lang> <hex>`` line each).  Rebuilding every
  table in the test suite would cost half a minute and hundreds of MB; comparing digests costs
  nothing and catches the mistake that happens: a term added without ``make safety-forms``,
  so its inflections silently never match (found in the eleventh round, in French and
  Ukrainian).
* Only languages simplemma knows are built (Arabic is not: its rules use prefix words).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bot.safety.lexicon import load_lexicons
from flows.languages import CODES
from flows.safety.concepts import term_words
from flows.safety.detect import normalise

FORMS_DIR = Path(__file__).resolve().parents[2] / "flows" / "safety" / "lexicon" / "forms"
DIGESTS = FORMS_DIR / "words.sha256"
# simplemma has no Arabic data: every supported language but Arabic.
SIMPLEMMA_LANGUAGES = frozenset(CODES) - {"ar"}


def concept_words(doc: Mapping[str, Any]) -> set[str]:
    words: set[str] = set()
    for items in (doc.get("concepts") or {}).values():
        for item in items:
            for w in term_words(item, normalise, "forms"):
                w = w.removeprefix("~")
                if not w.endswith("*") and not w.startswith("=") and w != "#n" and len(w) > 1:
                    words.add(w)
    return words


def words_digest(words: Iterable[str]) -> str:
    """A digest of a set of concept words, independent of their order."""
    return hashlib.sha256("\n".join(sorted(set(words))).encode()).hexdigest()


def read_digests(path: Path = DIGESTS) -> dict[str, str]:
    """Language -> digest of the concept words its table was built from."""
    if not path.is_file():
        return {}
    pairs = (line.split() for line in path.read_text(encoding="utf-8").splitlines())
    return {parts[0]: parts[1] for parts in pairs if len(parts) == 2}


def build_table(language: str, words: Iterable[str]) -> dict[str, str]:
    """Normalised form -> normalised lemma for every form of the given words' lemmas."""
    import simplemma
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    words = set(words)
    lemmas: dict[str, str] = {}
    for w in words:
        lemmas[w] = normalise(simplemma.lemmatize(w, lang=language))
    wanted = set(lemmas.values())
    table: dict[str, str] = {}
    dictionary = DefaultDictionaryFactory().get_dictionary(language)
    for raw_form, raw_lemma in dictionary.items():
        lemma = normalise(raw_lemma.decode() if isinstance(raw_lemma, bytes) else str(raw_lemma))
        if lemma not in wanted:
            continue
        form = normalise(raw_form.decode() if isinstance(raw_form, bytes) else str(raw_form))
        if len(form) > 1 and " " not in form and form != lemma:
            table.setdefault(form, lemma)
    for w, lemma in lemmas.items():
        if w != lemma and " " not in lemma:
            table[w] = lemma
    return dict(sorted(table.items()))


def write_all(languages: Iterable[str] | None = None) -> list[Path]:
    lexicons = load_lexicons()
    FORMS_DIR.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    digests = read_digests()
    for language, doc in sorted(lexicons.items()):
        if language not in SIMPLEMMA_LANGUAGES or (languages and language not in languages):
            continue
        words = concept_words(doc)
        table = build_table(language, words)
        digests[language] = words_digest(words)
        path = FORMS_DIR / f"{language}.json"
        path.write_text(
            json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        written.append(path)
    DIGESTS.write_text(
        "".join(f"{lang} {digests[lang]}\n" for lang in sorted(digests)), encoding="utf-8"
    )
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for path in write_all(args or None):
        print(f"wrote {path.name}: {len(json.loads(path.read_text(encoding='utf-8')))} forms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
