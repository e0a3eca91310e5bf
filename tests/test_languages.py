"""One list of languages (flows/languages.py), and everything agrees with it.

* Every language has a catalog for every domain, and no catalog folder is for a language the
  list does not know.
* The flows offer exactly these languages, the engine understands each one's back and skip
  words, the translator knows which are right to left.
* No other list of language codes is written in ``bot/`` or ``flows/``: a tuple, list or set of
  three or more of the codes anywhere but flows/languages.py fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

from bot.conversations import build_flows
from bot.i18n import DEFAULT_LOCALES_DIR, Translator, available_languages, catalog_files
from flows.languages import BACK_WORDS, CODES, SKIP_WORDS, SOURCE_LANGUAGE, SUPPORTED

ROOT = Path(__file__).resolve().parent.parent


def test_every_language_has_every_domain_and_nothing_more() -> None:
    domains = {p.name for p in catalog_files(DEFAULT_LOCALES_DIR, SOURCE_LANGUAGE)}
    for code in CODES:
        assert {p.name for p in catalog_files(DEFAULT_LOCALES_DIR, code)} == domains, code
    assert set(available_languages(DEFAULT_LOCALES_DIR)) == set(CODES)
    assert CODES[0] == SOURCE_LANGUAGE


def test_the_flows_offer_exactly_the_listed_languages() -> None:
    for flow in build_flows().values():
        assert tuple(flow.languages) == CODES, flow.id


def test_each_language_brings_its_words_and_direction() -> None:
    for language in SUPPORTED:
        assert language.back_words and language.skip_words, language.code
        assert language.back_words <= BACK_WORDS and language.skip_words <= SKIP_WORDS
        assert not language.back_words & language.skip_words
    translator = Translator.from_dir()
    assert {code for code in CODES if translator.is_rtl(code)} == {"ar"}


def _code_lists(tree: ast.AST) -> list[int]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            codes = {e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in CODES}
            if len(codes) >= 3:
                found.append(node.lineno)
    return found


def test_no_other_list_of_languages_is_written_in_the_code() -> None:
    own = ROOT / "flows" / "languages.py"
    lists = {
        f"{path.relative_to(ROOT)}:{line}"
        for folder in ("bot", "flows")
        for path in (ROOT / folder).rglob("*.py")
        if path != own
        for line in _code_lists(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert sorted(lists) == [], "read the languages from flows/languages.py"
