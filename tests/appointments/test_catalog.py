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

import pytest

from storage.appointments import AppointmentPart, RatingPart, ReachabilityPart
from tests.catalog_checks import (
    LANGUAGES,
    copies_of_dutch,
    domain_catalog,
    header_problems,
    ids_in_code,
    missing_in_some_language,
    placeholder_differences,
    plain_dutch_problems,
    unused,
)

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
AUTOMATIC = (
    "appt.reminder",
    "appt.missed",
    "appt.checkin",
    "appt.rerate.three_months",
    "appt.rerate.closing",
)
NOT_ON_A_LOCK_SCREEN = (
    "opstap",
    "hulp",
    "help",
    "schuld",
    "debt",
    "crisis",
    "verslav",
    "addict",
    "drug",
    "werkloos",
    "vdab",
    "caw",
    "ocmw",
    "jac ",
)


def used_ids() -> set[str]:
    found = ids_in_code(("bot/appointments",), PREFIXES, F_STRINGS)
    parts = (AppointmentPart(), RatingPart(), ReachabilityPart())
    return found | {f"privacy.part.{part.name}" for part in parts}


def test_every_used_id_is_in_every_language() -> None:
    used = used_ids()
    assert {"appt.reminder", "coach.appt.ask_attendance", "coach.appt.recorded.moved"} <= used
    assert missing_in_some_language(DOMAIN, used) == {}


def test_no_unused_entries() -> None:
    assert unused(DOMAIN, used_ids()) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_same_ids_and_placeholders(language: str) -> None:
    assert placeholder_differences(DOMAIN, language) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_young_peoples_texts_are_translated(language: str) -> None:
    assert copies_of_dutch(DOMAIN, language, ("appt.",), SAME_AS_DUTCH) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_coaches_read_dutch_everywhere(language: str) -> None:
    dutch, other = domain_catalog(DOMAIN, "nl"), domain_catalog(DOMAIN, language)
    assert {i: t for i, t in other.items() if i.startswith("coach.")} == {
        i: t for i, t in dutch.items() if i.startswith("coach.")
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_headers(language: str) -> None:
    assert header_problems(DOMAIN, language) == []


@pytest.mark.parametrize(
    ("message_id", "text"),
    sorted((i, t) for i, t in domain_catalog(DOMAIN, "nl").items() if i.startswith("appt.")),
)
def test_plain_dutch_for_young_people(message_id: str, text: str) -> None:
    assert plain_dutch_problems(text) == [], text


@pytest.mark.parametrize("language", LANGUAGES)
def test_lock_screen_lines_name_neither_the_service_nor_a_problem(language: str) -> None:
    entries = domain_catalog(DOMAIN, language)
    for message_id in AUTOMATIC:
        first = entries[message_id].split("\n")[0].casefold()
        assert not [w for w in NOT_ON_A_LOCK_SCREEN if w in first], (language, message_id)
