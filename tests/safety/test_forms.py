"""The committed word-form tables are what ``make safety-forms`` builds from simplemma."""

from __future__ import annotations

import pytest

from bot.safety.forms import (
    SIMPLEMMA_LANGUAGES,
    build_table,
    concept_words,
    read_digests,
    words_digest,
)
from bot.safety.lexicon import load_forms, load_lexicons


def test_english_forms_table_is_up_to_date() -> None:
    # English: the smallest simplemma dictionary, so the check stays quick.
    lexicons = load_lexicons()
    built = build_table("en", concept_words(lexicons["en"]))
    assert built == load_forms()["en"], "run `make safety-forms` and commit the tables"
    assert built["took"] == "take"


@pytest.mark.parametrize("language", sorted(SIMPLEMMA_LANGUAGES))
def test_every_forms_table_was_built_from_the_current_concept_words(language: str) -> None:
    # Rebuilding all five tables here would take half a minute; the digest of the words each
    # was built from says the same about a term added without `make safety-forms` (whose
    # inflections would then never match).
    words = concept_words(load_lexicons()[language])
    assert read_digests().get(language) == words_digest(words), (
        f"{language}: run `make safety-forms` and commit the tables"
    )


def test_a_term_added_without_rebuilding_changes_the_digest() -> None:
    words = concept_words(load_lexicons()["fr"])
    assert words_digest(words | {"tabassage"}) != words_digest(words)
    assert words_digest(sorted(words, reverse=True)) == words_digest(words)
