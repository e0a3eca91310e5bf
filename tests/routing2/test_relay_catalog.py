"""The six ``relay.po`` catalogs (files in the relay, the VDAB handover, case teams) against the
code: every id used exists, non-empty, in all six; none unused; placeholders agree; young
people's texts are real translations in plain Dutch B1 in the source. (What coaches read about
these features is ``coach.*`` in ``routing.po``, checked by ``test_catalog.py``.)"""

from __future__ import annotations

import pytest

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

DOMAIN = "relay"
PREFIXES = ("relay.", "handover.", "case_team.")
KINDS = ("photo", "document", "voice")
F_STRINGS: dict[str, tuple[str, ...]] = {"relay.file.from_coach.{kind}": KINDS}


def used_ids() -> set[str]:
    from storage.case_team import CaseTeamPart
    from storage.handovers import HandoverPart
    from storage.relay_files import RelayFilePart

    parts = {f"privacy.part.{p.name}" for p in (RelayFilePart, HandoverPart, CaseTeamPart)}
    return ids_in_code(("bot/coach",), PREFIXES, F_STRINGS) | parts


def test_every_used_id_is_in_every_language() -> None:
    used = used_ids()
    assert "relay.file.wait" in used and "case_team.ask" in used
    assert "relay.file.from_coach.voice" in used
    assert missing_in_some_language(DOMAIN, used) == {}


def test_no_unused_entries() -> None:
    assert unused(DOMAIN, used_ids()) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_same_ids_and_placeholders(language: str) -> None:
    assert placeholder_differences(DOMAIN, language) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_young_peoples_texts_are_translated(language: str) -> None:
    assert copies_of_dutch(DOMAIN, language, PREFIXES, frozenset()) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_headers(language: str) -> None:
    assert header_problems(DOMAIN, language) == []


@pytest.mark.parametrize(
    ("message_id", "text"),
    sorted((i, t) for i, t in domain_catalog(DOMAIN, "nl").items() if i.startswith(PREFIXES)),
)
def test_plain_dutch_for_young_people(message_id: str, text: str) -> None:
    assert plain_dutch_problems(text) == [], text
