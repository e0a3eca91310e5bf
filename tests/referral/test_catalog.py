"""The six ``referral.po`` catalogs against the code that uses them.

* every ``referral.*`` id the feature renders exists, non-empty, in all six;
* no entry is unused; placeholders are the same in every language;
* young people's texts (``referral.*``) are real translations, in plain Dutch B1 in the source;
  coaches' texts (``coach.personal_invite*``) may be Dutch everywhere.
"""

from __future__ import annotations

import pytest

from bot.referral.feature import CONSENT_CATEGORY
from storage.referral import ReferralPart
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

DOMAIN = "referral"


def used_ids() -> set[str]:
    return ids_in_code(("bot/referral",), ("referral.", "coach."), {}) | {
        f"privacy.part.{ReferralPart.name}",
        # The consent "connect me to this coach", in /mijngegevens (bot/privacy.py's label).
        f"privacy.category.{CONSENT_CATEGORY}",
    }


def young_ids() -> list[str]:
    return sorted(i for i in domain_catalog(DOMAIN, "nl") if i.startswith("referral."))


def test_every_used_id_is_in_every_language() -> None:
    used = used_ids()
    assert {"referral.invite.ask", "coach.personal_invite", "referral.poster.caption"} <= used
    assert missing_in_some_language(DOMAIN, used) == {}


def test_no_unused_entries() -> None:
    assert unused(DOMAIN, used_ids()) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_same_ids_and_placeholders(language: str) -> None:
    assert placeholder_differences(DOMAIN, language) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_young_peoples_texts_are_translated(language: str) -> None:
    copied = copies_of_dutch(DOMAIN, language, ("referral.", "privacy."), frozenset())
    assert copied == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_headers(language: str) -> None:
    assert header_problems(DOMAIN, language) == []


@pytest.mark.parametrize("message_id", young_ids())
def test_plain_dutch_for_young_people(message_id: str) -> None:
    text = domain_catalog(DOMAIN, "nl")[message_id]
    assert plain_dutch_problems(text) == [], text
