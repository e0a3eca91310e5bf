"""The six ``routing.po`` catalogs against the code that uses them.

* every ``routing.*``/``coach.*`` id the coach side renders exists, non-empty, in all six;
* no entry is unused; placeholders are the same in every language;
* young people's texts (``routing.*``) are real translations, in plain Dutch B1 in the source;
* coaches' texts (``coach.*``) may be Dutch everywhere, as agreed.
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from bot.i18n import catalog_path, load_catalog
from flows.routing.assign import Criterion
from storage.ports import CASE_OUTCOMES
from tests.test_plain_language import (
    MAX_AVERAGE_SENTENCE,
    MAX_WORDS,
    average_sentence_length,
    words,
)

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "locales"
LANGUAGES = ("nl", "en", "fr", "ar", "tr", "uk")
DOMAIN = "routing"
PREFIXES = ("routing.", "coach.")

# The values an f-string id can take.
F_STRINGS: dict[str, tuple[str, ...]] = {
    "coach.card.urgency.{urgency(intake)}": ("high", "medium", "low"),
    "coach.rating.{item.rating}": ("dont_know", "rather_not"),
    "coach.language.{language}": LANGUAGES,
    "coach.language.{case.language}": LANGUAGES,
    "coach.why.by.{decided}": Criterion.__args__,  # type: ignore[attr-defined]
    "coach.outcome.{outcome}": CASE_OUTCOMES,
    "coach.outcome.{o}": CASE_OUTCOMES,
}
# Templates that are only placeholders and symbols, the same in every language.
SAME_AS_DUTCH: frozenset[str] = frozenset()


def catalog(language: str) -> dict[str, str]:
    return dict(load_catalog(catalog_path(LOCALES, language, DOMAIN), language).entries)


def used_ids() -> set[str]:
    """Every ``routing.*``/``coach.*`` string in the coach side's code (ids are often chosen
    into a variable first), except metric names handed to ``add_count``."""
    found: set[str] = set()
    metrics: set[str] = set()
    for folder in ("bot/coach", "bot/routing"):
        for path in sorted((ROOT / folder).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_count":
                    metrics.update(
                        a.value for a in node.args
                        if isinstance(a, ast.Constant) and isinstance(a.value, str)
                    )
                    continue
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if node.value.startswith(PREFIXES) and " " not in node.value:
                        found.add(node.value)
                elif isinstance(node, ast.JoinedStr):
                    pattern = "".join(
                        str(v.value) if isinstance(v, ast.Constant)
                        else "{" + ast.unparse(v.value) + "}"
                        for v in node.values
                    )
                    if pattern in F_STRINGS:
                        head = pattern.split("{")[0]
                        found.update(head + value for value in F_STRINGS[pattern])
    # Constants that are only pieces of f-strings ("coach.language." ...) are not ids.
    return {i for i in found - metrics if not i.endswith(".")}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_used_id_is_in_every_language() -> None:
    used = used_ids()
    assert "coach.card.title" in used and "routing.handoff.offered" in used
    for language in LANGUAGES:
        entries = catalog(language)
        missing = sorted(i for i in used if not entries.get(i))
        assert missing == [], f"{language}: {missing}"


def test_no_unused_entries() -> None:
    assert sorted(set(catalog("nl")) - used_ids()) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_same_ids_and_placeholders(language: str) -> None:
    dutch, other = catalog("nl"), catalog(language)
    assert set(other) == set(dutch)
    for message_id, text in dutch.items():
        assert placeholders(other[message_id]) == placeholders(text), (language, message_id)


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_young_peoples_texts_are_translated(language: str) -> None:
    dutch, other = catalog("nl"), catalog(language)
    copies = sorted(
        i for i in dutch
        if i.startswith("routing.") and i not in SAME_AS_DUTCH and other[i] == dutch[i]
    )
    assert copies == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_headers(language: str) -> None:
    text = catalog_path(LOCALES, language, DOMAIN).read_text(encoding="utf-8")
    assert f'"Language: {language}\\n"' in text
    assert '"Content-Type: text/plain; charset=utf-8\\n"' in text


@pytest.mark.parametrize(
    ("message_id", "text"), sorted((i, t) for i, t in catalog("nl").items()
                                   if i.startswith("routing."))
)
def test_plain_dutch_for_young_people(message_id: str, text: str) -> None:
    assert average_sentence_length(text) <= MAX_AVERAGE_SENTENCE, text
    assert len(words(text)) <= MAX_WORDS, text
    assert not [w for w in words(text) if w.lower() in ("u", "uw")], text
