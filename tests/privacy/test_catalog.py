"""The privacy catalogs (locales/<lang>/LC_MESSAGES/privacy.po) against bot/privacy.py.

Every id the privacy code can show is translated in all six languages, with the same
placeholders as Dutch, no entry is stale or a copy of Dutch, headers declare the language and
UTF-8, and the Dutch is plain (B1: short sentences, short messages, "je").
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot.i18n import Catalog, catalog_path, load_catalog, load_language
from flows.consent import CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "locales"
LANGUAGES = ("nl", "en", "fr", "ar", "tr", "uk")
DOMAIN = "privacy"
# Ids the privacy code uses from other domains (opstap.po owns them).
BORROWED = frozenset({"privacy.full", "engine.stale_button", "intake.summary.title"})
# Templates that are only placeholders and punctuation.
SAME_AS_DUTCH = frozenset({"privacy.consent.line", "privacy.export.other"})
MAX_WORDS = 60
MAX_AVERAGE_SENTENCE = 15
_WORD = re.compile(r"\{\w+\}|[\w'’@/+.-]*\w[\w'’@/+.-]*")
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n+")


def used_ids() -> set[str]:
    """String constants passed to ``msg(...)`` in bot/privacy.py, plus computed category ids."""
    tree = ast.parse((ROOT / "bot" / "privacy.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "msg" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
            elif isinstance(first, ast.IfExp):
                for branch in (first.body, first.orelse):
                    if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                        found.add(branch.value)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.IfExp):
            for branch in (node.value.body, node.value.orelse):
                if isinstance(branch, ast.Constant) and str(branch.value).startswith("privacy."):
                    found.add(str(branch.value))
    for category in CATEGORIES:
        found.update({f"privacy.category.{category}", f"privacy.category.{category}.about"})
    return found - BORROWED


def catalogs() -> dict[str, Catalog]:
    return {lang: load_catalog(catalog_path(LOCALES, lang, DOMAIN), lang) for lang in LANGUAGES}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_id_is_translated_and_none_is_stale() -> None:
    wanted = used_ids()
    assert "privacy.erase.done" in wanted and "privacy.consent.state.given" in wanted
    for lang, catalog in catalogs().items():
        missing = sorted(wanted - set(catalog.entries))
        empty = sorted(k for k, v in catalog.entries.items() if not v.strip())
        stale = sorted(set(catalog.entries) - wanted)
        assert (missing, empty, stale, sorted(catalog.fuzzy)) == ([], [], [], []), lang


def test_placeholders_match_dutch_and_translations_are_not_copies() -> None:
    found = catalogs()
    dutch = found["nl"].entries
    for lang, catalog in found.items():
        for key, text in catalog.entries.items():
            assert placeholders(text) == placeholders(dutch[key]), (lang, key)
            if lang != "nl" and key not in SAME_AS_DUTCH:
                assert text != dutch[key], (lang, key)


def test_arabic_and_ukrainian_are_in_their_scripts() -> None:
    found = catalogs()
    assert re.search(r"[\u0600-\u06FF]", found["ar"].entries["privacy.erase.ask"])
    assert re.search(r"[\u0400-\u04FF]", found["uk"].entries["privacy.erase.ask"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_headers(language: str) -> None:
    header = catalog_path(LOCALES, language, DOMAIN).read_text(encoding="utf-8")
    assert f'"Language: {language}\\n"' in header
    assert '"Content-Type: text/plain; charset=utf-8\\n"' in header


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_domains_merge_without_clashes(language: str) -> None:
    merged = load_language(LOCALES, language)  # raises on an id in two domain files
    assert "privacy.erase.ask" in merged.entries


def test_the_dutch_is_plain() -> None:
    for key, text in catalogs()["nl"].entries.items():
        words = _WORD.findall(text)
        assert len(words) <= MAX_WORDS, key
        sentences = [s for s in _SENTENCE_END.split(text) if _WORD.findall(s)]
        average = sum(len(_WORD.findall(s)) for s in sentences) / max(len(sentences), 1)
        assert average <= MAX_AVERAGE_SENTENCE, key
        assert not [w for w in words if w.lower() in ("u", "uw")], key
