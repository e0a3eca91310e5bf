"""The six ``routing.po`` catalogs against the code that uses them.

* every ``routing.*``/``coach.*`` id the coach side renders exists, non-empty, in all six;
* no entry is unused; placeholders are the same in every language;
* young people's texts (``routing.*``) are real translations, in plain Dutch B1 in the source;
* coaches' texts (``coach.*``) may be Dutch everywhere, as agreed.
"""

from __future__ import annotations

import pytest

from flows.routing.assign import Criterion
from storage.routing_port import CASE_OUTCOMES
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


def used_ids() -> set[str]:
    # The readable name of the cases part in the /mijngegevens summary lives here too.
    from storage.routing_personal import CasePart

    return ids_in_code(("bot/coach", "bot/routing"), PREFIXES, F_STRINGS) | {
        f"privacy.part.{CasePart.name}"
    }


def test_every_used_id_is_in_every_language() -> None:
    used = used_ids()
    assert "coach.card.title" in used and "routing.handoff.offered" in used
    assert missing_in_some_language(DOMAIN, used) == {}


def test_no_unused_entries() -> None:
    assert unused(DOMAIN, used_ids()) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_same_ids_and_placeholders(language: str) -> None:
    assert placeholder_differences(DOMAIN, language) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_young_peoples_texts_are_translated(language: str) -> None:
    assert copies_of_dutch(DOMAIN, language, ("routing.",), frozenset()) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_headers(language: str) -> None:
    assert header_problems(DOMAIN, language) == []


@pytest.mark.parametrize(
    ("message_id", "text"),
    sorted((i, t) for i, t in domain_catalog(DOMAIN, "nl").items() if i.startswith("routing.")),
)
def test_plain_dutch_for_young_people(message_id: str, text: str) -> None:
    assert plain_dutch_problems(text) == [], text
