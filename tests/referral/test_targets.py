"""Target groups per partnership in the directory (``target_group``, ``ages``) and what the
intake gets from them (:func:`bot.routing.place_check.targets_of`)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.routing.gazetteer import load_directory, load_gazetteer
from bot.routing.place_check import targets_of
from flows.intake.flow import YOUTH
from flows.routing.directory import TARGET_GROUPS, AgeRange, check_directory, parse_directory
from flows.routing.places import Gazetteer
from tests.routing.test_directory import _valid


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def with_target(**fields: Any) -> dict[str, Any]:
    mapping = _valid()
    mapping["partnerships"][1].update(fields)
    return mapping


def test_every_shipped_partnership_says_whom_it_serves() -> None:
    directory = load_directory()
    for partnership in directory.partnerships:
        assert partnership.target_group == "youth", partnership.id
        assert partnership.ages == AgeRange(18, 30), partnership.id
    targets = targets_of(directory)
    assert targets.widest == YOUTH
    assert targets.of("Teamwork Halle-Asse") == AgeRange(18, 30)
    assert targets.of("Opstap Vangnet") == AgeRange(18, 30)


def test_a_europa_wse_partnership_also_serves_adults(gazetteer: Gazetteer) -> None:
    directory = parse_directory(with_target(target_group="complex"), gazetteer)
    twee = directory.partnership("twee")
    assert twee is not None and twee.ages == TARGET_GROUPS["complex"] == AgeRange(18, None)
    # Left out: the youth partnerships' range.
    een = directory.partnership("een")
    assert een is not None and (een.target_group, een.ages) == ("youth", AgeRange(18, 30))
    assert targets_of(directory).widest == AgeRange(18, None)
    chosen = parse_directory(with_target(ages={"min": 16, "max": 65}), gazetteer)
    assert targets_of(chosen).of("Twee") == AgeRange(16, 65)
    assert targets_of(chosen).widest == AgeRange(16, 65)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"target_group": "seniors"}, "target_group must be one of youth, complex"),
        ({"ages": {"min": "achttien"}}, "ages.min must be a whole number"),
        ({"ages": {"min": 180}}, "ages.min must be a whole number"),
        ({"ages": {"min": 25, "max": 20}}, "ages.max must be null or a whole number 25-120"),
        ({"ages": {"min": 18, "tot": 30}}, "unknown field 'tot'"),
        ({"ages": [18, 30]}, "expected a mapping"),
        ({"name": "Een"}, "name 'Een' is also the name of 'een'"),
    ],
)
def test_bad_target_settings_are_named(
    gazetteer: Gazetteer, fields: dict[str, Any], problem: str
) -> None:
    problems = check_directory(with_target(**fields), gazetteer)
    assert any(problem in line for line in problems), problems


def test_age_ranges() -> None:
    youth, adults = AgeRange(18, 30), AgeRange(18, None)
    assert youth.holds(18) and youth.holds(30) and not youth.holds(31) and not youth.holds(17)
    assert adults.holds(67) and not adults.holds(17)
    assert youth.widen(AgeRange(16, 25)) == AgeRange(16, 30)
    assert youth.widen(adults) == AgeRange(18, None)
