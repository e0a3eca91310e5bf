"""Checks shared by the per-feature catalog tests (``routing.po``, ``appointments.po``, ...).

Each feature's test says which code uses its ids and which texts are for young people; the
checks themselves (present in all six languages, none unused, same placeholders, translated,
headers, plain Dutch) live here once.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.i18n import catalog_path, load_catalog
from flows.languages import CODES
from tests.test_plain_language import (
    MAX_AVERAGE_SENTENCE,
    MAX_WORDS,
    average_sentence_length,
    words,
)

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANGUAGES = CODES


def domain_catalog(domain: str, language: str) -> dict[str, str]:
    return dict(load_catalog(catalog_path(LOCALES, language, domain), language).entries)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def ids_in_code(
    folders: Iterable[str],
    prefixes: tuple[str, ...],
    f_strings: Mapping[str, tuple[str, ...]],
    *,
    not_ids_in_calls_to: tuple[str, ...] = ("add_count",),
) -> set[str]:
    """Every string constant with one of ``prefixes`` in the code of ``folders`` (ids are often
    chosen into a variable first), with f-string ids expanded from ``f_strings``. Strings handed
    to ``not_ids_in_calls_to`` (metric names) and pieces ending in "." are not ids."""
    found: set[str] = set()
    excluded: set[str] = set()
    for folder in folders:
        for path in sorted((ROOT / folder).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in (
                    not_ids_in_calls_to
                ):
                    excluded.update(
                        a.value
                        for a in node.args
                        if isinstance(a, ast.Constant) and isinstance(a.value, str)
                    )
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if node.value.startswith(prefixes) and " " not in node.value:
                        found.add(node.value)
                elif isinstance(node, ast.JoinedStr):
                    pattern = "".join(
                        str(v.value)
                        if isinstance(v, ast.Constant)
                        else "{" + ast.unparse(v.value) + "}"
                        if isinstance(v, ast.FormattedValue)
                        else ""
                        for v in node.values
                    )
                    if pattern in f_strings:
                        head = pattern.split("{")[0]
                        found.update(head + value for value in f_strings[pattern])
    return {i for i in found - excluded if not i.endswith(".")}


def missing_in_some_language(domain: str, used: set[str]) -> dict[str, list[str]]:
    out = {}
    for language in LANGUAGES:
        entries = domain_catalog(domain, language)
        missing = sorted(i for i in used if not entries.get(i))
        if missing:
            out[language] = missing
    return out


def unused(domain: str, used: set[str]) -> list[str]:
    return sorted(set(domain_catalog(domain, "nl")) - used)


def placeholder_differences(domain: str, language: str) -> list[str]:
    dutch, other = domain_catalog(domain, "nl"), domain_catalog(domain, language)
    problems = []
    if set(other) != set(dutch):
        problems.append(f"ids differ: {sorted(set(other) ^ set(dutch))}")
    problems += [
        message_id
        for message_id, text in dutch.items()
        if message_id in other and placeholders(other[message_id]) != placeholders(text)
    ]
    return problems


def copies_of_dutch(
    domain: str, language: str, young_prefixes: tuple[str, ...], same_as_dutch: frozenset[str]
) -> list[str]:
    dutch, other = domain_catalog(domain, "nl"), domain_catalog(domain, language)
    return sorted(
        i
        for i in dutch
        if i.startswith(young_prefixes) and i not in same_as_dutch and other.get(i) == dutch[i]
    )


def header_problems(domain: str, language: str) -> list[str]:
    text = catalog_path(LOCALES, language, domain).read_text(encoding="utf-8")
    wanted = (
        f'"Language: {language}\\n"',
        '"Content-Type: text/plain; charset=utf-8\\n"',
        '"Plural-Forms: nplurals=',
    )
    return [line for line in wanted if line not in text]


def plain_dutch_problems(text: str) -> list[str]:
    problems = []
    if average_sentence_length(text) > MAX_AVERAGE_SENTENCE:
        problems.append("sentences too long")
    if len(words(text)) > MAX_WORDS:
        problems.append("too many words")
    if [w for w in words(text) if w.lower() in ("u", "uw")]:
        problems.append("says 'u' instead of 'je'")
    return problems
