"""The intake's place check: resolver answers as PlaceCheck values the handoff can route."""

from __future__ import annotations

import pytest

from bot.routing.gazetteer import load_resolver
from bot.routing.place_check import (
    MAX_VALUE_BYTES,
    PlaceValue,
    make_place_check,
    parse_place_value,
    place_value,
)
from flows.ids import PartnershipId
from flows.intake.flow import PlaceCheck

CHECK = make_place_check(load_resolver())
BOEST = "Boest! Your Future"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Leuven",
            PlaceCheck("ok", label="Leuven", value="24062:boest-your-future", partnership=BOEST),
        ),
        (
            "3010 Kessel-Lo",
            PlaceCheck(
                "ok", label="Kessel-Lo (Leuven)", value="24062:boest-your-future", partnership=BOEST
            ),
        ),
        (
            "Winksele",
            PlaceCheck(
                "ok", label="Winksele (Herent)", value="24038:boest-your-future", partnership=BOEST
            ),
        ),
        # A blind spot is a firm answer without a partnership.
        ("Gent", PlaceCheck("ok", label="Gent", value="44021:")),
        (
            "3020",
            PlaceCheck(
                "ambiguous",
                candidates=(("24038:boest-your-future", "Winksele (Herent)"), ("24038:", "Herent")),
                partners=(("24038:boest-your-future", BOEST),),
            ),
        ),
        (
            "Deurne",
            PlaceCheck(
                "ambiguous",
                candidates=(("11002:", "Deurne (Antwerpen)"), ("24020:dash", "Deurne (Diest)")),
                partners=(("24020:dash", "DASH"),),
            ),
        ),
        ("Namur", PlaceCheck("outside_flanders", region="wallonia")),
        ("Brussel", PlaceCheck("outside_flanders", region="brussels")),
        ("blabla", PlaceCheck("unknown")),
    ],
)
def test_resolutions_become_place_checks(text: str, expected: PlaceCheck) -> None:
    assert CHECK(text) == expected


def test_a_typo_is_a_question_not_an_answer() -> None:
    check = CHECK("Lueven")
    assert check.status == "ambiguous" and check.candidates == (
        ("24062:boest-your-future", "Leuven"),
    )


def test_values_fit_a_button_and_read_back() -> None:
    assert place_value("23096", "teamwork-noord-oostrand") == "23096:teamwork-noord-oostrand"
    long = place_value("12345", "a-partnership-with-a-very-long-name")
    assert long == "12345:" and len(long.encode()) <= MAX_VALUE_BYTES
    assert parse_place_value("24062:boest-your-future") == PlaceValue(
        "24062", PartnershipId("boest-your-future")
    )
    assert parse_place_value("44021:") == PlaceValue("44021", None)
    for bad in (None, "_skipped", "Leuven", "123:x", 5):
        assert parse_place_value(bad) is None
    # "place_pick=" + a value stays within the 48 bytes a button value may have.
    for check in (CHECK("3020"), CHECK("1804"), CHECK("Deurne")):
        assert all(len(f"place_pick={v}".encode()) <= 48 for v, _ in check.candidates)
