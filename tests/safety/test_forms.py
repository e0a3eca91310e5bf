"""The committed word-form tables are what ``make safety-forms`` builds from simplemma."""

from __future__ import annotations

from bot.safety.forms import build_table, concept_words
from bot.safety.lexicon import load_forms, load_lexicons


def test_english_forms_table_is_up_to_date() -> None:
    # English: the smallest simplemma dictionary, so the check stays quick.
    lexicons = load_lexicons()
    built = build_table("en", concept_words(lexicons["en"]))
    assert built == load_forms()["en"], "run `make safety-forms` and commit the tables"
    assert built["took"] == "take"
