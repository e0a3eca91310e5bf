"""The six ``appointments.po`` catalogs against the code that uses them.

* every ``appt.*``/``coach.appt.*`` id the feature renders exists, non-empty, in all six, and
  so do the ``privacy.part.*`` names of its personal-data parts;
* no entry is unused; ids and placeholders are the same in every language;
* young people's texts (``appt.*``) are real translations, plain Dutch B1 in the source;
  coaches' texts (``coach.appt.*``) may be Dutch everywhere, as agreed;
* lock screens: the first line of everything automatic names neither the service nor a
  problem, in every language.
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from bot.i18n import catalog_path, load_catalog
from storage.appointments import AppointmentPart, RatingPart, ReachabilityPart
from tests.test_plain_language import (
    MAX_AVERAGE_SENTENCE,
    MAX_WORDS,
    average_sentence_length,
    words,
)

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "locales"
LANGUAGES = ("nl", "en", "fr", "ar", "tr", "uk")
DOMAIN = "appointments"
PREFIXES = ("appt.", "coach.appt.")
F_STRINGS: dict[str, tuple[str, ...]] = {
    "coach.appt.recorded.{action}": ("came", "missed", "moved"),
    "coach.appt.{action}": ("came", "missed", "moved"),
    "appt.rerate.{kind}": ("three_months", "closing"),
}
# Templates of placeholders and symbols only: the same in every language.
SAME_AS_DUTCH = frozenset({"appt.option", "appt.rerate.line"})
# What shows on a lock screen: the first line of every automatic message.
AUTOMATIC = ("appt.reminder", "appt.missed", "appt.checkin", "appt.rerate.three_months",
             "appt.rerate.closing")
NOT_ON_A_LOCK_SCREEN = ("opstap", "hulp", "help", "schuld", "debt", "crisis", "verslav",
                        "addict", "drug", "werkloos", "vdab", "caw", "ocmw", "jac ")


def catalog(language: str) -> dict[str, str]:
    return dict(load_catalog(catalog_path(LOCALES, language, DOMAIN), language).entries)


def used_ids() -> set[str]:
    found: set[str] = set()
    for path in sorted((ROOT / "bot" / "appointments").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
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
    parts = (AppointmentPart(), RatingPart(), ReachabilityPart())
    found.update(f"privacy.part.{part.name}" for part in parts)
    return {i for i in found if not i.endswith(".")}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_used_id_is_in_every_language() -> None:
    used = used_ids()
    assert {"appt.reminder", "coach.appt.ask_attendance", "coach.appt.recorded.moved"} <= used
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
        if not i.startswith("coach.") and i not in SAME_AS_DUTCH and other[i] == dutch[i]
    )
    assert copies == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_coaches_read_dutch_everywhere(language: str) -> None:
    dutch, other = catalog("nl"), catalog(language)
    assert {i: t for i, t in other.items() if i.startswith("coach.")} == {
        i: t for i, t in dutch.items() if i.startswith("coach.")}


@pytest.mark.parametrize("language", LANGUAGES)
def test_headers(language: str) -> None:
    text = catalog_path(LOCALES, language, DOMAIN).read_text(encoding="utf-8")
    assert f'"Language: {language}\\n"' in text
    assert '"Content-Type: text/plain; charset=utf-8\\n"' in text
    assert '"Plural-Forms: nplurals=' in text


@pytest.mark.parametrize(
    ("message_id", "text"), sorted((i, t) for i, t in catalog("nl").items()
                                   if i.startswith("appt."))
)
def test_plain_dutch_for_young_people(message_id: str, text: str) -> None:
    assert average_sentence_length(text) <= MAX_AVERAGE_SENTENCE, text
    assert len(words(text)) <= MAX_WORDS, text
    assert not [w for w in words(text) if w.lower() in ("u", "uw")], text


@pytest.mark.parametrize("language", LANGUAGES)
def test_lock_screen_lines_name_neither_the_service_nor_a_problem(language: str) -> None:
    entries = catalog(language)
    for message_id in AUTOMATIC:
        first = entries[message_id].split("\n")[0].casefold()
        assert not [w for w in NOT_ON_A_LOCK_SCREEN if w in first], (language, message_id)
